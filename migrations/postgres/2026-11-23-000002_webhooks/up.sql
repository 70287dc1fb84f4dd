CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    -- Space-separated event types (audit action names), or `*` for all.
    events TEXT NOT NULL,
    -- `whsec_` + base64 key: needed in clear to sign deliveries (Standard Webhooks).
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
ALTER TABLE outbox ADD COLUMN endpoint_id TEXT;
ALTER TABLE outbox ADD COLUMN response_status INTEGER;
CREATE INDEX outbox_endpoint_id ON outbox (endpoint_id, id);
