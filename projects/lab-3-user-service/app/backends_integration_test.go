//go:build integration

package app

import (
	"testing"

	"github.com/architect-roadmap/architect-roadmap/labkit/servicetest"
)

// realBackends are the servers on this machine (or in docker-env), with state in Redis; a
// missing address fails the test and says how to start the service.
func realBackends(t *testing.T) []backend {
	redisAddr := servicetest.Require(t, "REDIS_ADDR")
	return []backend{
		{name: "mariadb+redis", dialect: "mysql", dsn: servicetest.Require(t, "MYSQL_DSN"), redisAddr: redisAddr},
		{name: "postgres+redis", dialect: "postgres", dsn: servicetest.Require(t, "POSTGRES_DSN"), redisAddr: redisAddr},
		{name: "mariadb+redis+grpc-auth", dialect: "mysql", dsn: servicetest.Require(t, "MYSQL_DSN"), redisAddr: redisAddr, grpcAuth: true},
	}
}

// TestIntegrationAttacks runs the whole attack suite against the real databases and Redis.
func TestIntegrationAttacks(t *testing.T) { onEach(t, realBackends(t), attackSuite) }

func TestIntegrationSessionLifecycle(t *testing.T) {
	onEach(t, realBackends(t), testSessionLifecycle)
}

func TestIntegrationListPagination(t *testing.T) { onEach(t, realBackends(t), testListPagination) }
