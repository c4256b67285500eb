#!/usr/bin/env bash
# sysbench oltp_point_select and oltp_read_only against the mini MySQL and against MariaDB, with
# the same table size, threads and duration, and the QPS ratio of each (the README's figures).
#
#   bash middleware-labs/mysql-lab/sysbench.sh                 # 10,000 rows, 2 threads, 10 s each
#   TABLE_SIZE=50000 THREADS=4 TIME=20 bash middleware-labs/mysql-lab/sysbench.sh
#
# Needs sysbench 1.0.20 and a MariaDB on MARIADB_HOST:MARIADB_PORT (127.0.0.1:3306, root, no
# password, database test). The mini MySQL is built and started here on MINI_PORT (33070).
set -euo pipefail
cd "$(dirname "$0")"
TABLE_SIZE=${TABLE_SIZE:-10000} THREADS=${THREADS:-2} TIME=${TIME:-10}
MARIADB_HOST=${MARIADB_HOST:-127.0.0.1} MARIADB_PORT=${MARIADB_PORT:-3306} MINI_PORT=${MINI_PORT:-33070}
command -v sysbench >/dev/null || { echo "sysbench.sh: sysbench not found (Debian: apt-get install sysbench)" >&2; exit 2; }

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
GOFLAGS=-tags=nomsgpack go build -o "$work/mini-mysql" ./cmd/server
"$work/mini-mysql" -addr "127.0.0.1:$MINI_PORT" -debug-addr "" -data "$work/data" -slow-log "" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	if sysbench --version >/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$MINI_PORT") 2>/dev/null; then break; fi
	sleep 0.1
done

qps() { # target host port test -> queries per second
	local host=$2 port=$3 test=$4
	local args=(--db-driver=mysql --mysql-host="$host" --mysql-port="$port" --mysql-user=root --mysql-db=test
		--tables=1 --table-size="$TABLE_SIZE" --threads="$THREADS" --time="$TIME" --report-interval=0)
	sysbench "$test" "${args[@]}" cleanup >/dev/null 2>&1 || true
	sysbench "$test" "${args[@]}" prepare >/dev/null
	sysbench "$test" "${args[@]}" run | awk '/queries:/ {gsub(/[()]/, "", $3); print $3}'
	sysbench "$test" "${args[@]}" cleanup >/dev/null 2>&1 || true
}

echo "table size $TABLE_SIZE, $THREADS threads, $TIME s per run; $(date -u +%FT%TZ)"
printf '%-18s %12s %12s %8s\n' test mini-mysql mariadb ratio
for test in oltp_point_select oltp_read_only; do
	mini=$(qps mini 127.0.0.1 "$MINI_PORT" "$test")
	maria=$(qps mariadb "$MARIADB_HOST" "$MARIADB_PORT" "$test")
	printf '%-18s %12s %12s %8s\n' "$test" "$mini" "$maria" "$(awk -v a="$mini" -v b="$maria" 'BEGIN { printf "%.2fx", a / b }')"
done
