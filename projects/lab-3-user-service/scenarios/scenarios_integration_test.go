//go:build integration

package scenarios

import (
	"testing"

	"github.com/architect-roadmap/architect-roadmap/labkit/labtest"
	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
	"github.com/architect-roadmap/architect-roadmap/projects/lab-3-user-service/sqlstore"
)

// TestScenariosOnRealDatabases runs the same scenarios on MariaDB/MySQL and PostgreSQL; each run
// works in a scratch database (or schema) it creates and drops.
func TestScenariosOnRealDatabases(t *testing.T) {
	for _, b := range []Backend{
		{Dialect: sqlstore.MySQL, DSN: servicetest.Require(t, "MYSQL_DSN")},
		{Dialect: sqlstore.Postgres, DSN: servicetest.Require(t, "POSTGRES_DSN")},
	} {
		t.Run(string(b.Dialect), func(t *testing.T) { labtest.Run(t, LabOn(b)) })
	}
}
