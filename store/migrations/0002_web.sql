-- Web inbox: users, sessions, staff notes, linked people, draft assignments.
-- Times are Unix milliseconds (UTC).

-- People who log in to the web inbox. role is admin, manager or agent.
-- password_changed_at ends the sessions opened before a password change.
CREATE TABLE users (
	id                  INTEGER PRIMARY KEY,
	name                TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	role                TEXT    NOT NULL CHECK (role IN ('admin', 'manager', 'agent')),
	password_hash       TEXT    NOT NULL,
	created_at          INTEGER NOT NULL,
	password_changed_at INTEGER NOT NULL,
	last_login_at       INTEGER NOT NULL DEFAULT 0
);

-- Server-side sessions (github.com/alexedwards/scs/v2 store): token -> data.
CREATE TABLE sessions (
	token  TEXT PRIMARY KEY,
	data   BLOB    NOT NULL,
	expiry INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

-- Notes staff keep about a person.
CREATE TABLE person_notes (
	id         INTEGER PRIMARY KEY,
	person_id  INTEGER NOT NULL REFERENCES people (id),
	author     TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX person_notes_person ON person_notes (person_id, created_at);

-- People a manager said are the same human (on different platforms): the
-- members of a group. A person is in at most one group; a group has two or
-- more members.
CREATE TABLE person_links (
	person_id INTEGER PRIMARY KEY REFERENCES people (id),
	group_id  INTEGER NOT NULL,
	linked_by TEXT    NOT NULL,
	linked_at INTEGER NOT NULL
);
CREATE INDEX person_links_group ON person_links (group_id);

-- Who in the team looks after a pending draft.
CREATE TABLE draft_assignments (
	draft_id    INTEGER PRIMARY KEY REFERENCES drafts (id),
	user_name   TEXT    NOT NULL,
	assigned_by TEXT    NOT NULL,
	assigned_at INTEGER NOT NULL
);
CREATE INDEX draft_assignments_user ON draft_assignments (user_name);
