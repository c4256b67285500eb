// Package e2e holds lab 0's end-to-end integration tests: the real server
// binary, scraped by a real Prometheus and exporting traces over OTLP.
// Run them with `make test-integration`.
package e2e
