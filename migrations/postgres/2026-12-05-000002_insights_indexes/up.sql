-- Insights: registrations per day scan users by creation time; invite trees walk users by inviter.
CREATE INDEX users_created_at ON users (created_at);
CREATE INDEX users_invited_by_id ON users (invited_by_id);
