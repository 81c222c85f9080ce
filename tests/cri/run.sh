#!/bin/bash
# tests/cri/run.sh RT_BINARY
#
# Kubernetes' path to rt without a cluster: CRI (runtime.v1) -> containerd
# 1.6 -> containerd-shim-runc-v2 -> RT_BINARY, configured as the runtime
# handler "rt". It installs what is missing (containerd,
# containernetworking-plugins, iptables, jq, busybox-static), builds two images
# offline (a static pause program and busybox), starts a containerd of its own
# (socket, root, state, CNI config and bridge rtcri0 on 10.244.77.0/24 that
# nothing else uses), imports the images, runs the Go CRI client tests of this
# directory, then stops everything it started and checks that no pod,
# container, process, mount, network namespace, link, iptables rule, cgroup or
# directory is left. It ends with the line `N passed, N failed` (the Go tests
# and subtests, plus one line per set-up step and one per leftover found) and
# exits 0 only if nothing failed.
#
# Environment:
#   RT_CRI_TIMEOUT   seconds for the Go tests (default 200)
#   RT_CRI_RUN       runtime dir: socket, state, rt's --root (default /run/rt-cri)
#   RT_CRI_DATA      data dir: root, images, CNI config (default /var/lib/rt-cri)
#   RT_CRI_LOGS      logs kept after the run (default /tmp/rt-cri-logs)
#   RT_CRI_KEEP=1    leave containerd running after the tests (no clean-up)
#   RT_CRI_RUNFLAGS  extra flags for the test binary, e.g. "-test.run TestPod"

set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
RT_BIN=$(readlink -f "$1")
if [ -z "$RT_BIN" ] || [ ! -x "$RT_BIN" ]; then echo "run.sh: $1 is not an executable rt binary" >&2; exit 2; fi
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 2; }
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin

RUN=${RT_CRI_RUN:-/run/rt-cri}
DATA=${RT_CRI_DATA:-/var/lib/rt-cri}
LOGS=${RT_CRI_LOGS:-/tmp/rt-cri-logs}
for d in "$RUN" "$DATA" "$LOGS"; do
  case $d in /?*/?*) ;; *) echo "run.sh: $d: give a directory at least two levels deep" >&2; exit 2 ;; esac
done
SOCK=$RUN/containerd.sock
NS=k8s.io
BRIDGE=rtcri0
SUBNET=10.244.77.0/24
CGPARENT=/rt-cri
PAUSE_REF=localhost/rt-pause:1
BUSYBOX_REF=localhost/rt-busybox:1
TMO=${RT_CRI_TIMEOUT:-200}
# shellcheck source=lib.sh
. "$HERE/lib.sh"

PASS=0 FAIL=0 FAILED=()
pass() { PASS=$((PASS+1)); echo "PASS $*" >&2; }
fail() { FAIL=$((FAIL+1)); FAILED+=("$*"); echo "FAIL $*" >&2; }

T0=$EPOCHREALTIME
rm -rf "$LOGS"; mkdir -p "$LOGS"

# --- install what is missing (apt-get update only if the install fails)
need=()
for c in containerd:containerd ctr:containerd containerd-shim-runc-v2:containerd iptables:iptables jq:jq busybox:busybox-static; do
  command -v "${c%%:*}" > /dev/null || need+=("${c#*:}")
done
for p in bridge host-local loopback; do [ -x /usr/lib/cni/$p ] || need+=(containernetworking-plugins); done
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  say "installing ${need[*]}"
  inst() { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q --no-install-recommends "${need[@]}" >> "$LOGS/install.log" 2>&1; }
  inst || { timeout 300 apt-get update -q >> "$LOGS/install.log" 2>&1; inst; } ||
    { fail "install ${need[*]} (see $LOGS/install.log)"; echo "$PASS passed, $FAIL failed"; exit 1; }
fi
command -v go > /dev/null || { fail "no go toolchain in PATH"; echo "$PASS passed, $FAIL failed"; exit 1; }

# --- a crashed earlier run: take its leftovers away before the snapshot
if [ -e "$RUN" ] || [ -e "$DATA" ]; then
  say "removing what an earlier run left in $RUN and $DATA"
  mkdir -p "$LOGS/stale"; : > "$LOGS/stale/pids"; : > "$LOGS/stale/links"; : > "$LOGS/stale/dirs"
  # the forwarding setting the earlier run found (the bridge plugin turns it on)
  cat "$RUN/host-ip_forward" > "$LOGS/stale/ip_forward" 2> /dev/null || sysctl -n net.ipv4.ip_forward > "$LOGS/stale/ip_forward"
  sweep_cri
  clean_host "$LOGS/stale"
fi
snapshot "$LOGS/before"
mkdir -p "$RUN" && cp "$LOGS/before/ip_forward" "$RUN/host-ip_forward"

DONE=0
# shellcheck disable=SC2317 # finish runs from the traps
finish() {
  [ "$DONE" = 1 ] && return; DONE=1; trap - INT TERM
  local t=$EPOCHREALTIME l
  if [ "${RT_CRI_KEEP:-0}" = 1 ]; then
    echo "RT_CRI_KEEP=1: containerd left running: ctr -a $SOCK -n $NS ..." >&2
  else
    sweep_cri
    clean_host "$LOGS/before"
    sleep 0.5
    snapshot "$LOGS/after"
    leaks "$LOGS/before" "$LOGS/after" > "$LOGS/leaks"
    if [ -s "$LOGS/leaks" ]; then
      while IFS= read -r l; do fail "after clean-up: $l"; done < "$LOGS/leaks"
    else pass "clean-up: no pod, container, process, mount, netns, link, iptables rule, cgroup or directory left"; fi
    echo "clean-up took $(secs_since "$t")s" >&2
  fi
  echo "total wall time $(secs_since "$T0")s; logs in $LOGS" >&2
  [ "$FAIL" = 0 ] || { echo "failed:" >&2; printf '  - %s\n' "${FAILED[@]}" >&2; }
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" = 0 ]; exit
}
trap 'echo "interrupted" >&2; fail "interrupted"; finish' INT TERM
trap finish EXIT

# --- images, configuration, containerd, image import
say "rt: $RT_BIN ($("$RT_BIN" --version | head -1)); containerd $(containerd --version | awk '{print $3}')"
mkdir -p "$DATA/images" "$RUN"
t=$EPOCHREALTIME
if build_images "$DATA/images" > "$LOGS/images.log" 2>&1; then pass "build the pause and busybox images offline ($(secs_since "$t")s)"
else fail "build images (see $LOGS/images.log)"; exit 1; fi
t=$EPOCHREALTIME
if (cd "$HERE" && go test -c -o "$DATA/cri.test" .) > "$LOGS/build.log" 2>&1; then pass "build the CRI client tests ($(secs_since "$t")s)"
else fail "build the CRI client tests (see $LOGS/build.log)"; cat "$LOGS/build.log" >&2; exit 1; fi
write_config
t=$EPOCHREALTIME
if start_containerd; then pass "start containerd with runtime handler rt ($(secs_since "$t")s)"
else fail "start containerd (see $LOGS/containerd.log)"; exit 1; fi
if ctr -a "$SOCK" -n "$NS" images import "$DATA/images/pause.tar" > "$LOGS/import.log" 2>&1 &&
   ctr -a "$SOCK" -n "$NS" images import "$DATA/images/busybox.tar" >> "$LOGS/import.log" 2>&1; then
  pass "import $PAUSE_REF and $BUSYBOX_REF"
else fail "import the images (see $LOGS/import.log)"; cat "$LOGS/import.log" >&2; exit 1; fi

# --- the CRI tests
export RT_CRI_ENDPOINT=unix://$SOCK RT_CRI_HANDLER=rt RT_CRI_PAUSE=$PAUSE_REF RT_CRI_BUSYBOX=$BUSYBOX_REF \
  RT_CRI_RT=$RT_BIN RT_CRI_RTROOT=$RUN/rt/$NS RT_CRI_STATE=$RUN/state RT_CRI_LOGDIR=$DATA/pods \
  RT_CRI_SUBNET=$SUBNET RT_CRI_CGROUP_PARENT=$CGPARENT
t=$EPOCHREALTIME
# shellcheck disable=SC2086
timeout -k 10 "$((TMO + 15))" "$DATA/cri.test" -test.v -test.count=1 -test.skip '^TestSweep$' -test.timeout "${TMO}s" ${RT_CRI_RUNFLAGS:-} \
  > "$LOGS/gotest.log" 2>&1
rc=$?
grep -E '^\s*--- (PASS|FAIL|SKIP)|^\s+\S+_test\.go:[0-9]+: ' "$LOGS/gotest.log" >&2
np=$(grep -cE '^\s*--- PASS' "$LOGS/gotest.log"); nf=$(grep -cE '^\s*--- FAIL' "$LOGS/gotest.log")
PASS=$((PASS + np)); FAIL=$((FAIL + nf))
while IFS= read -r l; do FAILED+=("${l#"${l%%[! ]*}"}"); done < <(grep -E '^\s*--- FAIL' "$LOGS/gotest.log")
if [ $rc != 0 ] && [ "$nf" = 0 ]; then fail "go test exited $rc without a failed test (timeout or panic, see $LOGS/gotest.log)"; tail -20 "$LOGS/gotest.log" >&2; fi
echo "go tests took $(secs_since "$t")s (rc=$rc)" >&2
exit 0
