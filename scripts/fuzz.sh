#!/usr/bin/env bash
# Runs every Fuzz target of every module for a short time (one target per
# `go test -fuzz` run, as the toolchain requires). New crashers are written
# to the package's testdata/fuzz/ folder: commit them, they become
# regression tests that `make test` runs.
#
#   scripts/fuzz.sh [fuzztime]     default 10s per target
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-10s}
GO=${GO:-go}
modules=$(awk '/^use *\(/{f=1;next} f&&/\)/{f=0} f{print $1} /^use [^(]/{print $2}' go.work)
status=0
count=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# fuzz_one runs one target. The toolchain sometimes ends a run whose target
# does I/O (a WAL that fsyncs on open) with a bare "context deadline exceeded"
# when -fuzztime expires while a worker is still busy: no input failed, and
# no "Failing input written" line names one. That case, and only that, is run
# once more; a real crasher is always written to testdata/fuzz and fails.
fuzz_one() {
	local dir=$1 pkg=$2 target=$3 try
	for try in 1 2; do
		if (cd "$dir" && "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg") >"$out" 2>&1; then
			cat "$out"
			return 0
		fi
		cat "$out"
		if grep -q 'Failing input written' "$out" || ! grep -q 'context deadline exceeded' "$out"; then
			return 1
		fi
		echo "=== fuzz $dir $pkg $target: the toolchain's deadline, not an input; once more (try $((try + 1)))"
	done
	return 1
}

for m in $modules; do
	dir=${m#./}
	while IFS= read -r file; do
		pkg=./$(dirname "${file#"$dir"/}")
		for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$file"); do
			echo "=== fuzz $dir $pkg $target ($fuzztime)"
			count=$((count + 1))
			fuzz_one "$dir" "$pkg" "$target" || status=1
		done
	done < <(grep -rl --include='*_test.go' '^func Fuzz' "$dir" || true)
done
echo "fuzzed $count targets"
exit $status
