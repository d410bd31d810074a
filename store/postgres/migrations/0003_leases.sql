-- Leases: which process runs each job (a connector account, the digest
-- schedule) when several share this database. until_at is in the
-- database's clock (Unix milliseconds); epoch grows when the holder
-- changes.
CREATE TABLE leases (
	name     TEXT PRIMARY KEY,
	holder   TEXT   NOT NULL,
	epoch    BIGINT NOT NULL,
	until_at BIGINT NOT NULL
);
