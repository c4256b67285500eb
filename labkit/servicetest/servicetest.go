// Package servicetest gives integration tests the address of a real service,
// and fails (never skips) with a one-line message that says which service to
// start and how when the address is missing. A skipped integration test looks
// green in CI while proving nothing.
package servicetest

import (
	"os"
	"testing"
)

// Service describes how to provide one environment variable.
type Service struct {
	Name    string // what the variable points at
	Example string // a value that works with the repository's docker compose
	Start   string // how to start it
}

// Known are the services the labs' integration tests use.
func Known() map[string]Service {
	return map[string]Service{
		"REDIS_ADDR": {Name: "Redis", Example: "127.0.0.1:6379",
			Start: "docker compose -f docker-env/docker-compose.yml --profile redis up -d, or redis-server --port 6379"},
		"MYSQL_DSN": {Name: "MySQL/MariaDB", Example: "root@tcp(127.0.0.1:3306)/test?parseTime=true",
			Start: "docker compose -f docker-env/docker-compose.yml --profile mysql up -d"},
		"POSTGRES_DSN": {Name: "PostgreSQL", Example: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
			Start: "docker compose -f docker-env/docker-compose.yml --profile postgres up -d"},
		"NATS_URL": {Name: "NATS (JetStream)", Example: "nats://127.0.0.1:4222",
			Start: "nats-server -js"},
		"KAFKA_BROKERS": {Name: "Kafka", Example: "127.0.0.1:9092",
			Start: "docker compose -f docker-env/docker-compose.yml --profile kafka up -d"},
	}
}

// Require returns the value of envVar or fails the test.
func Require(t testing.TB, envVar string) string {
	t.Helper()
	if v := os.Getenv(envVar); v != "" {
		return v
	}
	t.Fatal(Missing(envVar))
	return ""
}

// Missing is the one-line message for an unset variable.
func Missing(envVar string) string {
	s, ok := Known()[envVar]
	if !ok {
		return envVar + " is not set: this integration test needs it"
	}
	return envVar + " is not set: this integration test needs " + s.Name + "; start it (" + s.Start +
		") and export " + envVar + "=" + s.Example + " (make test-integration sets the local defaults)"
}
