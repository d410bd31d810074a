-- The core schema: people, threads, conversations, mentions, drafts, the
-- audit log, cursors, and the web inbox's users, sessions, notes, links
-- and assignments. Times are Unix milliseconds (UTC), 0 for none, as in
-- the SQLite store, so an installation moves between them unchanged.

CREATE TABLE people (
	id             BIGSERIAL PRIMARY KEY,
	platform       TEXT             NOT NULL,
	external_id    TEXT             NOT NULL,
	handle         TEXT             NOT NULL DEFAULT '',
	name           TEXT             NOT NULL DEFAULT '',
	followers      BIGINT           NOT NULL DEFAULT 0,
	nobot          BOOLEAN          NOT NULL DEFAULT false,
	timezone       TEXT             NOT NULL DEFAULT '',
	first_seen     BIGINT           NOT NULL,
	last_seen      BIGINT           NOT NULL,
	mentions       INTEGER          NOT NULL DEFAULT 0,
	positive       INTEGER          NOT NULL DEFAULT 0,
	negative       INTEGER          NOT NULL DEFAULT 0,
	neutral        INTEGER          NOT NULL DEFAULT 0,
	last_sentiment TEXT             NOT NULL DEFAULT '',
	replies_sent   INTEGER          NOT NULL DEFAULT 0,
	opted_out      BOOLEAN          NOT NULL DEFAULT false,
	advocate_state TEXT             NOT NULL DEFAULT '',
	advocate_score DOUBLE PRECISION NOT NULL DEFAULT 0,
	UNIQUE (platform, external_id)
);
CREATE INDEX people_handle ON people (platform, lower(handle));
CREATE INDEX people_last_seen ON people (last_seen);

CREATE TABLE threads (
	id         BIGSERIAL PRIMARY KEY,
	platform   TEXT    NOT NULL,
	root_key   TEXT    NOT NULL,
	channel    TEXT    NOT NULL DEFAULT '',
	started_at BIGINT  NOT NULL,
	last_at    BIGINT  NOT NULL,
	mentions   INTEGER NOT NULL DEFAULT 0,
	UNIQUE (platform, root_key)
);

-- Every thread is a conversation (same id).
CREATE TABLE conversations (
	id                BIGINT  PRIMARY KEY REFERENCES threads (id),
	state             TEXT    NOT NULL CHECK (state IN ('needs_reply', 'waiting', 'closed', 'snoozed')),
	assignee          TEXT    NOT NULL DEFAULT '',
	snoozed_until     BIGINT  NOT NULL DEFAULT 0,
	messages          INTEGER NOT NULL DEFAULT 0,
	last_mention_id   BIGINT  NOT NULL DEFAULT 0,
	person_id         BIGINT  NOT NULL DEFAULT 0,
	last_message_at   BIGINT  NOT NULL DEFAULT 0,
	first_message_at  BIGINT  NOT NULL DEFAULT 0,
	waiting_since     BIGINT  NOT NULL DEFAULT 0,
	first_response_at BIGINT  NOT NULL DEFAULT 0,
	last_response_at  BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX conversations_queue ON conversations (state, waiting_since);
CREATE INDEX conversations_recent ON conversations (last_message_at);
CREATE INDEX conversations_assignee ON conversations (assignee) WHERE assignee != '';

-- search is the full-text index of text ('simple': no stemming, so every
-- language is found by its own words).
CREATE TABLE mentions (
	id          BIGSERIAL PRIMARY KEY,
	platform    TEXT             NOT NULL,
	account     TEXT             NOT NULL DEFAULT '',
	external_id TEXT             NOT NULL,
	person_id   BIGINT           NOT NULL REFERENCES people (id),
	thread_id   BIGINT           NOT NULL REFERENCES threads (id),
	text        TEXT             NOT NULL,
	created_at  BIGINT           NOT NULL,
	received_at BIGINT           NOT NULL,
	in_reply_to TEXT             NOT NULL DEFAULT '',
	url         TEXT             NOT NULL DEFAULT '',
	channel     TEXT             NOT NULL DEFAULT '',
	visibility  TEXT             NOT NULL DEFAULT '',
	lang        TEXT             NOT NULL DEFAULT '',
	direct      BOOLEAN          NOT NULL DEFAULT false,
	sentiment   TEXT             NOT NULL,
	score       DOUBLE PRECISION NOT NULL DEFAULT 0,
	confidence  DOUBLE PRECISION NOT NULL DEFAULT 0,
	model       TEXT             NOT NULL DEFAULT '',
	overrides   TEXT             NOT NULL DEFAULT '',
	priority    INTEGER          NOT NULL DEFAULT 0,
	tags        TEXT             NOT NULL DEFAULT '',
	rules       TEXT             NOT NULL DEFAULT '',
	ignored     BOOLEAN          NOT NULL DEFAULT false,
	search      TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
	UNIQUE (platform, external_id)
);
CREATE INDEX mentions_person ON mentions (person_id, created_at);
CREATE INDEX mentions_thread ON mentions (thread_id, created_at);
CREATE INDEX mentions_created ON mentions (created_at);
CREATE INDEX mentions_search ON mentions USING GIN (search);

CREATE TABLE drafts (
	id              BIGSERIAL PRIMARY KEY,
	kind            TEXT    NOT NULL,
	state           TEXT    NOT NULL,
	platform        TEXT    NOT NULL,
	mention_id      BIGINT  REFERENCES mentions (id),
	person_id       BIGINT  NOT NULL REFERENCES people (id),
	thread_id       BIGINT  REFERENCES threads (id),
	rule            TEXT    NOT NULL DEFAULT '',
	text            TEXT    NOT NULL,
	original_text   TEXT    NOT NULL DEFAULT '',
	priority        INTEGER NOT NULL DEFAULT 0,
	auto_approve    BOOLEAN NOT NULL DEFAULT false,
	created_at      BIGINT  NOT NULL,
	updated_at      BIGINT  NOT NULL,
	decided_by      TEXT    NOT NULL DEFAULT '',
	decided_at      BIGINT  NOT NULL DEFAULT 0,
	sent_at         BIGINT  NOT NULL DEFAULT 0,
	posted_id       TEXT    NOT NULL DEFAULT '',
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	next_attempt_at BIGINT  NOT NULL DEFAULT 0,
	written_by      TEXT    NOT NULL DEFAULT '',
	new_message_at  BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX drafts_queue ON drafts (state, priority DESC, created_at);
CREATE INDEX drafts_updated ON drafts (updated_at);
CREATE INDEX drafts_person ON drafts (person_id, state);
CREATE INDEX drafts_thread ON drafts (thread_id);
CREATE INDEX drafts_posted ON drafts (platform, posted_id) WHERE posted_id != '';
-- A conversation has at most one pending reply: the database says so too.
CREATE UNIQUE INDEX drafts_one_pending_reply ON drafts (thread_id) WHERE kind = 'reply' AND state = 'pending';

CREATE TABLE audit (
	id        BIGSERIAL PRIMARY KEY,
	at        BIGINT NOT NULL,
	actor     TEXT   NOT NULL,
	action    TEXT   NOT NULL,
	draft_id  BIGINT,
	person_id BIGINT,
	detail    TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_person ON audit (person_id) WHERE person_id IS NOT NULL;

CREATE TABLE cursors (
	key        TEXT PRIMARY KEY,
	value      TEXT   NOT NULL,
	updated_at BIGINT NOT NULL
);

-- People who log in to the web inbox; names are case-insensitive.
CREATE TABLE users (
	id                  BIGSERIAL PRIMARY KEY,
	name                TEXT   NOT NULL,
	role                TEXT   NOT NULL CHECK (role IN ('admin', 'manager', 'agent')),
	password_hash       TEXT   NOT NULL,
	created_at          BIGINT NOT NULL,
	password_changed_at BIGINT NOT NULL,
	last_login_at       BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX users_name ON users (lower(name));

-- Server-side sessions: the SHA-256 (hex) of the cookie's token -> data.
CREATE TABLE sessions (
	token  TEXT PRIMARY KEY,
	data   BYTEA  NOT NULL,
	expiry BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

CREATE TABLE person_notes (
	id         BIGSERIAL PRIMARY KEY,
	person_id  BIGINT NOT NULL REFERENCES people (id),
	author     TEXT   NOT NULL,
	text       TEXT   NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX person_notes_person ON person_notes (person_id, created_at);

CREATE TABLE person_links (
	person_id BIGINT PRIMARY KEY REFERENCES people (id),
	group_id  BIGINT NOT NULL,
	linked_by TEXT   NOT NULL,
	linked_at BIGINT NOT NULL
);
CREATE INDEX person_links_group ON person_links (group_id);

CREATE TABLE draft_assignments (
	draft_id    BIGINT PRIMARY KEY REFERENCES drafts (id),
	user_name   TEXT   NOT NULL,
	assigned_by TEXT   NOT NULL,
	assigned_at BIGINT NOT NULL
);
CREATE INDEX draft_assignments_user ON draft_assignments (user_name);

CREATE TABLE sentiment_corrections (
	id          BIGSERIAL PRIMARY KEY,
	mention_id  BIGINT NOT NULL REFERENCES mentions (id),
	model_label TEXT   NOT NULL,
	label       TEXT   NOT NULL,
	actor       TEXT   NOT NULL,
	at          BIGINT NOT NULL
);
CREATE INDEX sentiment_corrections_mention ON sentiment_corrections (mention_id, at);
