-- Bumped by every role change. Tokens carry the version they were issued at, so a role change
-- revokes every older token of the account.
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
