-- Insights at 10^6 invitations (issue 14): what became of the invitations, counted per hour and
-- organisation and per day, organisation and inviter (see the PostgreSQL migration). SQLite has
-- one writer at a time, so row triggers update the counts directly and
-- invitation_count_deltas stays empty; it exists so both backends have one schema.
CREATE TABLE invitation_counts_hourly (
    hour TIMESTAMP NOT NULL,
    organization_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    opened BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    expired BIGINT NOT NULL,
    revoked BIGINT NOT NULL,
    declined BIGINT NOT NULL,
    PRIMARY KEY (hour, organization_id)
);

CREATE TABLE invitation_counts_daily (
    day TIMESTAMP NOT NULL,
    organization_id TEXT NOT NULL,
    inviter_type TEXT NOT NULL,
    inviter_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    opened BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    expired BIGINT NOT NULL,
    revoked BIGINT NOT NULL,
    declined BIGINT NOT NULL,
    PRIMARY KEY (day, organization_id, inviter_type, inviter_id)
);
CREATE INDEX invitation_counts_daily_by_inviter ON invitation_counts_daily (inviter_id, day);

CREATE TABLE invitation_count_deltas (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    hour TIMESTAMP NOT NULL,
    organization_id TEXT NOT NULL,
    inviter_type TEXT NOT NULL,
    inviter_id TEXT NOT NULL,
    created BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    opened BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    expired BIGINT NOT NULL,
    revoked BIGINT NOT NULL,
    declined BIGINT NOT NULL
);

CREATE INDEX invitations_unmarked_expiry ON invitations (expires_at)
    WHERE expired_at IS NULL AND revoked_at IS NULL AND uses = 0 AND bootstrap = FALSE;
CREATE INDEX invitations_accepted_by_creation ON invitations (created_at, accepted_at)
    WHERE accepted_at IS NOT NULL AND bootstrap = FALSE;

CREATE TRIGGER invitation_counts_insert AFTER INSERT ON invitations
BEGIN
    INSERT INTO invitation_counts_hourly (hour, organization_id, created, delivered, opened, accepted, expired, revoked, declined)
    SELECT substr(NEW.created_at, 1, 13) || ':00:00', COALESCE(NEW.organization_id, ''),
           1, (NEW.delivered_at IS NOT NULL), (NEW.opened_at IS NOT NULL OR NEW.uses > 0), (NEW.uses > 0), (NEW.uses = 0 AND NEW.revoked_at IS NULL AND NEW.expired_at IS NOT NULL), (NEW.revoked_at IS NOT NULL AND NEW.declined_at IS NULL), (NEW.declined_at IS NOT NULL)
    WHERE NOT NEW.bootstrap
    ON CONFLICT (hour, organization_id) DO UPDATE SET created = created + excluded.created, delivered = delivered + excluded.delivered, opened = opened + excluded.opened, accepted = accepted + excluded.accepted, expired = expired + excluded.expired, revoked = revoked + excluded.revoked, declined = declined + excluded.declined;
    INSERT INTO invitation_counts_daily (day, organization_id, inviter_type, inviter_id, created, delivered, opened, accepted, expired, revoked, declined)
    SELECT substr(NEW.created_at, 1, 10) || ' 00:00:00', COALESCE(NEW.organization_id, ''),
           NEW.inviter_type, NEW.inviter_id, 1, (NEW.delivered_at IS NOT NULL), (NEW.opened_at IS NOT NULL OR NEW.uses > 0), (NEW.uses > 0), (NEW.uses = 0 AND NEW.revoked_at IS NULL AND NEW.expired_at IS NOT NULL), (NEW.revoked_at IS NOT NULL AND NEW.declined_at IS NULL), (NEW.declined_at IS NOT NULL)
    WHERE NOT NEW.bootstrap
    ON CONFLICT (day, organization_id, inviter_type, inviter_id) DO UPDATE SET created = created + excluded.created, delivered = delivered + excluded.delivered, opened = opened + excluded.opened, accepted = accepted + excluded.accepted, expired = expired + excluded.expired, revoked = revoked + excluded.revoked, declined = declined + excluded.declined;
END;

CREATE TRIGGER invitation_counts_update AFTER UPDATE OF created_at, organization_id,
    inviter_type, inviter_id, delivered_at, opened_at, uses, revoked_at, declined_at,
    expired_at, bootstrap ON invitations
BEGIN
    INSERT INTO invitation_counts_hourly (hour, organization_id, created, delivered, opened, accepted, expired, revoked, declined)
    SELECT substr(OLD.created_at, 1, 13) || ':00:00', COALESCE(OLD.organization_id, ''),
           -1, -(OLD.delivered_at IS NOT NULL), -(OLD.opened_at IS NOT NULL OR OLD.uses > 0), -(OLD.uses > 0), -(OLD.uses = 0 AND OLD.revoked_at IS NULL AND OLD.expired_at IS NOT NULL), -(OLD.revoked_at IS NOT NULL AND OLD.declined_at IS NULL), -(OLD.declined_at IS NOT NULL)
    WHERE NOT OLD.bootstrap
    ON CONFLICT (hour, organization_id) DO UPDATE SET created = created + excluded.created, delivered = delivered + excluded.delivered, opened = opened + excluded.opened, accepted = accepted + excluded.accepted, expired = expired + excluded.expired, revoked = revoked + excluded.revoked, declined = declined + excluded.declined;
    INSERT INTO invitation_counts_daily (day, organization_id, inviter_type, inviter_id, created, delivered, opened, accepted, expired, revoked, declined)
    SELECT substr(OLD.created_at, 1, 10) || ' 00:00:00', COALESCE(OLD.organization_id, ''),
           OLD.inviter_type, OLD.inviter_id, -1, -(OLD.delivered_at IS NOT NULL), -(OLD.opened_at IS NOT NULL OR OLD.uses > 0), -(OLD.uses > 0), -(OLD.uses = 0 AND OLD.revoked_at IS NULL AND OLD.expired_at IS NOT NULL), -(OLD.revoked_at IS NOT NULL AND OLD.declined_at IS NULL), -(OLD.declined_at IS NOT NULL)
    WHERE NOT OLD.bootstrap
    ON CONFLICT (day, organization_id, inviter_type, inviter_id) DO UPDATE SET created = created + excluded.created, delivered = delivered + excluded.delivered, opened = opened + excluded.opened, accepted = accepted + excluded.accepted, expired = expired + excluded.expired, revoked = revoked + excluded.revoked, declined = declined + excluded.declined;
    INSERT INTO invitation_counts_hourly (hour, organization_id, created, delivered, opened, accepted, expired, revoked, declined)
    SELECT substr(NEW.created_at, 1, 13) || ':00:00', COALESCE(NEW.organization_id, ''),
           1, (NEW.delivered_at IS NOT NULL), (NEW.opened_at IS NOT NULL OR NEW.uses > 0), (NEW.uses > 0), (NEW.uses = 0 AND NEW.revoked_at IS NULL AND NEW.expired_at IS NOT NULL), (NEW.revoked_at IS NOT NULL AND NEW.declined_at IS NULL), (NEW.declined_at IS NOT NULL)
    WHERE NOT NEW.bootstrap
    ON CONFLICT (hour, organization_id) DO UPDATE SET created = created + excluded.created, delivered = delivered + excluded.delivered, opened = opened + excluded.opened, accepted = accepted + excluded.accepted, expired = expired + excluded.expired, revoked = revoked + excluded.revoked, declined = declined + excluded.declined;
    INSERT INTO invitation_counts_daily (day, organization_id, inviter_type, inviter_id, created, delivered, opened, accepted, expired, revoked, declined)
    SELECT substr(NEW.created_at, 1, 10) || ' 00:00:00', COALESCE(NEW.organization_id, ''),
           NEW.inviter_type, NEW.inviter_id, 1, (NEW.delivered_at IS NOT NULL), (NEW.opened_at IS NOT NULL OR NEW.uses > 0), (NEW.uses > 0), (NEW.uses = 0 AND NEW.revoked_at IS NULL AND NEW.expired_at IS NOT NULL), (NEW.revoked_at IS NOT NULL AND NEW.declined_at IS NULL), (NEW.declined_at IS NOT NULL)
    WHERE NOT NEW.bootstrap
    ON CONFLICT (day, organization_id, inviter_type, inviter_id) DO UPDATE SET created = created + excluded.created, delivered = delivered + excluded.delivered, opened = opened + excluded.opened, accepted = accepted + excluded.accepted, expired = expired + excluded.expired, revoked = revoked + excluded.revoked, declined = declined + excluded.declined;
END;

CREATE TRIGGER invitation_counts_delete AFTER DELETE ON invitations
BEGIN
    INSERT INTO invitation_counts_hourly (hour, organization_id, created, delivered, opened, accepted, expired, revoked, declined)
    SELECT substr(OLD.created_at, 1, 13) || ':00:00', COALESCE(OLD.organization_id, ''),
           -1, -(OLD.delivered_at IS NOT NULL), -(OLD.opened_at IS NOT NULL OR OLD.uses > 0), -(OLD.uses > 0), -(OLD.uses = 0 AND OLD.revoked_at IS NULL AND OLD.expired_at IS NOT NULL), -(OLD.revoked_at IS NOT NULL AND OLD.declined_at IS NULL), -(OLD.declined_at IS NOT NULL)
    WHERE NOT OLD.bootstrap
    ON CONFLICT (hour, organization_id) DO UPDATE SET created = created + excluded.created, delivered = delivered + excluded.delivered, opened = opened + excluded.opened, accepted = accepted + excluded.accepted, expired = expired + excluded.expired, revoked = revoked + excluded.revoked, declined = declined + excluded.declined;
    INSERT INTO invitation_counts_daily (day, organization_id, inviter_type, inviter_id, created, delivered, opened, accepted, expired, revoked, declined)
    SELECT substr(OLD.created_at, 1, 10) || ' 00:00:00', COALESCE(OLD.organization_id, ''),
           OLD.inviter_type, OLD.inviter_id, -1, -(OLD.delivered_at IS NOT NULL), -(OLD.opened_at IS NOT NULL OR OLD.uses > 0), -(OLD.uses > 0), -(OLD.uses = 0 AND OLD.revoked_at IS NULL AND OLD.expired_at IS NOT NULL), -(OLD.revoked_at IS NOT NULL AND OLD.declined_at IS NULL), -(OLD.declined_at IS NOT NULL)
    WHERE NOT OLD.bootstrap
    ON CONFLICT (day, organization_id, inviter_type, inviter_id) DO UPDATE SET created = created + excluded.created, delivered = delivered + excluded.delivered, opened = opened + excluded.opened, accepted = accepted + excluded.accepted, expired = expired + excluded.expired, revoked = revoked + excluded.revoked, declined = declined + excluded.declined;
END;

-- The invitations that exist today, counted once.
INSERT INTO invitation_counts_hourly (hour, organization_id, created, delivered, opened, accepted, expired, revoked, declined)
SELECT substr(i.created_at, 1, 13) || ':00:00', COALESCE(i.organization_id, ''),
       COUNT(*), SUM(i.delivered_at IS NOT NULL), SUM(i.opened_at IS NOT NULL OR i.uses > 0),
       SUM(i.uses > 0), SUM(i.uses = 0 AND i.revoked_at IS NULL AND i.expired_at IS NOT NULL),
       SUM(i.revoked_at IS NOT NULL AND i.declined_at IS NULL), SUM(i.declined_at IS NOT NULL)
FROM invitations i WHERE NOT i.bootstrap GROUP BY 1, 2;
INSERT INTO invitation_counts_daily (day, organization_id, inviter_type, inviter_id, created, delivered, opened, accepted, expired, revoked, declined)
SELECT substr(i.created_at, 1, 10) || ' 00:00:00', COALESCE(i.organization_id, ''),
       i.inviter_type, i.inviter_id,
       COUNT(*), SUM(i.delivered_at IS NOT NULL), SUM(i.opened_at IS NOT NULL OR i.uses > 0),
       SUM(i.uses > 0), SUM(i.uses = 0 AND i.revoked_at IS NULL AND i.expired_at IS NOT NULL),
       SUM(i.revoked_at IS NOT NULL AND i.declined_at IS NULL), SUM(i.declined_at IS NOT NULL)
FROM invitations i WHERE NOT i.bootstrap GROUP BY 1, 2, 3, 4;
