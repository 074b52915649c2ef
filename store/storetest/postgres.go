package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver for creating test schemas
)

// PostgresEnv names the variable holding the test database's DSN.
const PostgresEnv = "OPTINBOT_TEST_DATABASE_URL"

// DefaultPostgresDSN is the test database when PostgresEnv is unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func pgBaseDSN() string {
	if dsn := os.Getenv(PostgresEnv); dsn != "" {
		return dsn
	}
	return DefaultPostgresDSN
}

// redact hides a password in a DSN for test messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(unparseable DSN)"
}

// PostgresDSN creates a fresh schema in the test database, dropped when the
// test ends, and returns a DSN whose search_path is that schema. The session
// time zone is deliberately not UTC, to prove the store returns UTC anyway.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := pgBaseDSN()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		tb.Fatalf("PostgreSQL DSN %s (from $%s or the default) is invalid: %v", redact(base), PostgresEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		tb.Fatalf("PostgreSQL is unreachable at %s: %v\n"+
			"These tests need PostgreSQL; they never skip. Point $%s at a database you may create schemas in, "+
			"or start the local server: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start "+
			"(check with: pg_isready -h 127.0.0.1)", redact(base), err, PostgresEnv)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "optinbot_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema %s in PostgreSQL at %s: %v", schema, redact(base), err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("PostgreSQL DSN %s (from $%s or the default) is not a postgres:// URL: %v", redact(base), PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("timezone", "America/New_York")
	u.RawQuery = q.Encode()
	return u.String()
}
