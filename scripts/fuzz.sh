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
for m in $modules; do
	dir=${m#./}
	while IFS= read -r file; do
		pkg=./$(dirname "${file#"$dir"/}")
		for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$file"); do
			echo "=== fuzz $dir $pkg $target ($fuzztime)"
			count=$((count + 1))
			(cd "$dir" && "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg") || status=1
		done
	done < <(grep -rl --include='*_test.go' '^func Fuzz' "$dir" || true)
done
echo "fuzzed $count targets"
exit $status
