-- A conversation's internal notes (staff only: never part of a draft,
-- never posted) and the tags people put on it by hand, kept apart from
-- the tags rules put on its posts (mentions.tags).
CREATE TABLE conversation_notes (
	id INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	author TEXT NOT NULL,
	text TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, created_at);

CREATE TABLE conversation_tags (
	conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	tag TEXT NOT NULL,
	added_by TEXT NOT NULL,
	added_at INTEGER NOT NULL,
	PRIMARY KEY (conversation_id, tag)
) WITHOUT ROWID;
CREATE INDEX conversation_tags_tag ON conversation_tags (tag);
