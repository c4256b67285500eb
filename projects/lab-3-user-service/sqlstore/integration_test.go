//go:build integration

package sqlstore

import (
	"os"
	"testing"
)

// TestIntegrationRepository runs the repository tests on the real servers.
func TestIntegrationRepository(t *testing.T) {
	for _, d := range []Dialect{MySQL, Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Run("repository", func(t *testing.T) { testRepository(t, d) })
			t.Run("explain", func(t *testing.T) { testExplain(t, d) })
			t.Run("revocations", func(t *testing.T) { testRevocations(t, d) })
		})
	}
}

// dsnFor reads the real server's address; a missing one fails (never skips) and says how to start it.
func dsnFor(t *testing.T, d Dialect) string {
	t.Helper()
	env := map[Dialect]string{MySQL: "MYSQL_DSN", Postgres: "POSTGRES_DSN"}[d]
	if env == "" {
		return ""
	}
	v := os.Getenv(env)
	if v == "" {
		t.Fatalf("%s is not set: start the database (docker compose -f docker-env/docker-compose.yml up -d mysql postgres) and export %s", env, env)
	}
	return v
}
