-- Bearer tokens of the REST API. Only the SHA-256 of each token is kept
-- (hash); last_used_at is written at most about once a minute per token.
CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY,
	name         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	role         TEXT    NOT NULL CHECK (role IN ('admin', 'manager', 'agent')),
	hash         TEXT    NOT NULL UNIQUE,
	created_by   TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0
);
