-- Headless redemptions: a host app that keeps its own accounts uses an invitation in its own
-- sign-up (POST /api/v1/invitations/redeem); no Invitegate account is made, so the redemption
-- is recorded here.
CREATE TABLE redemptions (
    id TEXT PRIMARY KEY,
    invitation_id TEXT NOT NULL REFERENCES invitations (id),
    email TEXT NOT NULL,
    external_id TEXT,
    api_key_id TEXT,
    redeemed_at TIMESTAMP NOT NULL
);
CREATE INDEX redemptions_by_invitation ON redemptions (invitation_id, id);
