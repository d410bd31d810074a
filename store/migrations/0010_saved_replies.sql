-- Saved replies: texts a team keeps for answers it gives often (reply
-- templates, platform '' for any), and which drafts used them, so the
-- digest can tell which are used (a use counts once its draft is approved
-- or sent).
CREATE TABLE saved_replies (
	id INTEGER PRIMARY KEY,
	title TEXT NOT NULL,
	text TEXT NOT NULL,
	platform TEXT NOT NULL DEFAULT '',
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_by TEXT NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL
);
CREATE INDEX saved_replies_title ON saved_replies (title COLLATE NOCASE);

CREATE TABLE saved_reply_uses (
	draft_id INTEGER PRIMARY KEY REFERENCES drafts (id) ON DELETE CASCADE,
	saved_reply_id INTEGER NOT NULL REFERENCES saved_replies (id) ON DELETE CASCADE,
	used_at INTEGER NOT NULL
);
CREATE INDEX saved_reply_uses_reply ON saved_reply_uses (saved_reply_id);
