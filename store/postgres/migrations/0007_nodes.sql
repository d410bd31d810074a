-- Live pages on every node learn of changes by LISTEN parley_changes: each
-- statement that writes drafts or conversations notifies once, delivered
-- when its transaction commits (PostgreSQL folds identical notifications
-- of one transaction into one).
CREATE FUNCTION parley_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('parley_changes', TG_TABLE_NAME);
	RETURN NULL;
END
$$;

CREATE TRIGGER drafts_notify_change AFTER INSERT OR UPDATE OR DELETE ON drafts
	FOR EACH STATEMENT EXECUTE FUNCTION parley_notify_change();
CREATE TRIGGER conversations_notify_change AFTER INSERT OR UPDATE OR DELETE ON conversations
	FOR EACH STATEMENT EXECUTE FUNCTION parley_notify_change();

-- The node that claimed a draft for sending, so that another node takes
-- it over as soon as that node's liveness lease (node:NAME) runs out
-- rather than after the whole send lease.
ALTER TABLE drafts ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
