-- Invitegate schema (SQLite). Types stay within what SQLite shares: TEXT, BIGINT,
-- INTEGER, BOOLEAN, TIMESTAMP (UTC). Ids are UUIDv7 text, so ORDER BY id is time order.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    display_name TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP,
    invited_by_type TEXT,
    invited_by_id TEXT,
    invitation_id TEXT,
    -- Bumped under the row lock that serialises a member's invitation creations (quota).
    invitation_serial BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT,
    -- Equals email while the invitation may still be redeemed; unique so that one address
    -- never has two live invitations, even under concurrent creation.
    pending_email TEXT UNIQUE,
    email_domain TEXT,
    role TEXT NOT NULL,
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at TIMESTAMP,
    inviter_type TEXT NOT NULL,
    inviter_id TEXT NOT NULL,
    note TEXT,
    bootstrap BOOLEAN NOT NULL DEFAULT 0,
    reminded_at TIMESTAMP
);
CREATE INDEX invitations_inviter_id ON invitations (inviter_id, id);
CREATE INDEX invitations_email ON invitations (email, id);
CREATE INDEX invitations_expires_at ON invitations (expires_at);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    refresh_token_hash TEXT NOT NULL UNIQUE,
    previous_refresh_token_hash TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_previous_refresh_token_hash ON sessions (previous_refresh_token_hash);

CREATE TABLE email_verifications (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    display_name TEXT,
    invitation_id TEXT,
    basis TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
CREATE INDEX email_verifications_email ON email_verifications (email);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    actor_type TEXT,
    actor_id TEXT,
    target_type TEXT,
    target_id TEXT,
    ip TEXT,
    user_agent TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_action ON audit_events (action, id);
CREATE INDEX audit_events_actor_id ON audit_events (actor_id, id);
CREATE INDEX audit_events_target_id ON audit_events (target_id, id);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- One row; SQLite write transactions touch it first so they take the write lock up front.
CREATE TABLE write_lock (
    id INTEGER PRIMARY KEY,
    counter BIGINT NOT NULL
);
INSERT INTO write_lock (id, counter) VALUES (1, 0);
