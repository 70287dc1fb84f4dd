DROP INDEX invitations_reminder_due;
ALTER TABLE invitations DROP COLUMN expired_at;
