-- The retention jobs find rows past their expiry by these columns, a bounded batch per round.
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX email_verifications_expires_at ON email_verifications (expires_at);
CREATE INDEX password_resets_expires_at ON password_resets (expires_at);
CREATE INDEX acceptance_proofs_expires_at ON acceptance_proofs (expires_at);
