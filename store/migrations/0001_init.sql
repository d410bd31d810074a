-- The core schema: people, threads, mentions, drafts, audit log, cursors.
-- Times are Unix milliseconds (UTC).

CREATE TABLE people (
	id             INTEGER PRIMARY KEY,
	platform       TEXT    NOT NULL,
	external_id    TEXT    NOT NULL,
	handle         TEXT    NOT NULL DEFAULT '',
	name           TEXT    NOT NULL DEFAULT '',
	followers      INTEGER NOT NULL DEFAULT 0,
	nobot          INTEGER NOT NULL DEFAULT 0,
	timezone       TEXT    NOT NULL DEFAULT '',
	first_seen     INTEGER NOT NULL,
	last_seen      INTEGER NOT NULL,
	mentions       INTEGER NOT NULL DEFAULT 0,
	positive       INTEGER NOT NULL DEFAULT 0,
	negative       INTEGER NOT NULL DEFAULT 0,
	neutral        INTEGER NOT NULL DEFAULT 0,
	last_sentiment TEXT    NOT NULL DEFAULT '',
	replies_sent   INTEGER NOT NULL DEFAULT 0,
	opted_out      INTEGER NOT NULL DEFAULT 0,
	advocate_state TEXT    NOT NULL DEFAULT '',
	advocate_score REAL    NOT NULL DEFAULT 0,
	-- pending_drafts counts this person's drafts in state pending; the
	-- triggers below keep it, so ingest reads it instead of counting.
	pending_drafts INTEGER NOT NULL DEFAULT 0,
	UNIQUE (platform, external_id)
);
CREATE INDEX people_handle ON people (platform, handle);

CREATE TABLE threads (
	id         INTEGER PRIMARY KEY,
	platform   TEXT    NOT NULL,
	root_key   TEXT    NOT NULL,
	channel    TEXT    NOT NULL DEFAULT '',
	started_at INTEGER NOT NULL,
	last_at    INTEGER NOT NULL,
	mentions   INTEGER NOT NULL DEFAULT 0,
	UNIQUE (platform, root_key)
);

CREATE TABLE mentions (
	id          INTEGER PRIMARY KEY,
	platform    TEXT    NOT NULL,
	account     TEXT    NOT NULL DEFAULT '',
	external_id TEXT    NOT NULL,
	person_id   INTEGER NOT NULL REFERENCES people (id),
	thread_id   INTEGER NOT NULL REFERENCES threads (id),
	text        TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	in_reply_to TEXT    NOT NULL DEFAULT '',
	url         TEXT    NOT NULL DEFAULT '',
	channel     TEXT    NOT NULL DEFAULT '',
	visibility  TEXT    NOT NULL DEFAULT '',
	lang        TEXT    NOT NULL DEFAULT '',
	direct      INTEGER NOT NULL DEFAULT 0,
	sentiment   TEXT    NOT NULL,
	score       REAL    NOT NULL DEFAULT 0,
	confidence  REAL    NOT NULL DEFAULT 0,
	model       TEXT    NOT NULL DEFAULT '',
	overrides   TEXT    NOT NULL DEFAULT '',
	priority    INTEGER NOT NULL DEFAULT 0,
	tags        TEXT    NOT NULL DEFAULT '',
	rules       TEXT    NOT NULL DEFAULT '',
	ignored     INTEGER NOT NULL DEFAULT 0,
	UNIQUE (platform, external_id)
);
CREATE INDEX mentions_person ON mentions (person_id, created_at);
CREATE INDEX mentions_thread ON mentions (thread_id, created_at);
CREATE INDEX mentions_created ON mentions (created_at);

CREATE TABLE drafts (
	id              INTEGER PRIMARY KEY,
	kind            TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	platform        TEXT    NOT NULL,
	mention_id      INTEGER REFERENCES mentions (id),
	person_id       INTEGER NOT NULL REFERENCES people (id),
	thread_id       INTEGER REFERENCES threads (id),
	rule            TEXT    NOT NULL DEFAULT '',
	text            TEXT    NOT NULL,
	original_text   TEXT    NOT NULL DEFAULT '',
	priority        INTEGER NOT NULL DEFAULT 0,
	auto_approve    INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	decided_by      TEXT    NOT NULL DEFAULT '',
	decided_at      INTEGER NOT NULL DEFAULT 0,
	sent_at         INTEGER NOT NULL DEFAULT 0,
	posted_id       TEXT    NOT NULL DEFAULT '',
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	next_attempt_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX drafts_queue ON drafts (state, priority DESC, created_at);
CREATE INDEX drafts_updated ON drafts (updated_at);
CREATE INDEX drafts_person ON drafts (person_id, state);
CREATE INDEX drafts_thread ON drafts (thread_id);
CREATE INDEX drafts_posted ON drafts (platform, posted_id) WHERE posted_id != '';

-- people.pending_drafts follows every draft that enters or leaves pending,
-- whoever writes it (ingest, the queue, the web inbox).
CREATE TRIGGER drafts_pending_insert AFTER INSERT ON drafts WHEN NEW.state = 'pending'
BEGIN
	UPDATE people SET pending_drafts = pending_drafts + 1 WHERE id = NEW.person_id;
END;
CREATE TRIGGER drafts_pending_update AFTER UPDATE OF state, person_id ON drafts
	WHEN (OLD.state = 'pending' OR NEW.state = 'pending')
		AND (OLD.state IS NOT NEW.state OR OLD.person_id IS NOT NEW.person_id)
BEGIN
	UPDATE people SET pending_drafts = pending_drafts - 1 WHERE id = OLD.person_id AND OLD.state = 'pending';
	UPDATE people SET pending_drafts = pending_drafts + 1 WHERE id = NEW.person_id AND NEW.state = 'pending';
END;
CREATE TRIGGER drafts_pending_delete AFTER DELETE ON drafts WHEN OLD.state = 'pending'
BEGIN
	UPDATE people SET pending_drafts = pending_drafts - 1 WHERE id = OLD.person_id;
END;

CREATE TABLE audit (
	id        INTEGER PRIMARY KEY,
	at        INTEGER NOT NULL,
	actor     TEXT    NOT NULL,
	action    TEXT    NOT NULL,
	draft_id  INTEGER,
	person_id INTEGER,
	detail    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);

CREATE TABLE cursors (
	key        TEXT PRIMARY KEY,
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
);
