-- Fixed-window counters every node shares: per-IP failures, per-account login failures,
-- per-recipient email budgets, per-inviter creations. `window_start`/`window_end` are Unix
-- seconds; rows are pruned once their window has passed.
CREATE TABLE rate_counters (
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    window_end BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_counters_hot ON rate_counters (window_end, count);
