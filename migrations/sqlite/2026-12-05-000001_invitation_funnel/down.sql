DROP INDEX invitations_created_at;
ALTER TABLE invitations DROP COLUMN opened_at;
ALTER TABLE invitations DROP COLUMN delivered_at;
