-- OpenID Provider: the relying parties (OAuth clients) an administrator registered, and the
-- grants made to them. A grant is born with its authorization code (single use, <= 60 s, bound
-- to the client, the redirect URI and the PKCE challenge); exchanging the code sets
-- code_used_at and, under offline_access, a refresh token that rotates on use.
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    initiate_login_uri TEXT,
    id_token_signed_response_alg TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT
);

CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    session_id TEXT NOT NULL REFERENCES sessions (id),
    scope TEXT NOT NULL,
    nonce TEXT,
    auth_time TIMESTAMP NOT NULL,
    code_hash TEXT NOT NULL UNIQUE,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    code_expires_at TIMESTAMP NOT NULL,
    code_used_at TIMESTAMP,
    refresh_token_hash TEXT UNIQUE,
    previous_refresh_token_hash TEXT,
    refresh_expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX oauth_grants_by_session ON oauth_grants (session_id);
CREATE INDEX oauth_grants_by_previous_refresh ON oauth_grants (previous_refresh_token_hash);
