-- Advocates, prompts and consent; weekly digests and their deliveries.
-- Times are Unix milliseconds (UTC), 0 for none.

ALTER TABLE people ADD COLUMN advocate_note TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN advocate_scored_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN advocate_confirmed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN advocate_confirmed_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN opted_out_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX people_advocates ON people (advocate_state, advocate_score DESC) WHERE advocate_state != '';

-- Every change of a person's advocate state. actor is "parley" for the
-- scoring, else the manager who confirmed.
CREATE TABLE advocate_changes (
	id         BIGSERIAL PRIMARY KEY,
	person_id  BIGINT           NOT NULL REFERENCES people (id),
	at         BIGINT           NOT NULL,
	from_state TEXT             NOT NULL,
	to_state   TEXT             NOT NULL,
	score      DOUBLE PRECISION NOT NULL,
	actor      TEXT             NOT NULL,
	reason     TEXT             NOT NULL DEFAULT ''
);
CREATE INDEX advocate_changes_at ON advocate_changes (at);
CREATE INDEX advocate_changes_person ON advocate_changes (person_id, at);

-- One row per prompt draft: what was asked, and how it ended. A person is
-- asked the same thing once.
CREATE TABLE prompts (
	draft_id           BIGINT PRIMARY KEY REFERENCES drafts (id),
	person_id          BIGINT NOT NULL REFERENCES people (id),
	ask                TEXT   NOT NULL,
	template           TEXT   NOT NULL,
	rule               TEXT   NOT NULL DEFAULT '',
	link               TEXT   NOT NULL DEFAULT '',
	hashtag            TEXT   NOT NULL DEFAULT '',
	watch_ms           BIGINT NOT NULL,
	created_at         BIGINT NOT NULL,
	outcome            TEXT   NOT NULL DEFAULT '',
	outcome_at         BIGINT NOT NULL DEFAULT 0,
	outcome_mention_id BIGINT REFERENCES mentions (id),
	outcome_detail     TEXT   NOT NULL DEFAULT '',
	UNIQUE (person_id, ask)
);
CREATE INDEX prompts_open ON prompts (person_id) WHERE outcome = '';
CREATE INDEX prompts_template ON prompts (template);

-- One row per ISO week, claimed (status 'building', an owner and a lease)
-- before anything is sent, so two processes never send the same week twice.
CREATE TABLE digests (
	week        TEXT   PRIMARY KEY,
	timezone    TEXT   NOT NULL,
	start_at    BIGINT NOT NULL,
	end_at      BIGINT NOT NULL,
	status      TEXT   NOT NULL,
	owner       TEXT   NOT NULL DEFAULT '',
	lease_until BIGINT NOT NULL DEFAULT 0,
	claimed_at  BIGINT NOT NULL,
	built_at    BIGINT NOT NULL DEFAULT 0,
	summary     TEXT   NOT NULL DEFAULT '',
	markdown    TEXT   NOT NULL DEFAULT '',
	html        TEXT   NOT NULL DEFAULT '',
	text        TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX digests_start ON digests (start_at);

CREATE TABLE digest_deliveries (
	week     TEXT    NOT NULL REFERENCES digests (week) ON DELETE CASCADE,
	target   TEXT    NOT NULL,
	seq      INTEGER NOT NULL,
	type     TEXT    NOT NULL,
	ok       BOOLEAN NOT NULL,
	attempts INTEGER NOT NULL,
	error    TEXT    NOT NULL DEFAULT '',
	detail   TEXT    NOT NULL DEFAULT '',
	at       BIGINT  NOT NULL,
	PRIMARY KEY (week, target)
);

CREATE INDEX drafts_decided ON drafts (decided_at) WHERE decided_at != 0;
CREATE INDEX drafts_created ON drafts (created_at);
