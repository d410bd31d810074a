-- Undo send: an approved draft waits until send_after (milliseconds; 0
-- for none) before the outbox may claim it, and until then Undo returns it
-- to pending. The deadline lives here so a restart keeps it.
ALTER TABLE drafts ADD COLUMN send_after INTEGER NOT NULL DEFAULT 0;
