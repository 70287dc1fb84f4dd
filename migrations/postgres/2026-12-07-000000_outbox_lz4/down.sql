DO $$
BEGIN
    EXECUTE 'ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION default';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    NULL;
END $$;
