#!/bin/bash
# cow.sh RT: N containers started from one rootfs with --cow-rootfs, against
# a copy of the rootfs per container (cp -a, what an engine without overlay
# does), in one run: the two methods alternate for ROUNDS rounds; medians
# and cow/copy ratios are printed. Each round starts N detached containers
# (`sleep`), sequentially, then deletes them.
#   "start": wall time to prepare and start all N (cp -a included for copy)
#   "delete": wall time to delete all N (rm -rf of the copies included)
#   "disk": KiB written for the N containers (bundles, copies, state dirs;
#           the source image, needed by both, is not counted)
#   "shmem": growth of Shmem in /proc/meminfo while they run (the tmpfs
#           upper layers of --cow-rootfs live there)
# A third method, cow-state (org.rt.rootfs.cow.dir=state), keeps the upper
# layers on disk under the state dir.
#   N=50 ROUNDS=3 PAD_MB=64 ROOTFS=<busybox fixtures> WORK=/var/tmp/rt-cowbench
# PAD_MB adds that many MiB of files (in 1 MiB files under /usr/share/pad)
# to the rootfs, so it is closer to a real image than busybox's 2 MiB.
set -euo pipefail
shopt -s inherit_errexit
RT=$(readlink -f "${1:-./rt}")
N=${N:-50}
ROUNDS=${ROUNDS:-3}
PAD_MB=${PAD_MB:-64}
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$(cd "$HERE/../../.." && pwd)/shared}
WORK=${WORK:-/var/tmp/rt-cowbench}
[ "$(id -u)" = 0 ] || { echo "cow.sh: needs root" >&2; exit 2; }
[ -x "$RT" ] || { echo "cow.sh: $RT is not executable" >&2; exit 2; }
command -v jq >/dev/null || bash "$HERE/../install-deps.sh"
if [ -z "${ROOTFS:-}" ]; then
  fix=$(bash "$SHARED/mkfixtures.sh" | tail -1)
  ROOTFS=$fix/rootfs
fi

rm -rf "$WORK"
mkdir -p "$WORK"
cleanup() {
  for r in "$WORK"/root-*; do
    [ -d "$r" ] || continue
    for id in $("$RT" --root "$r" list -q 2>/dev/null); do "$RT" --root "$r" delete -f "$id" >/dev/null 2>&1 || true; done
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

image=$WORK/image
cp -a "$ROOTFS" "$image"
if [ "$PAD_MB" -gt 0 ]; then
  mkdir -p "$image/usr/share/pad"
  for i in $(seq "$PAD_MB"); do head -c 1M /dev/urandom >"$image/usr/share/pad/f$i"; done
fi
image_kib=$(du -sk "$image" | cut -f1)
"$RT" spec --bundle "$WORK" >/dev/null
# The container: sleep, writable root (cgroup: the default, <id> below rt's).
jq '.process.terminal=false | .process.args=["sleep","1000"] | .root.readonly=false' \
  "$WORK/config.json" >"$WORK/template.json"
rm "$WORK/config.json"

now() { date +%s%N; }
kib() { du -sk "$@" 2>/dev/null | awk '{s+=$1} END {print s+0}'; }
shmem() { awk '/^Shmem:/ {print $2}' /proc/meminfo; }

# one METHOD ROUND: prints "start_ms delete_ms disk_kib shmem_kib"
one() {
  local method=$1 round=$2 root=$WORK/root-$1-$2 dir=$WORK/b-$1-$2
  mkdir -p "$dir"
  local sh0 t0 t1 t2 disk sh1
  sh0=$(shmem)
  t0=$(now)
  for i in $(seq "$N"); do
    local b=$dir/c$i id=cb-$method-$round-$i
    mkdir "$b"
    case $method in
    copy)
      cp -a "$image" "$b/rootfs"
      cp "$WORK/template.json" "$b/config.json"
      "$RT" --root "$root" run -d --bundle "$b" "$id" </dev/null >/dev/null ;;
    cow)
      jq --arg r "$image" '.root.path=$r' "$WORK/template.json" >"$b/config.json"
      "$RT" --root "$root" run -d --cow-rootfs --bundle "$b" "$id" </dev/null >/dev/null ;;
    cow-state)
      jq --arg r "$image" '.root.path=$r | .annotations["org.rt.rootfs.cow"]="true" | .annotations["org.rt.rootfs.cow.dir"]="state"' \
        "$WORK/template.json" >"$b/config.json"
      "$RT" --root "$root" run -d --bundle "$b" "$id" </dev/null >/dev/null ;;
    esac
  done
  t1=$(now)
  disk=$(kib "$dir" "$root")
  sh1=$(shmem)
  for i in $(seq "$N"); do
    "$RT" --root "$root" delete -f "cb-$method-$round-$i" >/dev/null
  done
  rm -rf "$dir" "$root"
  t2=$(now)
  echo "$(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 )) $disk $(( sh1 > sh0 ? sh1 - sh0 : 0 ))"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

methods=(copy cow cow-state)
declare -A res
for r in $(seq "$ROUNDS"); do
  for m in "${methods[@]}"; do
    res[$m]+="$(one "$m" "$r")"$'\n'
  done
  echo "round $r/$ROUNDS done" >&2
done

col() { printf '%s' "${res[$1]}" | awk -v c="$2" 'NF {print $c}' | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4g", a / b; else print "-" }'; }
echo "rt --cow-rootfs vs cp -a per container: N=$N containers, image ${image_kib} KiB (PAD_MB=$PAD_MB), medians of $ROUNDS rounds"
printf '%-10s %10s %10s %12s %12s\n' method start_ms delete_ms disk_KiB shmem_KiB
for m in "${methods[@]}"; do
  printf '%-10s %10s %10s %12s %12s\n' "$m" "$(col "$m" 1)" "$(col "$m" 2)" "$(col "$m" 3)" "$(col "$m" 4)"
done
echo "ratios to copy (lower is better):"
for m in cow cow-state; do
  printf '%-10s start %s  delete %s  disk %s\n' "$m" \
    "$(ratio "$(col "$m" 1)" "$(col copy 1)")" "$(ratio "$(col "$m" 2)" "$(col copy 2)")" "$(ratio "$(col "$m" 3)" "$(col copy 3)")"
done
