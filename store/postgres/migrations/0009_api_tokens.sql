-- Bearer tokens of the REST API. Only the SHA-256 of each token is kept
-- (hash); last_used_at is written at most about once a minute per token.
CREATE TABLE api_tokens (
	id           BIGSERIAL PRIMARY KEY,
	name         TEXT   NOT NULL,
	role         TEXT   NOT NULL CHECK (role IN ('admin', 'manager', 'agent')),
	hash         TEXT   NOT NULL UNIQUE,
	created_by   TEXT   NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX api_tokens_name ON api_tokens (lower(name));
