#!/usr/bin/env bash
# Checks docker-env/ with the real tools, beyond what `go test ./...` in this module checks:
#   - promtool (Debian package `prometheus`): the Prometheus config, every lab's alert rules,
#     their unit tests, and the PromQL of every Grafana dashboard panel;
#   - docker-compose 1.29 (Debian package `docker-compose`, install with --no-install-recommends):
#     the compose file against the compose schema, without a Docker engine.
# Usage (from anywhere): bash docker-env/validate.sh
# Install: apt-get install -y --no-install-recommends prometheus docker-compose
set -euo pipefail
cd "$(dirname "$0")"

need() {
	command -v "$1" >/dev/null || {
		echo "validate.sh: $1 not found; install it: apt-get install -y --no-install-recommends $2" >&2
		exit 2
	}
}
need promtool prometheus
need docker-compose docker-compose

shopt -s nullglob
rules=(prometheus/rules/*.yml)
tests=(prometheus/tests/*.test.yml)
if [ ${#rules[@]} -eq 0 ]; then
	echo "validate.sh: no rule files in docker-env/prometheus/rules (each lab ships lab-N.yml)" >&2
	exit 1
fi

echo "== promtool check config prometheus/prometheus.yml"
promtool check config prometheus/prometheus.yml

echo "== promtool check rules ${rules[*]}"
promtool check rules "${rules[@]}"

echo "== promtool test rules ${tests[*]}"
promtool test rules "${tests[@]}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== dashboard PromQL: promtool check rules (generated from grafana/dashboards/*.json)"
go run ./cmd/dashboard-rules grafana/dashboards/*.json >"$tmp/dashboards.rules.yml"
promtool check rules "$tmp/dashboards.rules.yml"

echo "== docker-compose -f docker-compose.yml config -q"
# 1.29 validates every service whatever the profiles; per-profile loading is in compose_test.go.
docker-compose -f docker-compose.yml config -q
echo "docker-env: all checks passed"
