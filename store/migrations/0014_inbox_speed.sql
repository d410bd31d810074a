-- The inbox at a million messages: its counts and its @handle searches.

-- How many conversations are in each state, kept by triggers on every
-- write (ingest included), so the inbox counts "all" and "closed" without
-- walking every conversation.
CREATE TABLE conversation_counts (
	state TEXT PRIMARY KEY,
	n     INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO conversation_counts (state, n) SELECT state, count(*) FROM conversations GROUP BY state;

CREATE TRIGGER conversation_counts_insert AFTER INSERT ON conversations BEGIN
	INSERT INTO conversation_counts (state, n) VALUES (NEW.state, 1)
		ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER conversation_counts_update AFTER UPDATE OF state ON conversations
	WHEN OLD.state != NEW.state BEGIN
	UPDATE conversation_counts SET n = n - 1 WHERE state = OLD.state;
	INSERT INTO conversation_counts (state, n) VALUES (NEW.state, 1)
		ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER conversation_counts_delete AFTER DELETE ON conversations BEGIN
	UPDATE conversation_counts SET n = n - 1 WHERE state = OLD.state;
END;

-- "@jules" finds the messages of people whose handle starts with it,
-- whatever its case: LIKE uses an index only in its own (NOCASE) order.
CREATE INDEX people_handle_nocase ON people (handle COLLATE NOCASE);
