#!/bin/sh
# Runs inside the cgroup-v2 VM (busybox ash, as root, in /work); run.sh stages
# it as test.sh next to rt, cgroups.test, itest.test and fixtures/.
export PATH=/work/bin:$PATH
export RT_BINARY=/work/rt RT_SHARED=/work/shared RT_TEST_IO_DEVICE=${CGV2VM_DISK:-}
export TMPDIR=/tmp

# libct/cgroups: the tests that need a real cgroup host (TestHostV1 skips here).
UNIT='^TestHost'
# tests/: what depends on the cgroup version. TestLifecycle and
# TestCgroupMountShowsLimits are left out: they look for v1 paths.
# TestRootlessV2: rootless rt on v2 (no cgroup, refused limits, a delegated
# subtree, the cgroup mounts, root with a user namespace), as a numeric uid.
# TestExec*, TestUserNamespace: exec joins the cgroup namespace (no
# CLONE_INTO_CGROUP then, libct/namespaces.go joinsCgroupNS).
IT='^(TestUpdate.*|TestEvents.*|TestResources.*|TestSmallPidsLimit|TestPauseResumePs|TestKillAll|TestKillCreated|TestDeleteKillsLeftovers|TestDeleteForceRunning|TestDevices|TestFifoDevice|TestRootlessV2|TestExecJoinsEverything|TestExecExitStatus|TestExecFlags|TestExecCreated|TestUserNamespace)$'
[ -s unit.pattern ] && UNIT=$(cat unit.pattern)
[ -s tests.pattern ] && IT=$(cat tests.pattern)

# The scratch disk on bfq (run.sh loads the module), for per-device weights
# (io.bfq.weight "MAJ:MIN W"); io.max does not depend on the scheduler.
if [ -n "$RT_TEST_IO_DEVICE" ]; then
  echo bfq > "/sys/block/${RT_TEST_IO_DEVICE##*/}/queue/scheduler" 2>/dev/null ||
    echo "guest: no bfq for $RT_TEST_IO_DEVICE; per-device weights are tested as refused"
fi

P=0 F=0 S=0
up() { cut -d' ' -f1 /proc/uptime; }
T0=$(up)
echo "guest: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo) MiB, controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control), io device: ${RT_TEST_IO_DEVICE:-none}"

# run NAME BINARY ARGS...: runs a Go test binary with -test.v, shows its
# output, and counts its top-level results.
run() {
  name=$1; shift
  t=$(up)
  { "$@" -test.v 2>&1; echo $? > /tmp/$name.rc; } | tee /tmp/$name.log
  rc=$(cat /tmp/$name.rc)
  p=$(grep -c '^--- PASS' /tmp/$name.log)
  f=$(grep -c '^--- FAIL' /tmp/$name.log)
  s=$(grep -c '^--- SKIP' /tmp/$name.log)
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    f=1
    echo "FAIL $name: exit status $rc without a failed test (panic, timeout or TestMain)"
  fi
  P=$((P+p)) F=$((F+f)) S=$((S+s))
  echo "== $name: $p passed, $f failed, $s skipped in $(awk -v a="$t" -v b="$(up)" 'BEGIN{printf "%.1f", b-a}')s"
}

run cgroups ./cgroups.test -test.run "$UNIT" -test.timeout 5m
run itest ./itest.test -test.run "$IT" -test.parallel 2 -test.timeout 6m

# Nothing of the tests may be left in the hierarchy.
left=$(ls -d /sys/fs/cgroup/rt-itest-* /sys/fs/cgroup/rt-test-* 2>/dev/null)
if [ -n "$left" ]; then
  F=$((F+1))
  echo "FAIL cgroups left behind: $left"
fi
echo "all tests took $(awk -v a="$T0" -v b="$(up)" 'BEGIN{printf "%.1f", b-a}')s (guest clock)"
echo "$P passed, $F failed, $S skipped"
[ "$F" = 0 ]
