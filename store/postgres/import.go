package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// tables are the tables an import may write, each after the ones it refers to.
var tables = []string{"people", "threads", "conversations", "mentions", "drafts", "audit", "cursors", "users",
	"sessions", "person_notes", "person_links", "draft_assignments", "sentiment_corrections", "advocate_changes",
	"prompts", "digests", "digest_deliveries", "saved_replies", "saved_reply_uses", "conversation_notes", "conversation_tags",
	"webhooks", "webhook_deliveries", "webhook_attempts", "tombstones", "alerts", "api_tokens"}

// ImportRows writes rows (values in the order of cols) into table in one
// transaction; a row whose key is already there is skipped, so an import
// can run again. Columns the table lacks are dropped; integers go into
// boolean columns as != 0. It returns how many rows were new.
func (s *Store) ImportRows(ctx context.Context, table string, cols []string, rows [][]any) (int64, error) {
	if !slices.Contains(tables, table) {
		return 0, fmt.Errorf("import: unknown table %q", table)
	}
	types, err := s.columnTypes(ctx, table)
	if err != nil {
		return 0, err
	}
	var keep []int
	var names []string
	for i, c := range cols {
		if _, ok := types[c]; ok {
			keep = append(keep, i)
			names = append(names, c)
		}
	}
	out := make([][]any, len(rows))
	for r, row := range rows {
		vals := make([]any, len(keep))
		for j, i := range keep {
			vals[j] = convert(row[i], types[cols[i]])
		}
		out[r] = vals
	}
	var n int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_rows (LIKE `+table+` INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, names, pgx.CopyFromRows(out)); err != nil {
			return err
		}
		list := strings.Join(names, ", ")
		tag, err := tx.Exec(ctx, `INSERT INTO `+table+` (`+list+`) SELECT `+list+` FROM import_rows ON CONFLICT DO NOTHING`)
		n = tag.RowsAffected()
		return err
	})
	return n, dbError("import "+table, err)
}

// columnTypes returns the writable columns of table and their types.
func (s *Store) columnTypes(ctx context.Context, table string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'`, table)
	if err != nil {
		return nil, dbError("columns of "+table, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		out[name] = typ
	}
	return out, dbError("columns of "+table, rows.Err())
}

// convert turns a SQLite value into what a PostgreSQL column of type typ
// takes.
func convert(v any, typ string) any {
	switch x := v.(type) {
	case int64:
		switch typ {
		case "boolean":
			return x != 0
		case "integer":
			return int32(min(max(x, -1<<31), 1<<31-1))
		case "double precision":
			return float64(x)
		}
	case string:
		if typ == "bytea" {
			return []byte(x)
		}
	case []byte:
		if typ == "text" {
			return string(x)
		}
	}
	return v
}

// CountRows counts the rows of table.
func (s *Store) CountRows(ctx context.Context, table string) (int64, error) {
	if !slices.Contains(tables, table) {
		return 0, fmt.Errorf("count: unknown table %q", table)
	}
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n)
	return n, dbError("count "+table, err)
}

// ResetSequences moves every id sequence past the largest id, after an
// import wrote ids itself.
func (s *Store) ResetSequences(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT table_name::text, pg_get_serial_sequence(table_name, 'id') FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'id' AND table_name = ANY($1)`, tables)
	if err != nil {
		return dbError("sequences", err)
	}
	type seq struct {
		table string
		name  *string
	}
	seqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (seq, error) {
		var q seq
		return q, r.Scan(&q.table, &q.name)
	})
	if err != nil {
		return dbError("sequences", err)
	}
	for _, q := range seqs {
		if q.name == nil {
			continue
		}
		if _, err := s.pool.Exec(ctx, `SELECT setval($1, greatest((SELECT coalesce(max(id), 0) FROM `+q.table+`), 1))`, *q.name); err != nil {
			return dbError("sequence of "+q.table, err)
		}
	}
	return nil
}
