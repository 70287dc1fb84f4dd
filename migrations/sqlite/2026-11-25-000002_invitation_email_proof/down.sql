ALTER TABLE invitations DROP COLUMN email_proof_required;
