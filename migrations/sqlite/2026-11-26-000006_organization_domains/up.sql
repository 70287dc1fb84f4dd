-- Email domains an organisation claims (one organisation per domain) and what they do for
-- accounts at them; requests to join through a `suggest` domain, at most one pending per
-- account and organisation.
CREATE TABLE organization_domains (
    domain TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    policy TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX organization_domains_by_organization ON organization_domains (organization_id, domain);

CREATE TABLE join_requests (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by TEXT
);
CREATE INDEX join_requests_by_organization ON join_requests (organization_id, state, id);
CREATE UNIQUE INDEX join_requests_one_pending ON join_requests (organization_id, user_id) WHERE state = 'pending';

-- Who left or was removed from an organisation: an `auto_join` domain never brings them back
-- (an explicit invitation or an approved request still may).
CREATE TABLE membership_exits (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    left_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
