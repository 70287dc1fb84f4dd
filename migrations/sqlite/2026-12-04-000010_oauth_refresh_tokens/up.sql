-- Every refresh token a grant was given, so that presenting any earlier one (not only the
-- last rotated) is recognised as a replay and revokes the grant (RFC 9700 §4.14.2).
CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_refresh_tokens_by_grant ON oauth_refresh_tokens (grant_id);
