DROP TABLE oauth_refresh_tokens;
