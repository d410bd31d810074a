-- Sentiment corrections: a person's verdict on a mention's sentiment. The
-- correction is written into mentions.sentiment (so it wins everywhere the
-- label is read); this table keeps who made it and what the model said.
CREATE TABLE sentiment_corrections (
	id          INTEGER PRIMARY KEY,
	mention_id  INTEGER NOT NULL REFERENCES mentions (id),
	model_label TEXT    NOT NULL,
	label       TEXT    NOT NULL,
	actor       TEXT    NOT NULL,
	at          INTEGER NOT NULL
);
CREATE INDEX sentiment_corrections_mention ON sentiment_corrections (mention_id, at);
CREATE INDEX sentiment_corrections_at ON sentiment_corrections (at);
