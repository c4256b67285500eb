-- Spent refresh tokens, revoked sessions and logged-out access tokens, when no Redis holds them:
-- the embedded default keeps them across restarts. expires_at is Unix microseconds, and a row past
-- it means nothing and is swept.
CREATE TABLE revocations (
    token_key  VARCHAR(128) NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX idx_revocations_expires_at ON revocations (expires_at);
