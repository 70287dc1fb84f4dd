ALTER TABLE invitations DROP COLUMN declined_at;
