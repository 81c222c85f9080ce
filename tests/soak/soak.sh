#!/bin/bash
# soak.sh [N] [RT]: N (default 1000) container lifecycles with the built rt,
# then a comparison of the host before and after. See docs/reliability.md.
#
#   RT       the rt binary (default $RT_BINARY, else ./rt)
#   RT_SHARED  folder with mkfixtures.sh (default ../shared beside the repo),
#              or RT_FIXTURES: a fixtures dir that has rootfs/ already
#
# Every 10th cycle is a foreground `rt run`; the others are create, state,
# start, state, then either delete --force of the running container or kill
# + wait for stopped + delete. Everything lives under a fresh work dir: its
# own --root, one busybox rootfs, cgroupsPath /rt-soak-<token>-<cycle>.
#
# Compared before/after (a leak fails the run):
#   mounts      lines of /proc/self/mountinfo naming the work dir (the total
#               count is printed too; other users of the host may change it)
#   cgroups     directories /sys/fs/cgroup/*/rt-soak-<token>-* (every hierarchy)
#   --root      container records under it; files in it (from the first cycle on)
#   processes   processes in our cgroups; rt processes naming our --root
#   fds         descriptors of the container init while it waits for start,
#               of the workload (ls /proc/self/fd inside), and of a
#               foreground `rt run` while it waits: first vs last cycle
# Also printed: time per cycle (mean, min, max) and system-wide file handles
# and zombies (informational). Exit status 0 only if everything matched.
set -uo pipefail

N=${1:-1000}
RT=${2:-${RT_BINARY:-./rt}}
case $N in '' | *[!0-9]*) echo "usage: $0 [N] [RT]" >&2; exit 2 ;; esac
[ "$N" -ge 1 ] || { echo "soak: N must be at least 1" >&2; exit 2; }
RT=$(readlink -f "$RT") && [ -x "$RT" ] || { echo "soak: rt binary not found (argument 2 or RT_BINARY)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "soak: needs root" >&2; exit 2; }
command -v jq >/dev/null || { echo "soak: needs jq (tests/install-deps.sh)" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${RT_FIXTURES:-}" ]; then
	shared=${RT_SHARED:-$here/../../../shared}
	RT_FIXTURES=$(bash "$shared/mkfixtures.sh" | tail -n1) || { echo "soak: $shared/mkfixtures.sh failed" >&2; exit 2; }
fi
[ -x "$RT_FIXTURES/rootfs/bin/busybox" ] || { echo "soak: no busybox rootfs in $RT_FIXTURES" >&2; exit 2; }

tok=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
prefix=rt-soak-$tok
work=$(mktemp -d /tmp/rt-soak.XXXXXX)
root=$work/root
fails=0
errors=()

fail() {
	fails=$((fails + 1))
	[ ${#errors[@]} -lt 20 ] && errors+=("$*")
}

rt() { "$RT" --root "$root" "$@"; }

# ---- measurements ----
now_ns() { date +%s%N; }
work_mounts() { grep -cF -- "$work" /proc/self/mountinfo; }
all_mounts() { wc -l </proc/self/mountinfo; }
our_cgroups() { compgen -G "/sys/fs/cgroup/*/$prefix-*" | wc -l; }
# container records ('@' names are rt's own: caches, directories being made)
records() { find "$root" -mindepth 1 -maxdepth 1 ! -name '@*' 2>/dev/null | wc -l; }
root_files() { find "$root" -mindepth 1 2>/dev/null | wc -l; }
zombies() { ps -eo stat= | grep -c '^Z'; }
file_handles() { cut -f1 /proc/sys/fs/file-nr; }
# Processes whose cgroup is one of ours (any hierarchy).
cgroup_procs() { grep -lsF -- "/$prefix-" /proc/[0-9]*/cgroup | sed 's,/proc/,,;s,/cgroup,,' | sort -un; }
# rt commands still running with our --root (our own shell's children excluded).
rt_procs() {
	local f pid a out=()
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		mapfile -d '' a 2>/dev/null <"$f" || continue
		[[ " ${a[*]:-} " == *" --root $root "* ]] && out+=("$pid")
	done
	echo "${out[@]:-}"
}
count() { local a=($1); echo ${#a[@]}; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# ---- clean up, whatever happened ----
cleanup() {
	local id left pids
	unset RT_TEST_CRASH_AT # (a self-test of this script may set it)
	if [ -d "$root" ]; then
		for id in $(rt list -q 2>/dev/null); do rt delete --force "$id" >/dev/null 2>&1; done
	fi
	# Last resort, for a leak already reported: only processes in our
	# cgroups and cgroup dirs with our token.
	pids=$(cgroup_procs)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	for left in /sys/fs/cgroup/*/"$prefix"-*; do [ -d "$left" ] && rmdir "$left" 2>/dev/null; done
	if [ "$(work_mounts)" = 0 ]; then rm -rf "$work"; else echo "soak: mounts left under $work; not removing it" >&2; fi
}
trap cleanup EXIT
trap 'echo "soak: interrupted" >&2; exit 130' INT TERM

# ---- bundles: one rootfs, configs from `rt spec` ----
mkdir -p "$work/rootfs" "$work/tpl"
cp -a "$RT_FIXTURES/rootfs/." "$work/rootfs/"
"$RT" spec --bundle "$work/tpl" || { echo "soak: rt spec failed" >&2; exit 1; }
mkbundle() { # name, args as a JSON array
	mkdir -p "$work/$1"
	jq --arg rootfs "$work/rootfs" --argjson args "$2" \
		'.process.terminal=false | .process.args=$args | .root.path=$rootfs | .linux.cgroupsPath="@CG@"' \
		"$work/tpl/config.json" >"$work/$1.tpl"
}
mkbundle sleep '["sleep","1000"]'
mkbundle fds '["sh","-c","ls /proc/self/fd | wc -l"]'
mkbundle slow '["sleep","0.5"]'
# config for cycle i (a fresh cgroupsPath per container)
config() { sed "s|@CG@|/$prefix-$2|" "$work/$1.tpl" >"$work/$1/config.json"; }

wait_status() { # id status: poll rt state for up to 5 s
	local i s
	for i in $(seq 100); do
		s=$(rt state "$1" 2>/dev/null | jq -r .status 2>/dev/null)
		[ "$s" = "$2" ] && return 0
		sleep 0.05
	done
	fail "$1: status $s, want $2"
	return 1
}

# A foreground run sampled while it waits: sets run_fds to the number of
# rt's descriptors then.
sampled_run() { # id
	local out=$work/run-$1.out pid code
	run_fds=-1
	config slow "$1"
	"$RT" --root "$root" run --bundle "$work/slow" "$1" >"$out" 2>&1 &
	pid=$!
	if wait_status "$1" running; then
		run_fds=$(fds "$pid")
	fi
	wait "$pid"
	code=$?
	[ "$code" = 0 ] || fail "run $1 (sampled): exit $code: $(head -c 300 "$out")"
}

# ---- before ----
b_all_mounts=$(all_mounts)
b_work_mounts=$(work_mounts)
b_cgroups=$(our_cgroups)
b_cgprocs=$(count "$(cgroup_procs)")
b_zombies=$(zombies)
b_handles=$(file_handles)

echo "soak: $N cycles, rt $RT ($("$RT" --version | head -n1)), work dir $work, token $tok"
echo "soak: load average at start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
init_fds_first='' init_fds_last='' wl_fds_first=- wl_fds_last=-
root_files_first=''
t_min='' t_max=0 t_sum=0
sampled_run "$prefix-sample-first"
run_fds_first=$run_fds

start_all=$(now_ns)
for i in $(seq "$N"); do
	id=$prefix-$i
	t0=$(now_ns)
	if [ $((i % 10)) = 0 ]; then
		config fds "$i"
		out=$(rt run --bundle "$work/fds" "$id" 2>&1)
		code=$?
		if [ "$code" != 0 ] || ! [[ $out =~ ^[0-9]+$ ]]; then
			fail "cycle $i: run: exit $code: ${out:0:300}"
		else
			wl_fds_last=$out
			[ "$wl_fds_first" != - ] || wl_fds_first=$out
		fi
	else
		config sleep "$i"
		# Files, not a pipe: the init keeps create's stdio.
		if ! rt create --bundle "$work/sleep" --pid-file "$work/pid" "$id" >"$work/create.out" 2>&1; then
			fail "cycle $i: create: $(head -c 300 "$work/create.out")"
			rt delete --force "$id" >/dev/null 2>&1
			continue
		fi
		n=$(fds "$(cat "$work/pid")")
		init_fds_last=$n
		[ -n "$init_fds_first" ] || init_fds_first=$n
		s=$(rt state "$id" | jq -r .status)
		[ "$s" = created ] || fail "cycle $i: status after create: $s"
		err=$(rt start "$id" 2>&1) || fail "cycle $i: start: exit $?: $err"
		s=$(rt state "$id" | jq -r .status)
		[ "$s" = running ] || fail "cycle $i: status after start: $s"
		if [ $((i % 2)) = 1 ]; then
			err=$(rt delete --force "$id" 2>&1) || fail "cycle $i: delete --force: exit $?: $err"
		else
			err=$(rt kill "$id" KILL 2>&1) || fail "cycle $i: kill: exit $?: $err"
			wait_status "$id" stopped
			err=$(rt delete "$id" 2>&1) || fail "cycle $i: delete: exit $?: $err"
		fi
	fi
	t1=$(now_ns)
	dt=$(((t1 - t0) / 1000))
	t_sum=$((t_sum + dt))
	[ -z "$t_min" ] || [ "$dt" -lt "$t_min" ] && t_min=$dt
	[ "$dt" -gt "$t_max" ] && t_max=$dt
	[ -n "$root_files_first" ] || root_files_first=$(root_files)
	if [ $((i % 100)) = 0 ] || [ "$i" = "$N" ]; then
		printf 'soak: %d/%d cycles, %d failures, mean %.1f ms/cycle\n' "$i" "$N" "$fails" "$(echo "$t_sum / $i / 1000" | bc -l)"
	fi
done
elapsed_ms=$((($(now_ns) - start_all) / 1000000))
sampled_run "$prefix-sample-last"
run_fds_last=$run_fds

# ---- after (let the last inits be reaped) ----
sleep 0.2
a_all_mounts=$(all_mounts)
a_work_mounts=$(work_mounts)
a_cgroups=$(our_cgroups)
a_cgprocs_list=$(cgroup_procs)
a_cgprocs=$(count "$a_cgprocs_list")
a_rtprocs_list=$(rt_procs)
a_rtprocs=$(count "$a_rtprocs_list")
a_records=$(records)
a_root_files=$(root_files)
a_zombies=$(zombies)
a_handles=$(file_handles)

row() { printf '  %-46s %8s %8s  %s\n' "$1" "$2" "$3" "$4"; }
check() { # name before after: equal or a failure
	if [ "$2" = "$3" ]; then row "$1" "$2" "$3" ok; else row "$1" "$2" "$3" LEAK; fail "$1: $2 before, $3 after"; fi
}
echo "soak: figures                                         before    after"
check "mounts naming the work dir" "$b_work_mounts" "$a_work_mounts"
row "mounts in /proc/self/mountinfo (all)" "$b_all_mounts" "$a_all_mounts" "$([ "$b_all_mounts" = "$a_all_mounts" ] && echo ok || echo 'changed (see below)')"
check "cgroup dirs /sys/fs/cgroup/*/rt-soak-<token>-*" "$b_cgroups" "$a_cgroups"
check "processes in those cgroups" "$b_cgprocs" "$a_cgprocs"
check "rt processes with our --root" 0 "$a_rtprocs"
check "container records under --root" 0 "$a_records"
check "files under --root (after cycle 1 / end)" "$root_files_first" "$a_root_files"
check "fds of the waiting init (first / last)" "$init_fds_first" "$init_fds_last"
check "fds seen by the workload (first / last)" "$wl_fds_first" "$wl_fds_last"
check "fds of a foreground rt run (first / last)" "$run_fds_first" "$run_fds_last"
row "zombies on the host (informational)" "$b_zombies" "$a_zombies" ""
row "file handles in use (informational)" "$b_handles" "$a_handles" ""
[ "$a_cgprocs" = 0 ] || ps -o pid,ppid,stat,args -p "$(echo $a_cgprocs_list | tr ' ' ,)" >&2
[ "$a_rtprocs" = 0 ] || ps -o pid,ppid,stat,args -p "$(echo $a_rtprocs_list | tr ' ' ,)" >&2
if [ "$b_all_mounts" != "$a_all_mounts" ]; then
	echo "soak: mount table changed during the run (other users of the host?); new lines naming rt or the work dir:" >&2
	grep -F -e "$work" -e "$prefix" /proc/self/mountinfo >&2
fi
echo "soak: load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'soak: time per cycle: mean %.1f ms, min %.1f ms, max %.1f ms (%d cycles in %.1f s)\n' \
	"$(echo "$t_sum / $N / 1000" | bc -l)" "$(echo "$t_min / 1000" | bc -l)" "$(echo "$t_max / 1000" | bc -l)" "$N" "$(echo "$elapsed_ms / 1000" | bc -l)"
if [ "$fails" = 0 ]; then
	echo "soak: PASS ($N cycles, nothing left behind)"
	exit 0
fi
printf 'soak:   %s\n' "${errors[@]}" >&2
echo "soak: FAIL ($fails failures in $N cycles)"
exit 1
