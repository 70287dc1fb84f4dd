DROP INDEX users_invited_by_id;
DROP INDEX users_created_at;
