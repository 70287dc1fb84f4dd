DROP TRIGGER invitation_counts_delete;
DROP TRIGGER invitation_counts_update;
DROP TRIGGER invitation_counts_insert;
DROP INDEX invitations_accepted_by_creation;
DROP INDEX invitations_unmarked_expiry;
DROP TABLE invitation_count_deltas;
DROP TABLE invitation_counts_daily;
DROP TABLE invitation_counts_hourly;
