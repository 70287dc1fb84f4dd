-- The password of a registration that must prove its email is chosen on the verification
-- page, never at /register (pre-hijacking): pending rows hold no password.
ALTER TABLE email_verifications DROP COLUMN password_hash;
