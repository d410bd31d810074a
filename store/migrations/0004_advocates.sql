-- Advocates, prompts and consent (the advocates work).
-- Times are Unix milliseconds (UTC).

-- people.advocate_state and advocate_score exist since 0001. What the
-- scoring and the managers add:
ALTER TABLE people ADD COLUMN advocate_note TEXT NOT NULL DEFAULT '';         -- what the last scoring said
ALTER TABLE people ADD COLUMN advocate_scored_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN advocate_confirmed_by TEXT NOT NULL DEFAULT ''; -- the manager who confirmed them
ALTER TABLE people ADD COLUMN advocate_confirmed_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE people ADD COLUMN opted_out_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX people_advocates ON people (advocate_state, advocate_score DESC) WHERE advocate_state != '';

-- Every change of a person's advocate state: the digest lists new and
-- lapsed advocates from it. actor is "parley" for the scoring, else the
-- manager who confirmed.
CREATE TABLE advocate_changes (
	id         INTEGER PRIMARY KEY,
	person_id  INTEGER NOT NULL REFERENCES people (id),
	at         INTEGER NOT NULL,
	from_state TEXT    NOT NULL,
	to_state   TEXT    NOT NULL,
	score      REAL    NOT NULL,
	actor      TEXT    NOT NULL,
	reason     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX advocate_changes_at ON advocate_changes (at);
CREATE INDEX advocate_changes_person ON advocate_changes (person_id, at);

-- One row per prompt draft (drafts.kind = 'prompt'): what was asked, and
-- how it ended. A person is asked the same thing once: UNIQUE (person, ask).
-- The draft's state and sent_at live in drafts; the watch window is
-- sent_at + watch_ms.
CREATE TABLE prompts (
	draft_id           INTEGER PRIMARY KEY REFERENCES drafts (id),
	person_id          INTEGER NOT NULL REFERENCES people (id),
	ask                TEXT    NOT NULL,
	template           TEXT    NOT NULL,
	rule               TEXT    NOT NULL DEFAULT '',
	link               TEXT    NOT NULL DEFAULT '',
	hashtag            TEXT    NOT NULL DEFAULT '',
	watch_ms           INTEGER NOT NULL,
	created_at         INTEGER NOT NULL,
	outcome            TEXT    NOT NULL DEFAULT '',  -- '', converted, declined, expired, withdrawn
	outcome_at         INTEGER NOT NULL DEFAULT 0,
	outcome_mention_id INTEGER REFERENCES mentions (id),
	outcome_detail     TEXT    NOT NULL DEFAULT '',
	UNIQUE (person_id, ask)
);
CREATE INDEX prompts_open ON prompts (person_id) WHERE outcome = '';
CREATE INDEX prompts_template ON prompts (template);
