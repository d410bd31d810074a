-- Weekly digests (filled in by the digest work).
--
-- One row per ISO week: the week's key is claimed (status 'building', an
-- owner and a lease) before anything is sent, so two processes never send
-- the same week twice. Times are Unix milliseconds (UTC).

CREATE TABLE digests (
	week        TEXT    PRIMARY KEY,          -- ISO 8601 week, '2026-W47'
	timezone    TEXT    NOT NULL,             -- IANA zone the week was cut in
	start_at    INTEGER NOT NULL,             -- Monday 00:00 in timezone
	end_at      INTEGER NOT NULL,             -- the next Monday 00:00
	status      TEXT    NOT NULL,             -- building, sent, partial, failed, stored
	owner       TEXT    NOT NULL DEFAULT '',  -- the process holding (or last holding) the claim
	lease_until INTEGER NOT NULL DEFAULT 0,   -- the claim lapses after this; 0 once released
	claimed_at  INTEGER NOT NULL,
	built_at    INTEGER NOT NULL DEFAULT 0,
	summary     TEXT    NOT NULL DEFAULT '',
	markdown    TEXT    NOT NULL DEFAULT '',
	html        TEXT    NOT NULL DEFAULT '',
	text        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX digests_start ON digests (start_at);

-- The latest delivery outcome per week and target.
CREATE TABLE digest_deliveries (
	week     TEXT    NOT NULL REFERENCES digests (week) ON DELETE CASCADE,
	target   TEXT    NOT NULL,                -- the target's name, unique in the config
	seq      INTEGER NOT NULL,                -- the target's place in the config, for display order
	type     TEXT    NOT NULL,                -- file, email, discord, mastodon
	ok       INTEGER NOT NULL,
	attempts INTEGER NOT NULL,
	error    TEXT    NOT NULL DEFAULT '',
	detail   TEXT    NOT NULL DEFAULT '',
	at       INTEGER NOT NULL,
	PRIMARY KEY (week, target)
);

-- Reading a week's drafts and audit entries by when they were decided.
CREATE INDEX drafts_decided ON drafts (decided_at) WHERE decided_at != 0;
CREATE INDEX drafts_created ON drafts (created_at);
