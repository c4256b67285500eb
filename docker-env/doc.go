// Package dockerenv holds no runtime code: its tests check docker-compose.yml and the
// observability configs beside it (Prometheus, Grafana, the OpenTelemetry collector, Loki,
// promtail) against the repository, so a broken reference fails `go test` instead of a
// learner's `docker compose up`.
package dockerenv
