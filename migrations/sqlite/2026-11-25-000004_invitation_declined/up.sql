-- An invitee who declines ends the invitation: it is also marked revoked, so every rule that
-- treats a revoked invitation as over (redemption, the address reservation, the inviter's
-- quota) holds for a declined one.
ALTER TABLE invitations ADD COLUMN declined_at TIMESTAMP;
