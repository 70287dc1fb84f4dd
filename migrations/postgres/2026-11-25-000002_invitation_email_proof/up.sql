-- Invitations whose token was handed to an inviter who must not choose the invitee's password
-- (members): redeeming one proves the address by email first, like a domain invitation.
ALTER TABLE invitations ADD COLUMN email_proof_required BOOLEAN NOT NULL DEFAULT FALSE;
