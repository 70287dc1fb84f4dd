ALTER TABLE email_verifications ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
