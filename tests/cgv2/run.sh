#!/usr/bin/env bash
# Run rt's cgroup v2 tests in a throw-away cgroup-v2-only VM (../shared/cgv2-vm):
# the libct/cgroups tests that need a real host (TestHost*) and the integration
# tests of tests/ that depend on the cgroup version (limits, OOM, update, events,
# pause, kill, devices, rootless rt with and without a delegated cgroup). It
# builds a static rt and two static test binaries, ships them with a busybox
# rootfs, runs guest.sh in the VM and prints
# "N passed, N failed, N skipped". Exit status: the guest's (0 = all passed;
# 124 timeout, 125 VM failure, see run-in-vm.sh --help).
#
#   tests/cgv2/run.sh [run-in-vm.sh options, e.g. --out DIR --smp 2]
#
# Environment: RT_SHARED (default ../shared next to the repo), GO (default: go
# on PATH, else /usr/local/go/bin/go), CGV2_TESTS / CGV2_UNIT_TESTS (override
# the -test.run patterns), CGV2_TIMEOUT (seconds for the VM, default 540, so that build + VM stay under 10 minutes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${RT_SHARED:-$(cd "$repo/.." && pwd)/shared}
vm=$shared/cgv2-vm/run-in-vm.sh
[ -x "$vm" ] || { echo "cgv2: $vm not found (set RT_SHARED)" >&2; exit 2; }
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}

t0=$(date +%s.%N)
stage=$(mktemp -d "${TMPDIR:-/tmp}/rt-cgv2.XXXXXX")
trap 'rm -rf "$stage"' EXIT
(
  cd "$repo"
  export CGO_ENABLED=0
  "$GO" build -tags urfave_cli_no_docs -o "$stage/rt" .
  "$GO" test -c -o "$stage/cgroups.test" ./libct/cgroups
  "$GO" test -c -o "$stage/itest.test" ./tests
)
# The busybox rootfs is made on the host (the guest has no network).
fix=$(bash "$shared/mkfixtures.sh" | tail -n1)
mkdir -p "$stage/fixtures" "$stage/shared" "$stage/bin"
cp -a "$fix/rootfs" "$stage/fixtures/rootfs"
cp "$here/guest.sh" "$stage/test.sh"
chmod +x "$stage/test.sh"
# The harness runs "bash $RT_SHARED/mkfixtures.sh" and takes its last line as
# the fixtures directory; the guest has only busybox sh.
printf '#!/bin/sh\necho /work/fixtures\n' > "$stage/shared/mkfixtures.sh"
printf '#!/bin/sh\nexec /bin/sh "$@"\n' > "$stage/bin/bash"
chmod +x "$stage/shared/mkfixtures.sh" "$stage/bin/bash"
[ -n "${CGV2_TESTS:-}" ] && printf '%s\n' "$CGV2_TESTS" > "$stage/tests.pattern"
[ -n "${CGV2_UNIT_TESTS:-}" ] && printf '%s\n' "$CGV2_UNIT_TESTS" > "$stage/unit.pattern"
t1=$(date +%s.%N)
echo "cgv2: built and staged in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s ($(du -sh "$stage" | cut -f1))"

rc=0
# bfq: per-device weights on the scratch disk (guest.sh selects it).
"$vm" --timeout "${CGV2_TIMEOUT:-540}" --modules bfq "$@" "$stage" || rc=$?
t2=$(date +%s.%N)
echo "cgv2: exit $rc after $(awk -v a="$t0" -v b="$t2" 'BEGIN{printf "%.1f", b-a}')s in all"
exit "$rc"
