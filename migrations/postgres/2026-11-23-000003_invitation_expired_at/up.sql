ALTER TABLE invitations ADD COLUMN expired_at TIMESTAMP;
CREATE INDEX invitations_reminder_due ON invitations (reminded_at, expires_at);
