ALTER TABLE invitations DROP COLUMN client_id;
