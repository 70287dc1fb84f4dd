-- Invitations for an app: after registering, the invitee is sent to the client's
-- initiate_login_uri (OpenID Connect Core §4). Holds the OAuth client_id; a deleted client
-- leaves a name that finds nothing, and the invitee stays in Invitegate.
ALTER TABLE invitations ADD COLUMN client_id TEXT;
