DROP INDEX outbox_endpoint_id;
ALTER TABLE outbox DROP COLUMN response_status;
ALTER TABLE outbox DROP COLUMN endpoint_id;
DROP TABLE webhook_endpoints;
