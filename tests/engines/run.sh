#!/bin/bash
# tests/engines/run.sh RT_BINARY [engine...]
#
# Runs rt under real container engines with the shared recipes of
# shared/engines (containerd + ctr, podman + conmon, dockerd), one engine at a
# time: install (apt, only what is missing), start, import the busybox image,
# the recipe's check suite `run RUNTIME` with RT_BINARY as the runtime, then
# stop + clean, and verifies that nothing is left behind (engine processes,
# mounts, netns, iptables rules, links, ip_forward, rt state, cgroups).
#
# Engines: containerd podman docker. Without names: every one that can run
# here (one that cannot be installed is reported as skipped, not failed);
# a named engine that cannot be installed or started fails. Per engine it prints
#   ENGINE: N passed, N failed
# and at the end the total line `N passed, N failed`. Exit status 0 only when
# no check failed outside tests/engines/expected.txt (see that file); an
# expected failure that passes is reported as "newly passing".
#
# Seccomp: when `RT_BINARY features` reports linux.seccomp.enabled=false,
# podman and docker containers are made with seccomp unconfined (both put a
# profile in every container and rt refuses such configs until seccomp lands).
# With seccomp support the engines' default profiles are used. Force with
# RT_ENGINES_SECCOMP=unconfined|default.
#
# Environment:
#   ENG                       engine state dir (default /tmp/rt-engines; logs in $ENG/logs)
#   RT_SHARED                 shared/ dir holding engines/ (default: ../shared beside the repo)
#   RT_ENGINES_TIMEOUT        seconds for one engine's suite run (default 600)
#   RT_ENGINES_INSTALL_TIMEOUT seconds for apt-get (default 600)
#   RT_ENGINES_BUDGET         seconds for the whole run (default 1800): each phase's
#                             timeout is cut so that every engine can still be cleaned
#                             up (180 s each, RT_ENGINES_CLEAN_TIMEOUT) in time
#   RT_ENGINES_SECCOMP        auto (default), unconfined, default
#   RT_ENGINES_VERBOSE=1      copy each engine's full suite output to stderr

# shellcheck source-path=SCRIPTDIR
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
usage() { awk 'NR>1 && !/^#/ {exit} NR>1 {sub(/^# ?/, ""); print}' "$0"; exit 2; }
[ $# -ge 1 ] || usage
RT_BIN=$(readlink -f "$1") || { echo "run.sh: no such file: $1" >&2; exit 2; }
shift
[ -x "$RT_BIN" ] || { echo "run.sh: $RT_BIN is not an executable rt binary" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (engines, apt-get)" >&2; exit 2; }

SHARED=${RT_SHARED:-$REPO/../shared}
RECIPES=$(cd "$SHARED/engines" 2>/dev/null && pwd) || { echo "run.sh: no engines/ recipes under $SHARED (set RT_SHARED)" >&2; exit 2; }
export ENG=${ENG:-/tmp/rt-engines}
LOGS=$ENG/logs
TMO=${RT_ENGINES_TIMEOUT:-600}
ITMO=${RT_ENGINES_INSTALL_TIMEOUT:-600}
EXPECTED=$HERE/expected.txt
ENGINES=("$@") EXPLICIT=1
[ ${#ENGINES[@]} -gt 0 ] || { ENGINES=(containerd podman docker); EXPLICIT=0; }
for e in "${ENGINES[@]}"; do
  case $e in containerd|podman|docker) ;; *) echo "run.sh: unknown engine $e (containerd podman docker)" >&2; exit 2 ;; esac
done

case $ENG in /?*) ;; *) echo "run.sh: ENG must be an absolute directory other than /" >&2; exit 2 ;; esac
mkdir -p "$ENG" "$LOGS"
# fresh call logs and host-network snapshot for this run (the recipes keep the
# first snapshot they find, a stale one would restore an old state)
rm -rf "${ENG:?}/calls" "${ENG:?}/wrap" "${ENG:?}/net-before" "${ENG:?}/bin"
rm -f "$LOGS/timings" "$LOGS/notes"
PATH=$PATH:/usr/sbin:/sbin
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# --- what rt supports decides the seccomp mode and which expectations apply
HAVE_SECCOMP=0; HAVE_UPDATE=0
"$RT_BIN" features 2>/dev/null | tr -d ' \n\t' | grep -q '"seccomp":{"enabled":true' && HAVE_SECCOMP=1
"$RT_BIN" update --help >/dev/null 2>&1 && HAVE_UPDATE=1
SECCOMP=${RT_ENGINES_SECCOMP:-auto}
if [ "$SECCOMP" = auto ]; then if [ $HAVE_SECCOMP = 1 ]; then SECCOMP=default; else SECCOMP=unconfined; fi; fi
echo "runtime: $RT_BIN ($("$RT_BIN" --version | head -1)); seccomp support: $HAVE_SECCOMP, update: $HAVE_UPDATE; engine containers get seccomp: $SECCOMP" >&2

# the suites read cgroup v1 files (memory.limit_in_bytes, cpu.cfs_quota_us)
if ! [ "$(stat -f -c %T /sys/fs/cgroup/memory 2>/dev/null)" = cgroupfs ]; then
  echo "engines: skipped: the shared suites need the cgroup v1 memory hierarchy at /sys/fs/cgroup/memory"
  [ $EXPLICIT = 1 ] && { echo "0 passed, 1 failed"; exit 1; }
  echo "0 passed, 0 failed"; exit 0
fi

CLEAN_RESERVE=${RT_ENGINES_CLEAN_TIMEOUT:-180}
DEADLINE=$(( ${EPOCHREALTIME%.*} + ${RT_ENGINES_BUDGET:-1800} ))
ENGINES_LEFT=${#ENGINES[@]}
TOTAL_P=0; TOTAL_F=0; TOTAL_X=0; TOTAL_N=0; SUMMARY=()
T_RUN0=$EPOCHREALTIME
for e in "${ENGINES[@]}"; do
  run_engine "$e"
done

echo
for l in "${SUMMARY[@]}"; do echo "$l"; done
[ -s "$LOGS/notes" ] && cat "$LOGS/notes"
printf 'timings: %s\n' "$(tr '\n' ';' < "$LOGS/timings" 2>/dev/null | sed 's/;$//; s/;/; /g')"
printf 'total wall time %ss; logs: %s\n' "$(secs_since "$T_RUN0")" "$LOGS"
[ $TOTAL_X -gt 0 ] && echo "expected failures (tests/engines/expected.txt): $TOTAL_X"
[ $TOTAL_N -gt 0 ] && echo "newly passing (remove from tests/engines/expected.txt): $TOTAL_N"
echo "$TOTAL_P passed, $TOTAL_F failed"
[ $TOTAL_F = 0 ]
