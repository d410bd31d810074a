package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/postgres"
)

func init() {
	register(&command{
		name:    "migrate-store",
		summary: "copy a SQLite installation into PostgreSQL, and check the counts",
		usage: `parley migrate-store --from FILE --to postgres://...

Copies every table of the SQLite database FILE into the PostgreSQL database
(its tables are made if needed), then counts the rows of each table on both
sides and fails when they differ. Rows already in PostgreSQL (same key) are
left as they are, so it is safe to run again, e.g. after an interruption.
Stop 'parley run' on FILE first, so nothing changes while it copies. --to may
also come from PARLEY_DATABASE_URL.

Example:
  parley migrate-store --from /var/lib/parley/parley.db --to "$PARLEY_DATABASE_URL"`,
		run: runMigrateStore,
	})
}

// importBatch is how many rows go to PostgreSQL in one transaction.
const importBatch = 5000

func runMigrateStore(ctx context.Context, e *env, args []string) error {
	from := e.flags().String("from", "", "the SQLite database file to copy")
	to := e.flags().String("to", "", "the PostgreSQL URL to copy into (default PARLEY_DATABASE_URL)")
	if _, err := e.parse(args); err != nil {
		return err
	}
	if *to == "" && e.getenv != nil {
		*to = e.getenv("PARLEY_DATABASE_URL")
	}
	switch {
	case *from == "":
		return fmt.Errorf("%w: --from FILE names the SQLite database to copy", errUsage)
	case !postgres.IsURL(*to):
		return fmt.Errorf("%w: --to postgres://user:password@host:5432/dbname names the database to copy into", errUsage)
	}
	if _, err := os.Stat(*from); errors.Is(err, os.ErrNotExist) {
		return parley.Errorf(parley.ENOTFOUND, "no database at %s", *from)
	}
	unlock, err := lockDatabase(*from)
	if err != nil {
		return err
	}
	defer unlock()
	src, err := store.Open(ctx, *from, store.Options{Logger: e.logger})
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }() // read only: nothing to lose
	dst, err := postgres.Open(ctx, *to, postgres.Options{Logger: e.logger})
	if err != nil {
		return err
	}
	defer func() { _ = dst.Close() }() // every write was committed and counted above
	var bad []string
	for _, table := range store.Tables {
		added, err := copyTable(ctx, src, dst, table)
		if err != nil {
			return err
		}
		n, err := src.CountRows(ctx, table)
		if err != nil {
			return err
		}
		m, err := dst.CountRows(ctx, table)
		if err != nil {
			return err
		}
		status := "ok"
		if n != m {
			status = "DIFFERENT"
			bad = append(bad, fmt.Sprintf("%s (%d in SQLite, %d in PostgreSQL)", table, n, m))
		}
		fmt.Fprintf(e.stdout, "%-22s %9d rows, %9d new  %s\n", table, n, added, status)
	}
	if err := dst.ResetSequences(ctx); err != nil {
		return err
	}
	if len(bad) > 0 {
		return parley.Errorf(parley.ECONFLICT, "the counts differ for %s: was the PostgreSQL database used before, or did 'parley run' write to %s meanwhile?",
			strings.Join(bad, "; "), *from)
	}
	fmt.Fprintf(e.stdout, "copied %s to %s: every count matches\n", *from, dst.Where())
	return nil
}

// copyTable copies one table in batches and returns how many rows were new.
func copyTable(ctx context.Context, src *store.Store, dst *postgres.Store, table string) (int64, error) {
	var added int64
	var cols []string
	var batch [][]any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := dst.ImportRows(ctx, table, cols, batch)
		added += n
		batch = batch[:0]
		return err
	}
	err := src.EachRow(ctx, table, func(c []string, vals []any) error {
		cols = c
		batch = append(batch, slices.Clone(vals))
		if len(batch) < importBatch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return added, fmt.Errorf("copy %s: %w", table, err)
	}
	return added, nil
}
