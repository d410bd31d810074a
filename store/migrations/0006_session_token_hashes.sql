-- sessions.token holds the SHA-256 (lower-case hex) of the cookie's token,
-- never the token: a copy of the database cannot be replayed as a login.
-- Sessions saved with plain tokens end here; their owners log in again.
DELETE FROM sessions;
