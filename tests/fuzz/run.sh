#!/bin/bash
# run.sh [SECONDS]: run every Go fuzz target of rt (func FuzzXxx in a
# _test.go file outside tests/) for SECONDS each (default 20), one after
# the other. Fails if any target fails. See docs/reliability.md.
#
# A failing input is written by `go test` to
# <package>/testdata/fuzz/<Target>/<hash>; it is then a seed that every
# plain `go test` of that package runs again. Fix the bug and commit the
# file as a regression seed (or delete it if the target was wrong).
set -uo pipefail
secs=${1:-20}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "fuzz: go not found" >&2; exit 2; }
# Targets that read files write one per input: on ext4 each rewrite is
# flushed at close (auto_da_alloc), ~50x slower than tmpfs.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

# package dir and target name, one pair per line
mapfile -t pairs < <(grep -rsE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . |
	grep -v '^\./tests/' |
	sed -E 's,^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*,\1 \2,' | sort -u)
[ ${#pairs[@]} -gt 0 ] || { echo "fuzz: no fuzz targets found" >&2; exit 2; }

echo "fuzz: ${#pairs[@]} targets, ${secs}s each"
failed=()
for p in "${pairs[@]}"; do
	read -r pkg target <<<"$p"
	corpus=$pkg/testdata/fuzz/$target
	before=$(ls "$corpus" 2>/dev/null | sort)
	start=$(date +%s)
	log=$(mktemp)
	race=""
	for try in 1 2; do
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s" "./$pkg" >"$log" 2>&1
		code=$?
		# Go's fuzzing coordinator (go1.26) can report its own -fuzztime
		# deadline as a failure: a race at shutdown, go.dev/issue/75804,
		# fixed in go1.27. With no failing input saved and nothing but
		# "context deadline exceeded" reported, that is no finding: try
		# once more, and if it happens again, count the run as done.
		[ "$code" != 0 ] && grep -q 'context deadline exceeded' "$log" &&
			! grep -qE 'panic|Failing input|--- FAIL: .*/' "$log" &&
			[ "$(ls "$corpus" 2>/dev/null | sort)" = "$before" ] || break
		if [ "$try" = 2 ]; then
			race=" (again the fuzzing engine's deadline race, go.dev/issue/75804; no failing input)"
			code=0
			break
		fi
		echo "fuzz: $target: the fuzzing engine reported its own deadline (go.dev/issue/75804), no failing input; running it again"
	done
	took=$(($(date +%s) - start))
	# the last progress line says how many inputs ran
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -n1 | cut -d' ' -f2)
	if [ "$code" = 0 ]; then
		printf 'fuzz: ok    %-28s %-14s %6s execs  %3ss%s\n' "$target" "./$pkg" "${execs:-?}" "$took" "$race"
	else
		printf 'fuzz: FAIL  %-28s %-14s (exit %d, %ss)\n' "$target" "./$pkg" "$code" "$took"
		grep -vE '^(fuzz: elapsed|=== RUN|--- FAIL)' "$log" | head -n 30 | sed 's/^/      /'
		for f in $(comm -13 <(echo "$before") <(ls "$corpus" 2>/dev/null | sort)); do
			echo "      crashing input saved as a seed: $corpus/$f"
			echo "      reproduce: go test -run '^$target/$f\$' ./$pkg"
		done
		failed+=("$target")
	fi
	rm -f "$log"
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAIL: ${failed[*]}"
	exit 1
fi
echo "fuzz: PASS (${#pairs[@]} targets, ${secs}s each)"
