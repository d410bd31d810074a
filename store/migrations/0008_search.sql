-- Full-text search over every stored mention (SQLite FTS5, an external
-- content table over mentions.text), kept by triggers so every writer
-- (ingest included) keeps it current. The unicode61 tokenizer splits on
-- '#' and '@', so "#tag" finds the word "tag"; the search query checks
-- the '#' itself.
CREATE VIRTUAL TABLE mentions_fts USING fts5(text, content = 'mentions', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO mentions_fts (rowid, text) SELECT id, text FROM mentions;

CREATE TRIGGER mentions_fts_insert AFTER INSERT ON mentions BEGIN
	INSERT INTO mentions_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER mentions_fts_delete AFTER DELETE ON mentions BEGIN
	INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;
CREATE TRIGGER mentions_fts_update AFTER UPDATE OF text ON mentions BEGIN
	INSERT INTO mentions_fts (mentions_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
	INSERT INTO mentions_fts (rowid, text) VALUES (NEW.id, NEW.text);
END;
