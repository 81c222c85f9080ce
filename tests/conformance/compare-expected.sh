#!/usr/bin/env bash
# compare-expected.sh - compare one run of the validation suite with
# expected.tsv (beside this script) and end with `N passed, N failed`.
#
# Usage: tests/conformance/compare-expected.sh [options] RESULTS_DIR
#
#   RESULTS_DIR holds results.tsv as ../shared/conformance/run-validation.sh
#   writes it (run.sh's OUTDIR/validation, or a shared baseline directory).
#   A test passes when its status is PASS, SKIP or EMPTY. DIAG does not pass
#   here (run-validation.sh counts it as passed): it is how the hook tests
#   report a violation.
#
# Options:
#   -r DIR   results of a second run of the unexpected failures: a test that
#            passed there is FLAKY (counted as passed, and reported)
#   -s       a subset of the suite ran: expected.tsv lines without a result
#            are not a problem
#   -o FILE  also write the comparison as TSV: test status expected verdict reason
#   -u       only print the names of the unexpected failures, one a line
#
# Verdicts: ok; UNEXPECTED-FAIL (expected pass, did not pass: counted as
# failed); NEWLY-PASSING (expected fail/impossible/suite-bug, passed: update
# expected.tsv); expected-fail, expected-impossible, expected-suite-bug;
# FLAKY. A test without a line in expected.tsv, or a line naming no test of
# a full run, is a problem: exit 1.
#
# Exit status: 0 if nothing failed unexpectedly and no problem, 1 otherwise,
# 2 on usage errors or a malformed expected.tsv.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
EXPECTED=$HERE/expected.tsv

die() { echo "compare-expected.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; }

retry_dir="" subset=0 out="" names_only=0
while getopts "r:so:uh" opt; do
  case $opt in
    r) retry_dir=$OPTARG ;;
    s) subset=1 ;;
    o) out=$OPTARG ;;
    u) names_only=1 ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# = 1 ] || { usage >&2; exit 2; }
results=$1/results.tsv
[ -f "$results" ] || die "no $results"
[ -z "$retry_dir" ] || [ -f "$retry_dir/results.tsv" ] || die "no $retry_dir/results.tsv"
[ -f "$EXPECTED" ] || die "missing $EXPECTED"

bad=$(awk -F'\t' '!/^[ \t]*(#|$)/ && (NF != 3 || $2 !~ /^(pass|fail|impossible|suite-bug)$/ || $3 == "") {
  print "expected.tsv:" FNR ": " $0 }' "$EXPECTED")
[ -z "$bad" ] || die "each expected.tsv line must be test<TAB>pass|fail|impossible|suite-bug<TAB>reason:
$bad"
dups=$(awk -F'\t' '!/^[ \t]*(#|$)/ { if (seen[$1]++) print $1 }' "$EXPECTED")
[ -z "$dups" ] || die "expected.tsv names these tests twice: $dups"

# test status expected verdict reason; FLAKY when the retry passed.
table=$(awk -F'\t' -v OFS='\t' -v retry="${retry_dir:+$retry_dir/results.tsv}" '
  function passed(st) { return st == "PASS" || st == "SKIP" || st == "EMPTY" }
  BEGIN {
    if (retry != "") { while ((getline l < retry) > 0) { split(l, f, "\t"); if (passed(f[2])) again[f[1]] = 1 } }
  }
  FILENAME == ARGV[1] { if ($0 !~ /^[ \t]*(#|$)/) { want[$1] = $2; why[$1] = $3 } next }
  FNR == 1 { next }
  { t = $1; ok = passed($2); e = (t in want) ? want[t] : "missing"
    if (e == "pass" || e == "missing") v = ok ? "ok" : ((t in again) ? "FLAKY" : "UNEXPECTED-FAIL")
    else v = ok ? "NEWLY-PASSING" : "expected-" e
    print t, $2, e, v, why[t] }' "$EXPECTED" "$results") || die "awk failed"
[ "$(printf '%s\n' "$table" | grep -c .)" = "$(($(wc -l <"$results") - 1))" ] ||
  die "the comparison lost tests (results.tsv: $(($(wc -l <"$results") - 1)))"
[ -n "$out" ] && printf '%s\n' "$table" >"$out"

if [ "$names_only" = 1 ]; then
  printf '%s\n' "$table" | awk -F'\t' '$4 == "UNEXPECTED-FAIL" {print $1}'
  exit 0
fi

problems=()
while read -r t; do
  [ -n "$t" ] && problems+=("$t has no line in expected.tsv")
done < <(printf '%s\n' "$table" | awk -F'\t' '$3 == "missing" {print $1}')
if [ "$subset" = 0 ]; then
  while read -r t; do
    [ -n "$t" ] && problems+=("expected.tsv names $t, which has no result (not a test of this suite?)")
  done < <(awk -F'\t' 'FILENAME == ARGV[1] { if (FNR > 1) have[$1] = 1; next }
                       !/^[ \t]*(#|$)/ && !($1 in have) { print $1 }' "$results" "$EXPECTED")
fi

count() { printf '%s\n' "$table" | awk -F'\t' -v v="$1" '$4 == v {n++} END {print n + 0}'; }
echo "# comparison with tests/conformance/expected.tsv (passes: PASS, SKIP, EMPTY; not DIAG)"
printf '%s\n' "$table" | awk -F'\t' '{ printf "%-32s %-7s %-10s %-19s %.90s\n", $1, $2, $3, $4, $5 }'
for p in "${problems[@]}"; do echo "# PROBLEM: $p"; done
if [ "$(count NEWLY-PASSING)" -gt 0 ]; then
  echo "# newly passing, update expected.tsv (mark them pass after reading the reason):"
  printf '%s\n' "$table" | awk -F'\t' '$4 == "NEWLY-PASSING" {print "#   " $1 " (" $3 ": " $5 ")"}'
fi
if [ "$(count FLAKY)" -gt 0 ]; then
  echo "# FLAKY, failed and then passed when run again (counted as passed; the first run's failures.txt says why):"
  printf '%s\n' "$table" | awk -F'\t' '$4 == "FLAKY" {print "#   " $1 " " $2}'
fi
nfail=$(count UNEXPECTED-FAIL)
if [ "$nfail" -gt 0 ]; then
  echo "# UNEXPECTED FAILURES, expected.tsv says pass (details: failures.txt beside results.tsv):"
  printf '%s\n' "$table" | awk -F'\t' '$4 == "UNEXPECTED-FAIL" {print "#   " $1 " " $2}'
fi
npass=$(($(count ok) + $(count NEWLY-PASSING) + $(count FLAKY)))
echo "# not passing, as expected: fail $(count expected-fail), impossible $(count expected-impossible), suite-bug $(count expected-suite-bug); newly passing $(count NEWLY-PASSING); flaky $(count FLAKY)"
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ] && [ ${#problems[@]} = 0 ]
