#!/usr/bin/env bash
# loadgen-vs-wrk.sh: compare labkit's load generator with wrk and hey against the same trivial
# Go HTTP server on loopback, with the same connections and duration.
#
#   scripts/loadgen-vs-wrk.sh                     # 50 connections, 5s per run, 3 rounds
#   CONNS=100 DURATION=10s ROUNDS=5 scripts/loadgen-vs-wrk.sh
#
# Each round runs the three tools one after another, rotating which goes first so that a burst
# of load from something else on the machine does not always hit the same tool. It prints every
# run, then per tool the best and the median req/s, and the ratios of labkit's loadgen to wrk and
# to hey (best vs best, median vs median). When GNU time is installed it also reports the CPU
# (user+sys) each tool spent per request, which moves less than req/s on a busy machine.
#
# Needs: go, wrk (apt-get install -y --no-install-recommends wrk), hey
# (go install github.com/rakyll/hey@latest; found on PATH or in $(go env GOPATH)/bin).
set -euo pipefail

CONNS=${CONNS:-50}
DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-3}
WRK_THREADS=${WRK_THREADS:-2}

die() { echo "loadgen-vs-wrk: $*" >&2; exit 2; }

[[ $CONNS =~ ^[1-9][0-9]*$ ]] || die "CONNS must be a positive integer, got '$CONNS'"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"
[[ $DURATION =~ ^[1-9][0-9]*s$ ]] || die "DURATION must be whole seconds like 5s, got '$DURATION'"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command -v go >/dev/null || die "go not found on PATH"
command -v wrk >/dev/null || die "wrk not found; install it with: apt-get install -y --no-install-recommends wrk"
HEY=$(command -v hey || true)
if [[ -z $HEY ]]; then
	HEY="$(go env GOPATH)/bin/hey"
	[[ -x $HEY ]] || die "hey not found; install it with: go install github.com/rakyll/hey@latest"
fi
TIME=""
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%U' true >/dev/null 2>&1; then
	TIME=/usr/bin/time
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
	if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$root/labkit" && go build -o "$work/okserver" ./loadgen/internal/okserver && go build -o "$work/loadgen" ./cmd/loadgen) \
	|| die "build failed"

"$work/okserver" -addr 127.0.0.1:0 >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
	[[ -s $work/server.out ]] && break
	sleep 0.1
done
addr=$(head -n1 "$work/server.out")
[[ $addr =~ ^127\.0\.0\.1:[0-9]+$ ]] || die "server did not start: $(cat "$work/server.out")"
url="http://$addr/"

# run TOOL: prints "REQS_PER_SEC CPU_SECONDS REQUESTS" (CPU and requests "-" when unknown).
run() {
	local tool=$1 out="$work/$1.out" tm="$work/$1.time" rps cpu reqs
	local -a cmd
	case $tool in
	wrk) cmd=(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" "$url") ;;
	hey) cmd=("$HEY" -c "$CONNS" -z "$DURATION" "$url") ;;
	loadgen) cmd=("$work/loadgen" -url "$url" -c "$CONNS" -d "$DURATION") ;;
	esac
	if [[ -n $TIME ]]; then
		"$TIME" -o "$tm" -f '%U %S' "${cmd[@]}" >"$out" 2>&1 || die "$tool failed: $(tail -n3 "$out")"
		cpu=$(awk '{printf "%.2f", $1 + $2}' "$tm")
	else
		"${cmd[@]}" >"$out" 2>&1 || die "$tool failed: $(tail -n3 "$out")"
		cpu=-
	fi
	case $tool in
	wrk)
		rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
		reqs=$(awk '/requests in/ {print $1}' "$out")
		;;
	hey)
		rps=$(awk '/Requests\/sec:/ {print $2}' "$out")
		# hey prints a status code distribution: "[200]	123456 responses"
		reqs=$(awk '/responses/ {gsub(/[^0-9]/, "", $2); n += $2} END {print n + 0}' "$out")
		;;
	loadgen)
		rps=$(awk '$1 == "requests" {print $4}' "$out")
		reqs=$(awk '$1 == "requests" {print $2}' "$out")
		errs=$(awk '$1 == "requests" {print $6}' "$out")
		[[ $errs == 0 ]] || die "loadgen reported $errs errors: $(cat "$out")"
		;;
	esac
	[[ -n $rps ]] || die "could not read req/s from $tool output: $(head -n5 "$out")"
	echo "$rps $cpu ${reqs:--}"
}

echo "server: $url (okserver, 2-byte body); connections: $CONNS; duration: $DURATION; rounds: $ROUNDS; wrk threads: $WRK_THREADS"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
run loadgen >/dev/null # warm-up: page in the binaries, let the server grow its buffers

tools=(wrk hey loadgen)
declare -A results
printf '\n%-6s %-8s %12s %12s %16s\n' round tool "req/s" "cpu s" "cpu us/request"
for ((r = 1; r <= ROUNDS; r++)); do
	for ((i = 0; i < 3; i++)); do
		tool=${tools[$(((i + r - 1) % 3))]}
		read -r rps cpu reqs < <(run "$tool")
		results[$tool]+="$rps "
		per="-"
		if [[ $cpu != - && $reqs != - && $reqs -gt 0 ]]; then
			per=$(awk -v c="$cpu" -v n="$reqs" 'BEGIN {printf "%.1f", c * 1e6 / n}')
		fi
		printf '%-6s %-8s %12.0f %12s %16s\n' "$r" "$tool" "$rps" "$cpu" "$per"
	done
done

stats() { # best and median of a list of numbers
	tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f %.0f %.0f\n", a[NR], m, a[1]}'
}
printf '\n%-8s %10s %10s %10s\n' tool best median worst
declare -A best median
for tool in "${tools[@]}"; do
	read -r b m w < <(stats "${results[$tool]}")
	best[$tool]=$b median[$tool]=$m
	printf '%-8s %10s %10s %10s\n' "$tool" "$b" "$m" "$w"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "loadgen / wrk: best $(ratio "${best[loadgen]}" "${best[wrk]}")x, median $(ratio "${median[loadgen]}" "${median[wrk]}")x"
echo "loadgen / hey: best $(ratio "${best[loadgen]}" "${best[hey]}")x, median $(ratio "${median[loadgen]}" "${median[hey]}")x"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
