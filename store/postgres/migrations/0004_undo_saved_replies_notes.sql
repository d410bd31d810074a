-- Undo send: an approved draft waits until send_after (Unix milliseconds;
-- 0 for none) before an outbox may claim it, and until then Undo returns
-- it to pending. The deadline lives here so a restart keeps it.
ALTER TABLE drafts ADD COLUMN send_after BIGINT NOT NULL DEFAULT 0;

-- Saved replies: texts a team keeps for answers it gives often (platform
-- '' for any), and which drafts used them, so the digest can tell which
-- are used (a use counts once its draft is approved or sent).
CREATE TABLE saved_replies (
	id         BIGSERIAL PRIMARY KEY,
	title      TEXT   NOT NULL,
	text       TEXT   NOT NULL,
	platform   TEXT   NOT NULL DEFAULT '',
	created_by TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	updated_by TEXT   NOT NULL DEFAULT '',
	updated_at BIGINT NOT NULL
);
CREATE INDEX saved_replies_title ON saved_replies (lower(title));

CREATE TABLE saved_reply_uses (
	draft_id       BIGINT PRIMARY KEY REFERENCES drafts (id) ON DELETE CASCADE,
	saved_reply_id BIGINT NOT NULL REFERENCES saved_replies (id) ON DELETE CASCADE,
	used_at        BIGINT NOT NULL
);
CREATE INDEX saved_reply_uses_reply ON saved_reply_uses (saved_reply_id);

-- A conversation's internal notes (staff only: never part of a draft,
-- never posted) and the tags people put on it by hand, kept apart from
-- the tags rules put on its posts (mentions.tags).
CREATE TABLE conversation_notes (
	id              BIGSERIAL PRIMARY KEY,
	conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	author          TEXT   NOT NULL,
	text            TEXT   NOT NULL,
	created_at      BIGINT NOT NULL
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, created_at);

CREATE TABLE conversation_tags (
	conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	tag             TEXT   NOT NULL,
	added_by        TEXT   NOT NULL,
	added_at        BIGINT NOT NULL,
	PRIMARY KEY (conversation_id, tag)
);
CREATE INDEX conversation_tags_tag ON conversation_tags (tag);
