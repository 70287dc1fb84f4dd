DROP INDEX acceptance_proofs_expires_at;
DROP INDEX password_resets_expires_at;
DROP INDEX email_verifications_expires_at;
DROP INDEX sessions_expires_at;
