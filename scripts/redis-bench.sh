#!/usr/bin/env bash
# redis-bench.sh — lab 5: redis-benchmark against the mini Redis and a real redis-server, side by
# side, in the same run. Prints a markdown table with ops/s and the mini/redis ratio.
#
#   scripts/redis-bench.sh              # -t set,get -n 200000 -c 50 at -P 1 and -P 16
#   N=50000 scripts/redis-bench.sh      # shorter
#
# Needs redis-server and redis-benchmark (Debian: apt-get install -y --no-install-recommends
# redis-server redis-tools) and Go. Both servers run on loopback ports of their own (MINI_PORT,
# REDIS_PORT); the Redis on 6379 is never touched.
set -euo pipefail

N=${N:-200000}
C=${C:-50}
MINI_PORT=${MINI_PORT:-6390}
REDIS_PORT=${REDIS_PORT:-6391}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

for tool in redis-server redis-benchmark go; do
	command -v "$tool" >/dev/null || { echo "redis-bench: $tool not found (apt-get install -y --no-install-recommends redis-server redis-tools)" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$ROOT/middleware-labs/redis-lab" && go build -o "$work/mini-redis" ./cmd/server)
"$work/mini-redis" -addr "127.0.0.1:$MINI_PORT" -debug-addr "" >"$work/mini.log" 2>&1 &
pids+=($!)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)

for port in "$MINI_PORT" "$REDIS_PORT"; do
	for _ in $(seq 50); do
		redis-cli -p "$port" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	redis-cli -p "$port" ping >/dev/null || { echo "redis-bench: server on port $port did not start" >&2; exit 1; }
done

# rps PORT PIPELINE TEST -> requests per second from redis-benchmark's CSV
rps() {
	redis-benchmark -h 127.0.0.1 -p "$1" -t "$3" -n "$N" -c "$C" -P "$2" --csv 2>/dev/null |
		awk -F'","' 'NR>1 {gsub(/"/, "", $2); print $2}'
}

echo "redis-benchmark -t set,get -n $N -c $C; mini = middleware-labs/redis-lab/cmd/server, redis-server $(redis-server --version | awk '{print $3}' | sed 's/^v=//')"
echo "cores: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| test | pipeline | mini ops/s | redis-server ops/s | mini / redis |"
echo "| --- | --- | ---: | ---: | ---: |"
for p in 1 16; do
	for t in set get; do
		# The two runs of a row are back to back, so both see about the same machine load.
		m=$(rps "$MINI_PORT" "$p" "$t")
		r=$(rps "$REDIS_PORT" "$p" "$t")
		ratio=$(awk -v m="$m" -v r="$r" 'BEGIN { printf "%.2f", m / r }')
		echo "| ${t^^} | $p | $m | $r | $ratio |"
	done
done
