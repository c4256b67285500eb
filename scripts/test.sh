#!/usr/bin/env bash
# Runs the repository's checks module by module, the way CI does.
#
#   scripts/test.sh unit         gofmt, go vet, unit tests (-race) and fault-scenario tests
#   scripts/test.sh integration  tests tagged `integration`, against real services
#   scripts/test.sh lint         gofmt, go vet and golangci-lint (the version
#                                pinned in scripts/lint/go.mod)
#
# MODULES="labkit projects/lab-0-template" limits a run to those modules.
#
# Modules are the `use` lines of go.work. Scenario packages (named
# "scenarios") drive real load and time it, so they run without -race and one
# package at a time: the race detector's 5-10x slowdown, or a neighbouring
# package's load, would blur the 10x separation they assert.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-unit}
GO=${GO:-go}

modules=${MODULES:-$(awk '/^use *\(/{f=1;next} f&&/\)/{f=0} f{print $1} /^use [^(]/{print $2}' go.work)}
failed=()

lint() {
	local dir=$1 unformatted
	unformatted=$(cd "$dir" && gofmt -l . | grep -v '^testdata/' || true)
	if [ -n "$unformatted" ]; then
		echo "gofmt: $dir has unformatted files:"; echo "$unformatted"; return 1
	fi
	(cd "$dir" && "$GO" vet ./...)
}

# golangci-lint is built from scripts/lint, a module outside go.work that
# pins it as a tool dependency (go.mod's `tool` line), so every machine runs
# the same version and nothing has to be installed by hand.
golangci() {
	local bin=$PWD/bin/golangci-lint
	if [ ! -x "$bin" ] || [ scripts/lint/go.mod -nt "$bin" ]; then
		echo "building golangci-lint (pinned in scripts/lint/go.mod) ..." >&2
		(cd scripts/lint && GOWORK=off "$GO" build -o "$bin" github.com/golangci/golangci-lint/v2/cmd/golangci-lint)
	fi
	echo "$bin"
}

[ "$mode" = lint ] && linter=$(golangci)

for m in $modules; do
	dir=${m#./}
	echo "=== $mode: $dir"
	case $mode in
	lint)
		lint "$dir" || failed+=("$dir")
		(cd "$dir" && "$linter" run ./...) || failed+=("$dir (golangci-lint)");;
	unit)
		lint "$dir" || { failed+=("$dir"); continue; }
		pkgs=$(cd "$dir" && "$GO" list ./... | grep -v '/scenarios$' || true)
		scen=$(cd "$dir" && "$GO" list ./... | grep '/scenarios$' || true)
		if [ -n "$pkgs" ]; then
			(cd "$dir" && "$GO" test -race -count=1 $pkgs) || failed+=("$dir")
		fi
		# A package with race_off_test.go has timing assertions that only
		# hold at full speed (the load generator's rate accuracy): run it
		# once more without the race detector.
		timed=$(cd "$dir" && find . -name race_off_test.go -exec dirname {} \; | sort -u)
		if [ -n "$timed" ]; then
			(cd "$dir" && "$GO" test -count=1 $timed) || failed+=("$dir (without -race)")
		fi
		if [ -n "$scen" ]; then
			(cd "$dir" && "$GO" test -count=1 -p 1 $scen) || failed+=("$dir scenarios")
		fi;;
	integration)
		files=$(grep -rl --include='*_test.go' '^//go:build.*integration' "$dir" || true)
		if [ -z "$files" ]; then
			echo "(no integration tests)"; continue
		fi
		# Only the tests the integration-tagged files define: the unit tests
		# already ran in `make test`.
		names=$(sed -n 's/^func \(Test[A-Za-z0-9_]*\)(t \*testing\.T).*/\1/p' $files | sort -u | paste -sd'|')
		(cd "$dir" && "$GO" test -tags "integration${BUILD_TAGS:+,$BUILD_TAGS}" -count=1 -p 1 -run "^($names)\$" ./...) || failed+=("$dir");;
	*)
		echo "usage: scripts/test.sh unit|integration|lint" >&2; exit 2;;
	esac
done

if [ ${#failed[@]} -gt 0 ]; then
	echo; echo "FAILED: ${failed[*]}"; exit 1
fi
echo; echo "all $mode checks passed"
