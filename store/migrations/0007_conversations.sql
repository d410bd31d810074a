-- Conversations: every thread is one, with a state (needs_reply, waiting,
-- closed, snoozed), an assignee and response clocks that start at the
-- customer's post. A conversation has at most one pending reply draft;
-- the piles of pending replies stored before are superseded here (the
-- newest kept, a person's edit before a rule's), each in the audit log.
-- Times are Unix milliseconds (UTC).

CREATE TABLE conversations (
	id                INTEGER PRIMARY KEY, -- the thread's id
	state             TEXT    NOT NULL CHECK (state IN ('needs_reply', 'waiting', 'closed', 'snoozed')),
	assignee          TEXT    NOT NULL DEFAULT '',
	snoozed_until     INTEGER NOT NULL DEFAULT 0,
	messages          INTEGER NOT NULL DEFAULT 0,
	last_mention_id   INTEGER NOT NULL DEFAULT 0,
	person_id         INTEGER NOT NULL DEFAULT 0,
	last_message_at   INTEGER NOT NULL DEFAULT 0,
	first_message_at  INTEGER NOT NULL DEFAULT 0,
	waiting_since     INTEGER NOT NULL DEFAULT 0,
	first_response_at INTEGER NOT NULL DEFAULT 0,
	last_response_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_queue ON conversations (state, waiting_since);
CREATE INDEX conversations_recent ON conversations (last_message_at);
CREATE INDEX conversations_assignee ON conversations (assignee) WHERE assignee != '';

-- Who wrote a draft's text when a person did (an edit or a hand-written
-- reply): such a draft is never replaced by a rule's. new_message_at marks
-- a kept edit that a newer customer message came after.
ALTER TABLE drafts ADD COLUMN written_by TEXT NOT NULL DEFAULT '';
ALTER TABLE drafts ADD COLUMN new_message_at INTEGER NOT NULL DEFAULT 0;
UPDATE drafts SET written_by = coalesce((SELECT a.actor FROM audit a WHERE a.draft_id = drafts.id
		AND a.action IN ('edit', 'write') ORDER BY a.at DESC, a.id DESC LIMIT 1), 'someone')
	WHERE original_text != '' OR (rule = '' AND kind = 'reply');

-- Every customer post after our last reply needs one (a rule's `ignore`
-- drafts nothing, but a person decides whether to close it).

-- Our replies sent so far, per thread: the clocks stop at them.
CREATE TEMP TABLE sent_replies AS
	SELECT thread_id, min(sent_at) AS first_at, max(sent_at) AS last_at FROM drafts
	WHERE kind = 'reply' AND state = 'sent' AND thread_id IS NOT NULL AND sent_at > 0 GROUP BY thread_id;

INSERT INTO conversations (id, state, messages, last_mention_id, person_id, last_message_at, first_message_at,
		waiting_since, first_response_at, last_response_at)
	SELECT t.id, 'closed', t.mentions,
		coalesce((SELECT m.id FROM mentions m WHERE m.thread_id = t.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1), 0),
		coalesce((SELECT m.person_id FROM mentions m WHERE m.thread_id = t.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1), 0),
		coalesce((SELECT max(m.created_at) FROM mentions m WHERE m.thread_id = t.id), 0),
		coalesce((SELECT min(m.created_at) FROM mentions m WHERE m.thread_id = t.id), 0),
		coalesce((SELECT min(m.created_at) FROM mentions m WHERE m.thread_id = t.id
			AND m.created_at > coalesce(r.last_at, 0)), 0),
		coalesce(r.first_at, 0), coalesce(r.last_at, 0)
	FROM threads t LEFT JOIN sent_replies r ON r.thread_id = t.id;

UPDATE conversations SET state = CASE
		WHEN waiting_since > 0 THEN 'needs_reply'
		WHEN last_response_at > 0 THEN 'waiting'
		ELSE 'closed' END;

DROP TABLE sent_replies;

-- Every pending reply of a thread but the one kept is superseded.
CREATE TEMP TABLE pile AS
	SELECT id, person_id, thread_id, first_value(id) OVER w AS kept, row_number() OVER w AS n FROM drafts
	WHERE kind = 'reply' AND state = 'pending' AND thread_id IS NOT NULL
	WINDOW w AS (PARTITION BY thread_id ORDER BY written_by != '' DESC, created_at DESC, id DESC);

INSERT INTO audit (at, actor, action, draft_id, person_id, detail)
	SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'parley', 'supersede', id, person_id,
		'one pending reply per conversation: superseded by draft ' || kept
	FROM pile WHERE n > 1;

UPDATE drafts SET state = 'superseded', updated_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
	WHERE id IN (SELECT id FROM pile WHERE n > 1);

DROP TABLE pile;

-- Who looked after a conversation's pending draft looks after it.
UPDATE conversations SET assignee = coalesce((SELECT a.user_name FROM draft_assignments a JOIN drafts d ON d.id = a.draft_id
	WHERE d.thread_id = conversations.id AND d.state = 'pending' LIMIT 1), '');

-- The store enforces the rule itself.
CREATE UNIQUE INDEX drafts_one_pending_reply ON drafts (thread_id) WHERE kind = 'reply' AND state = 'pending';
