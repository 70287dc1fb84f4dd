DROP INDEX invitations_by_organization;
ALTER TABLE invitations DROP COLUMN organization_role;
ALTER TABLE invitations DROP COLUMN organization_id;
DROP INDEX memberships_by_user;
DROP TABLE memberships;
DROP TABLE organizations;
