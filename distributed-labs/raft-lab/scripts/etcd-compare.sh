#!/usr/bin/env bash
# Puts/s and latency of this lab's KV (on hashicorp/raft and on the lab's
# own Raft) beside etcd 3.4, all three as 3-node clusters on loopback with
# every write fsynced before it is acknowledged, driven by the same client
# (cmd/kvbench) at the same concurrencies.
#
#   scripts/etcd-compare.sh            # from distributed-labs/raft-lab; needs etcd (Debian: etcd-server)
#   DURATION=5s CONC=1,16,64 scripts/etcd-compare.sh
#
# Run it under the shared lock on a shared machine:
#   flock /tmp/arch-heavy.lock scripts/etcd-compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-3s}
CONC=${CONC:-1,16,64}
command -v etcd >/dev/null || { echo "etcd-compare: etcd not found; install Debian's etcd-server (apt-get install -y --no-install-recommends etcd-server)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/server" ./cmd/server
go build -o "$work/kvbench" ./cmd/kvbench

wait_http() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "etcd-compare: $1 never answered" >&2; return 1; }

for backend in hashicorp own; do
	"$work/server" -backend="$backend" -data="$work/$backend" >"$work/$backend.log" 2>&1 &
	pids+=($!)
	pid=$!
	wait_http http://127.0.0.1:7101/status
	sleep 1 # an election
	echo "## lab KV, backend $backend"
	"$work/kvbench" -target=lab -addr=127.0.0.1:7101 -c="$CONC" -d="$DURATION"
	kill "$pid"; wait "$pid" 2>/dev/null || true
done

cluster=e1=http://127.0.0.1:12380,e2=http://127.0.0.1:22380,e3=http://127.0.0.1:32380
for i in 1 2 3; do
	etcd --name "e$i" --data-dir "$work/etcd$i" \
		--listen-client-urls "http://127.0.0.1:${i}2379" --advertise-client-urls "http://127.0.0.1:${i}2379" \
		--listen-peer-urls "http://127.0.0.1:${i}2380" --initial-advertise-peer-urls "http://127.0.0.1:${i}2380" \
		--initial-cluster "$cluster" --initial-cluster-state new --log-level error >"$work/etcd$i.log" 2>&1 &
	pids+=($!)
done
wait_http http://127.0.0.1:12379/health
echo "## etcd $(etcd --version | head -1 | awk '{print $3}')"
"$work/kvbench" -target=etcd -addr=127.0.0.1:12379 -c="$CONC" -d="$DURATION"
