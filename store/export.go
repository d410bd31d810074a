package store

import (
	"context"
	"fmt"
	"slices"
)

// Tables lists the tables that hold Parley's state, each after the ones it
// refers to: the order to copy them to another store in.
var Tables = []string{"people", "threads", "conversations", "mentions", "drafts", "audit", "cursors", "users",
	"sessions", "person_notes", "person_links", "draft_assignments", "sentiment_corrections", "advocate_changes",
	"prompts", "digests", "digest_deliveries", "saved_replies", "saved_reply_uses", "conversation_notes", "conversation_tags",
	"webhooks", "webhook_deliveries", "webhook_attempts", "tombstones", "alerts", "api_tokens"}

// EachRow calls fn with the column names and the values of every row of
// table (one of Tables), in one read snapshot, in insertion (rowid) order. fn must not
// keep vals. Errors: EINVALID for a table not in Tables; fn's; the
// database's.
func (s *Store) EachRow(ctx context.Context, table string, fn func(cols []string, vals []any) error) error {
	if !slices.Contains(Tables, table) {
		return fmt.Errorf("export: unknown table %q", table)
	}
	order := "rowid"
	if table == "conversation_tags" { // WITHOUT ROWID: its key is the order
		order = "conversation_id, tag"
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT * FROM `+table+` ORDER BY `+order)
	if err != nil {
		return dbError("export "+table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return dbError("export "+table, err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return dbError("export "+table, err)
		}
		if err := fn(cols, vals); err != nil {
			return err
		}
	}
	return dbError("export "+table, rows.Err())
}

// CountRows counts the rows of table (one of Tables).
func (s *Store) CountRows(ctx context.Context, table string) (int64, error) {
	if !slices.Contains(Tables, table) {
		return 0, fmt.Errorf("count: unknown table %q", table)
	}
	var n int64
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n)
	return n, dbError("count "+table, err)
}
