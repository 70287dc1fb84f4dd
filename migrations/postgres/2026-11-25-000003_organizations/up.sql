-- Organisations (teams, workspaces, customer accounts inside the host app) and who belongs to
-- them. An invitation may carry one: accepting it makes the invitee a member.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    members_can_invite BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    invited_by_type TEXT,
    invited_by_id TEXT,
    joined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);

-- "My organisations" stays an index range however many members there are.
CREATE INDEX memberships_by_user ON memberships (user_id, organization_id);

ALTER TABLE invitations ADD COLUMN organization_id TEXT REFERENCES organizations (id);
ALTER TABLE invitations ADD COLUMN organization_role TEXT;
CREATE INDEX invitations_by_organization ON invitations (organization_id, id);
