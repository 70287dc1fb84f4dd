-- A session's previous refresh token exists only after its first rotation, and every lookup
-- compares it with a value: a partial index leaves the new sessions of registrations and
-- sign-ins out, which saves an index write on each of them.
DROP INDEX sessions_previous_refresh_token_hash;
CREATE INDEX sessions_previous_refresh_token_hash ON sessions (previous_refresh_token_hash)
    WHERE previous_refresh_token_hash IS NOT NULL;
