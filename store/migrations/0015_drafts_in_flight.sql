-- The needs-reply views leave out conversations whose reply is on its
-- way: a look in this small index instead of at each conversation's
-- drafts (a tenth of the needs-reply list's time at 10,000 open).
CREATE INDEX drafts_in_flight ON drafts (thread_id) WHERE kind = 'reply' AND state IN ('approved', 'sending');
