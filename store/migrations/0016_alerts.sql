-- Real-time alerts: what the detectors raised (a spike of mentions, a
-- negative post with a large reach, an overdue conversation). kind and key
-- say what an alert is about; the cooldown looks for the newest of the
-- same kind and key, hence the index.
CREATE TABLE alerts (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	key TEXT NOT NULL,
	at INTEGER NOT NULL,
	title TEXT NOT NULL,
	detail TEXT NOT NULL DEFAULT '',
	conversation_id INTEGER NOT NULL DEFAULT 0,
	person_id INTEGER NOT NULL DEFAULT 0,
	mention_id INTEGER NOT NULL DEFAULT 0,
	count INTEGER NOT NULL DEFAULT 0,
	threshold REAL NOT NULL DEFAULT 0
);
CREATE INDEX alerts_kind_key ON alerts (kind, key, at);
CREATE INDEX alerts_at ON alerts (at);
