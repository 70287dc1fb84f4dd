-- Insights at 10^6 invitations (issue 14): what became of the invitations, counted per hour and
-- organisation and per day, organisation and inviter, so a year's funnel sums a few thousand
-- rows instead of scanning a million. A statement trigger appends each statement's change to
-- invitation_count_deltas (insert-only, so concurrent writers never wait on a shared counter
-- row); the jobs fold the deltas into the two tables (storage::insights::compact), and the
-- queries read both. "expired" counts invitations the expiry job has marked; those whose time
-- passed since are counted from invitations itself.
-- Writers wait until the counts are filled (no change may fall between the backfill and the
-- trigger); the mode conflicts with itself, so a second process migrating at once waits too
-- instead of deadlocking on a lock upgrade at CREATE TRIGGER.
LOCK TABLE invitations IN SHARE ROW EXCLUSIVE MODE;

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
    id BIGSERIAL PRIMARY KEY,
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

-- Expired but not yet marked by the job: a range scan of expires_at <= now over this index
-- reads only those.
CREATE INDEX invitations_unmarked_expiry ON invitations (expires_at)
    WHERE expired_at IS NULL AND revoked_at IS NULL AND uses = 0 AND bootstrap = FALSE;
-- The median time to accept reads accepted invitations by creation time, from the index alone.
CREATE INDEX invitations_accepted_by_creation ON invitations (created_at)
    INCLUDE (accepted_at, organization_id, inviter_id)
    WHERE accepted_at IS NOT NULL AND bootstrap = FALSE;

-- One invitation's change to each count: `sign` (1 when it appears, -1 when it goes) where the
-- count holds it, else 0.
CREATE FUNCTION invitation_count_change(
    sign INTEGER, delivered_at TIMESTAMP, opened_at TIMESTAMP, uses INTEGER,
    revoked_at TIMESTAMP, declined_at TIMESTAMP, expired_at TIMESTAMP,
    OUT created BIGINT, OUT delivered BIGINT, OUT opened BIGINT, OUT accepted BIGINT,
    OUT expired BIGINT, OUT revoked BIGINT, OUT declined BIGINT
) LANGUAGE sql IMMUTABLE AS $$
    SELECT sign::bigint,
           sign * (delivered_at IS NOT NULL)::int,
           sign * (opened_at IS NOT NULL OR uses > 0)::int,
           sign * (uses > 0)::int,
           sign * (uses = 0 AND revoked_at IS NULL AND expired_at IS NOT NULL)::int,
           sign * (revoked_at IS NOT NULL AND declined_at IS NULL)::int,
           sign * (declined_at IS NOT NULL)::int
$$;

-- Appends what one statement changed, summed per hour, organisation and inviter; an update
-- of other columns cancels out and writes nothing. (A trigger with transition tables serves
-- one event, and each event sees only its own tables: three statements.)
CREATE FUNCTION invitation_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO invitation_count_deltas (hour, organization_id, inviter_type, inviter_id,
            created, delivered, opened, accepted, expired, revoked, declined)
        SELECT date_trunc('hour', r.created_at), COALESCE(r.organization_id, ''), r.inviter_type,
               r.inviter_id, SUM(c.created), SUM(c.delivered), SUM(c.opened), SUM(c.accepted),
               SUM(c.expired), SUM(c.revoked), SUM(c.declined)
        FROM (SELECT 1 AS sign, * FROM new_rows) r,
             LATERAL invitation_count_change(r.sign, r.delivered_at, r.opened_at, r.uses,
                                             r.revoked_at, r.declined_at, r.expired_at) c
        WHERE NOT r.bootstrap
        GROUP BY 1, 2, 3, 4
        HAVING SUM(c.created) <> 0 OR SUM(c.delivered) <> 0 OR SUM(c.opened) <> 0
            OR SUM(c.accepted) <> 0 OR SUM(c.expired) <> 0 OR SUM(c.revoked) <> 0
            OR SUM(c.declined) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO invitation_count_deltas (hour, organization_id, inviter_type, inviter_id,
            created, delivered, opened, accepted, expired, revoked, declined)
        SELECT date_trunc('hour', r.created_at), COALESCE(r.organization_id, ''), r.inviter_type,
               r.inviter_id, SUM(c.created), SUM(c.delivered), SUM(c.opened), SUM(c.accepted),
               SUM(c.expired), SUM(c.revoked), SUM(c.declined)
        FROM (SELECT -1 AS sign, * FROM old_rows) r,
             LATERAL invitation_count_change(r.sign, r.delivered_at, r.opened_at, r.uses,
                                             r.revoked_at, r.declined_at, r.expired_at) c
        WHERE NOT r.bootstrap
        GROUP BY 1, 2, 3, 4
        HAVING SUM(c.created) <> 0 OR SUM(c.delivered) <> 0 OR SUM(c.opened) <> 0
            OR SUM(c.accepted) <> 0 OR SUM(c.expired) <> 0 OR SUM(c.revoked) <> 0
            OR SUM(c.declined) <> 0;
    ELSE
        INSERT INTO invitation_count_deltas (hour, organization_id, inviter_type, inviter_id,
            created, delivered, opened, accepted, expired, revoked, declined)
        SELECT date_trunc('hour', r.created_at), COALESCE(r.organization_id, ''), r.inviter_type,
               r.inviter_id, SUM(c.created), SUM(c.delivered), SUM(c.opened), SUM(c.accepted),
               SUM(c.expired), SUM(c.revoked), SUM(c.declined)
        FROM (SELECT -1 AS sign, * FROM old_rows UNION ALL SELECT 1, * FROM new_rows) r,
             LATERAL invitation_count_change(r.sign, r.delivered_at, r.opened_at, r.uses,
                                             r.revoked_at, r.declined_at, r.expired_at) c
        WHERE NOT r.bootstrap
        GROUP BY 1, 2, 3, 4
        HAVING SUM(c.created) <> 0 OR SUM(c.delivered) <> 0 OR SUM(c.opened) <> 0
            OR SUM(c.accepted) <> 0 OR SUM(c.expired) <> 0 OR SUM(c.revoked) <> 0
            OR SUM(c.declined) <> 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER invitation_counts_insert AFTER INSERT ON invitations
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invitation_counts_track();
CREATE TRIGGER invitation_counts_update AFTER UPDATE ON invitations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invitation_counts_track();
CREATE TRIGGER invitation_counts_delete AFTER DELETE ON invitations
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invitation_counts_track();

-- The invitations that exist today, counted once.
INSERT INTO invitation_counts_hourly
SELECT date_trunc('hour', i.created_at), COALESCE(i.organization_id, ''), SUM(c.created),
       SUM(c.delivered), SUM(c.opened), SUM(c.accepted), SUM(c.expired), SUM(c.revoked),
       SUM(c.declined)
FROM invitations i,
     LATERAL invitation_count_change(1, i.delivered_at, i.opened_at, i.uses, i.revoked_at,
                                     i.declined_at, i.expired_at) c
WHERE NOT i.bootstrap
GROUP BY 1, 2;
INSERT INTO invitation_counts_daily
SELECT date_trunc('day', i.created_at), COALESCE(i.organization_id, ''), i.inviter_type,
       i.inviter_id, SUM(c.created), SUM(c.delivered), SUM(c.opened), SUM(c.accepted),
       SUM(c.expired), SUM(c.revoked), SUM(c.declined)
FROM invitations i,
     LATERAL invitation_count_change(1, i.delivered_at, i.opened_at, i.uses, i.revoked_at,
                                     i.declined_at, i.expired_at) c
WHERE NOT i.bootstrap
GROUP BY 1, 2, 3, 4;
