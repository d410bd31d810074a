package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/postgres"
)

// StoreConfig is the store: section: which database Parley keeps its
// state in. SQLite (one file, DATA/parley.db) needs nothing; PostgreSQL
// lets several parley processes share one database.
type StoreConfig struct {
	// Driver is "sqlite" (the default) or "postgres".
	Driver string `yaml:"driver"`
	// DSNEnv names the environment variable holding the PostgreSQL URL
	// (postgres://user:password@host:5432/dbname); required for postgres.
	DSNEnv string `yaml:"dsn_env"`
}

// Store drivers.
const (
	driverSQLite   = "sqlite"
	driverPostgres = "postgres"
)

// check reports what is wrong with the store: section.
func (c StoreConfig) check(getenv func(string) string) []string {
	switch c.Driver {
	case "", driverSQLite:
		if c.DSNEnv != "" {
			return []string{"store.dsn_env is set but store.driver is not postgres: add `driver: postgres` or remove dsn_env"}
		}
	case driverPostgres:
		if strings.TrimSpace(c.DSNEnv) == "" {
			return []string{"store.driver is postgres but store.dsn_env is missing: name the variable holding the database URL (e.g. dsn_env: PARLEY_DATABASE_URL)"}
		}
		if getenv != nil && getenv(c.DSNEnv) == "" {
			return []string{fmt.Sprintf("store.dsn_env: the variable %s is not set (it holds the PostgreSQL URL)", c.DSNEnv)}
		}
	default:
		return []string{fmt.Sprintf("store.driver %q is unknown: want sqlite or postgres", c.Driver)}
	}
	return nil
}

// postgresURL returns the PostgreSQL database the flags, the environment
// and cfg (may be nil) select, or "" for SQLite: --db (or PARLEY_DB) when
// it is a postgres:// URL (a file path there means SQLite), else
// PARLEY_DATABASE_URL, else the config's store: section.
func (e *env) postgresURL(cfg *Config) (string, error) {
	if e.dbPath != "" {
		if postgres.IsURL(e.dbPath) {
			return e.dbPath, nil
		}
		return "", nil
	}
	if e.getenv != nil {
		if v := e.getenv("PARLEY_DATABASE_URL"); v != "" {
			if !postgres.IsURL(v) {
				return "", parley.Errorf(parley.EINVALID, "PARLEY_DATABASE_URL is not a postgres:// URL")
			}
			return v, nil
		}
	}
	if cfg == nil || cfg.Store.Driver != driverPostgres {
		return "", nil
	}
	v := ""
	if e.getenv != nil {
		v = e.getenv(cfg.Store.DSNEnv)
	}
	if v == "" {
		return "", parley.Errorf(parley.EINVALID, "store.dsn_env: the variable %s is not set (it holds the PostgreSQL URL)", cfg.Store.DSNEnv)
	}
	return v, nil
}

// sharedStore is what `parley run` needs from a store: every part of it
// (pipeline, outbox, decisions, web inbox, digest, advocates, connectors'
// cursors). Both the SQLite and the PostgreSQL store have it.
type sharedStore interface {
	parley.Store
	parley.WebStore
	parley.ConversationStore
	parley.AdvocateStore
	parley.DigestStore
	parley.StatusStore
	parley.UndoStore
	parley.WebhookStore
	parley.EraseStore
	parley.AlertStore
}

var (
	_ sharedStore = (*store.Store)(nil)
	_ sharedStore = (*postgres.Store)(nil)
)

// cliStore is what the commands around the store (queue, conversations,
// people, export, stats, status, users, rules apply, digest, sentiment,
// advocates, ingest) need: both stores have it, so each works on whichever
// is selected.
type cliStore interface {
	sharedStore
	parley.RuleReapplier
	parley.MentionSearcher
	parley.DataExporter
	parley.CorrectionStore
	// CheckPrompt runs the consent rules for req without queueing
	// anything (nil when the prompt would be queued now).
	CheckPrompt(ctx context.Context, req parley.PromptRequest, pol parley.ConsentPolicy) error
	// Where names the database for people (a file path, or the server
	// and database without the password).
	Where() string
}

var (
	_ cliStore = (*store.Store)(nil)
	_ cliStore = (*postgres.Store)(nil)
)

// openShared opens the store the flags, environment and cfg select for
// 'parley run'. where names it for logs (never a password); unlock releases
// the SQLite file's process lock (PostgreSQL needs none: several processes
// share it, node naming this one among them).
func (e *env) openShared(ctx context.Context, cfg *Config, node string) (st sharedStore, where string, unlock func(), err error) {
	url, err := e.postgresURL(cfg)
	if err != nil {
		return nil, "", nil, err
	}
	if url != "" {
		pg, err := postgres.Open(ctx, url, postgres.Options{Logger: e.logger, Node: node})
		if err != nil {
			return nil, "", nil, err
		}
		return pg, pg.Where(), func() {}, nil
	}
	path := e.databasePath(cfg)
	unlock, err = lockDatabase(path)
	if err != nil {
		return nil, "", nil, err
	}
	s, err := store.Open(ctx, path, store.Options{Logger: e.logger})
	if err != nil {
		unlock()
		return nil, "", nil, err
	}
	return s, s.Path(), unlock, nil
}

// openAny opens the store the flags, environment and cfg select, without
// the process lock `parley run` takes: for commands that change a few rows
// while it runs (webhooks, erasure).
func (e *env) openAny(ctx context.Context, cfg *Config) (sharedStore, error) {
	return e.openStore(ctx, cfg)
}

// sqliteOnly refuses to run a command that works on a SQLite file only
// when PostgreSQL is selected, saying what to use there instead.
func (e *env) sqliteOnly(cfg *Config, instead string) error {
	url, err := e.postgresURL(cfg)
	if err != nil || url == "" {
		return err
	}
	return parley.Errorf(parley.EINVALID, "parley %s works on a SQLite database file only, and PostgreSQL is selected "+
		"(--db, PARLEY_DATABASE_URL or the config's store:): use %s for PostgreSQL, or pass --db FILE", e.cmd.name, instead)
}
