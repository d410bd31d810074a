package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the server PostgresURL uses when PARLEY_TEST_POSTGRES
// is not set: the local cluster with trust authentication.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres"

// PostgresURL creates a fresh database with a random name on the test
// PostgreSQL server (PARLEY_TEST_POSTGRES, else DefaultPostgres), drops it
// when the test ends, and returns its URL. With PARLEY_TEST_POSTGRES unset
// and no server answering, the test is skipped with a message saying how
// to run it; with it set, an unreachable server fails the test.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin, explicit := os.LookupEnv("PARLEY_TEST_POSTGRES")
	if !explicit || admin == "" {
		admin, explicit = DefaultPostgres, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if explicit {
			t.Fatalf("PARLEY_TEST_POSTGRES=%s: %v", redact(admin), err)
		}
		t.Skipf("SKIPPED: no PostgreSQL at %s (%v). Run .ci/run (it starts or installs one) or set PARLEY_TEST_POSTGRES to a server URL.", admin, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	name := "parley_test_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database %s on %s: %v", name, redact(admin), err)
	}
	t.Cleanup(func() { dropDatabase(t, admin, name) })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("PARLEY_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// dropDatabase drops a test database, ending the sessions a test left open.
func dropDatabase(t testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Errorf("drop test database %s: %v", name, err)
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("drop test database %s: %v", name, err)
	}
}

// redact hides a URL's password.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
