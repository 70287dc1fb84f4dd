-- The backfilled rows stay: they are what a later replay is recognised by.
SELECT 1;
