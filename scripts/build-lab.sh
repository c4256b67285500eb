#!/usr/bin/env bash
# Builds lab N's runner into bin/lab-N for the Makefile.
#
#   scripts/build-lab.sh N DIR
#
# The Makefile calls this inside $(shell ...) and treats anything this script
# prints on STDOUT as a build error (it becomes make's one-line $(error)). So:
#   - progress goes to STDERR, which make passes straight to the terminal;
#   - `go: downloading ...` and the compiler's output go to a log file, because
#     a first build on a fresh machine prints dozens of such lines and they are
#     progress, not errors;
#   - only when `go build` exits non-zero does STDOUT get one line: the first
#     compiler error and where the whole log is.
set -uo pipefail
n=$1 dir=$2
GO=${GO:-go}
mkdir -p bin
log=bin/lab-$n.build.log

"$GO" build -o "bin/lab-$n" "./$dir/cmd/lab" >"$log" 2>&1 &
pid=$!

# A warm build takes about a second. If it is still going after two, this is
# a first build compiling the dependencies: say so, so a new user does not
# think it hung.
for _ in $(seq 20); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	echo "building lab $n: the first run downloads and compiles its dependencies, about a minute on 2 cores ..." >&2
fi

if wait "$pid"; then
	exit 0
fi
first=$(grep -v -e '^go: downloading' -e '^go: finding' -e '^#' "$log" | head -n 1)
echo "lab $n does not build: ${first:-go build failed} (full log: $log)"
