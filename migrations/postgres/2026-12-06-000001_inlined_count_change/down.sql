DROP FUNCTION invitation_count_change(INTEGER, TIMESTAMP, TIMESTAMP, INTEGER, TIMESTAMP, TIMESTAMP, TIMESTAMP);
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
