package store

import (
	"context"
	"database/sql"
)

// Check runs a cheap query over the tables the inbox and the pipeline
// read (the newest mention, draft, person and thread, the pending drafts'
// index, a user), so a database whose pages are damaged fails it even
// when its table of migrations still answers. It takes a few page reads
// whatever the database's size.
func (s *Store) Check(ctx context.Context) error {
	var m, d, p, t sql.NullInt64
	var pending int
	var user sql.NullString
	err := s.rdb.QueryRowContext(ctx, `SELECT
		(SELECT max(id) FROM mentions), (SELECT max(id) FROM drafts),
		(SELECT max(id) FROM people), (SELECT max(id) FROM threads),
		(SELECT count(*) FROM (SELECT 1 FROM drafts WHERE state = 'pending' LIMIT 1)),
		(SELECT name FROM users ORDER BY id LIMIT 1)`).Scan(&m, &d, &p, &t, &pending, &user)
	return dbError("check database", err)
}
