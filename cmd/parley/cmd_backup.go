package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/parleybot/parley/store"
)

func init() {
	register(&command{
		name:    "backup",
		summary: "copy the database consistently, even while 'parley run' writes to it",
		usage: `parley backup [--config FILE | --data DIR | --db PATH] FILE

Writes a consistent copy of the database to FILE (SQLite's VACUUM INTO: one
snapshot, while 'parley run' keeps working), checks it (integrity check,
schema version), makes it private (mode 0600) and prints its size. FILE must
not exist. Copying parley.db with cp while Parley runs can give a damaged
copy; this cannot. See docs/operations.md.

Example:
  parley backup --data /var/lib/parley /backups/parley-$(date +%F).db`,
		run: runBackup,
	})
	register(&command{
		name:    "restore",
		summary: "replace the database with a backup, after checking it",
		usage: `parley restore [--config FILE | --data DIR | --db PATH] FILE

Checks FILE (integrity check; a schema newer than this parley is refused),
refuses while a 'parley run' uses the database, keeps the database it
replaces as parley.db.before-restore-TIMESTAMP, and puts FILE in its place.
Start 'parley run' again afterwards; it migrates an older backup forward.

Example:
  parley restore --data /var/lib/parley /backups/parley-2026-11-30.db`,
		run: runRestore,
	})
}

func runBackup(ctx context.Context, e *env, args []string) error {
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: want one FILE to write the backup to", errUsage)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if err := e.sqliteOnly(cfg, "pg_dump --format=custom"); err != nil {
		return err
	}
	src := e.databasePath(cfg)
	start := time.Now()
	info, err := store.Backup(ctx, src, rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s: %s, schema version %d, integrity ok (%s)\n",
		src, info.Path, humanize.Bytes(uint64(max(info.Size, 0))), info.SchemaVersion, time.Since(start).Round(time.Millisecond))
	return nil
}

func runRestore(ctx context.Context, e *env, args []string) error {
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: want the backup FILE to restore", errUsage)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if err := e.sqliteOnly(cfg, "pg_restore"); err != nil {
		return err
	}
	dst := e.databasePath(cfg)
	// Check the backup before anything else, so a bad file changes nothing.
	if _, err := store.Verify(ctx, rest[0]); err != nil {
		return fmt.Errorf("refusing to restore: %w", err)
	}
	unlock, err := lockDatabase(dst)
	if err != nil {
		return fmt.Errorf("refusing to restore while it runs: %w", err)
	}
	defer unlock()
	kept, info, err := store.Restore(ctx, rest[0], dst, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored %s (%s, schema version %d) to %s\n", rest[0], humanize.Bytes(uint64(max(info.Size, 0))), info.SchemaVersion, dst)
	if kept != "" {
		fmt.Fprintf(e.stdout, "the database it replaced is kept as %s\n", kept)
	}
	return nil
}
