//go:build integration

package scenarios

import (
	"testing"
	"time"

	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
)

// TestLabOnPostgres runs the same four scenarios with a real PostgreSQL as the backing store
// (newBackend switches on POSTGRES_DSN): the pgx pool bounds concurrency, pg_sleep is the service
// time, and the symptoms and culprits must hold exactly as on the embedded model.
func TestLabOnPostgres(t *testing.T) {
	servicetest.Require(t, PostgresEnv)
	labtest.Run(t, Lab(), labtest.Duration(1500*time.Millisecond))
}
