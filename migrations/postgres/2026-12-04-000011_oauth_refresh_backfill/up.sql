-- Grants made before oauth_refresh_tokens existed: record their current and previous refresh
-- tokens, so that a replay of either is still recognised and revokes the grant.
INSERT INTO oauth_refresh_tokens (token_hash, grant_id, created_at)
SELECT refresh_token_hash, id, created_at FROM oauth_grants
WHERE refresh_token_hash IS NOT NULL
  AND refresh_token_hash NOT IN (SELECT token_hash FROM oauth_refresh_tokens);
INSERT INTO oauth_refresh_tokens (token_hash, grant_id, created_at)
SELECT previous_refresh_token_hash, id, created_at FROM oauth_grants
WHERE previous_refresh_token_hash IS NOT NULL
  AND previous_refresh_token_hash NOT IN (SELECT token_hash FROM oauth_refresh_tokens);
