-- PostgreSQL inlines a SQL function called in FROM only when it returns a set; one of OUT
-- parameters is called through the function manager instead, which parses and plans its body
-- again on each run of the trigger's statement: 9 % of the database's CPU while registrations
-- saturated the machine (perf, docs/performance.md). The same rows, as a one-row set.
DROP FUNCTION invitation_count_change(INTEGER, TIMESTAMP, TIMESTAMP, INTEGER, TIMESTAMP, TIMESTAMP, TIMESTAMP);
CREATE FUNCTION invitation_count_change(
    sign INTEGER, delivered_at TIMESTAMP, opened_at TIMESTAMP, uses INTEGER,
    revoked_at TIMESTAMP, declined_at TIMESTAMP, expired_at TIMESTAMP
) RETURNS TABLE (
    created BIGINT, delivered BIGINT, opened BIGINT, accepted BIGINT, expired BIGINT,
    revoked BIGINT, declined BIGINT
) LANGUAGE sql IMMUTABLE AS $$
    SELECT sign::bigint,
           (sign * (delivered_at IS NOT NULL)::int)::bigint,
           (sign * (opened_at IS NOT NULL OR uses > 0)::int)::bigint,
           (sign * (uses > 0)::int)::bigint,
           (sign * (uses = 0 AND revoked_at IS NULL AND expired_at IS NOT NULL)::int)::bigint,
           (sign * (revoked_at IS NOT NULL AND declined_at IS NULL)::int)::bigint,
           (sign * (declined_at IS NOT NULL)::int)::bigint
$$;
