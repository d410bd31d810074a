-- Accounts erased with --block: their future posts are not stored. key is
-- parley.TombstoneKey (a SHA-256 of platform and platform id), so the
-- tombstone does not hold the id it blocks.
CREATE TABLE tombstones (
	key TEXT PRIMARY KEY,
	platform TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
