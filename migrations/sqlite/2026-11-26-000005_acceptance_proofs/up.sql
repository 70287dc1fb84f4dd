-- Seed 003: a signed-in account that accepts an invitation addressed to another email must prove
-- it owns that address. A proof is a single-use emailed link, bound to the invitation and to the
-- account that asked for it; only its hash is stored.
CREATE TABLE acceptance_proofs (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    invitation_id TEXT NOT NULL REFERENCES invitations (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
