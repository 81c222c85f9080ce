#!/bin/bash
# bench.sh RT: rt beside runc and crun (Debian packages), measured in one
# interleaved run by the shared harness (../shared/perf/bench.sh), printed
# as ratios to crun. Sections: run latency, create/start/wait/delete phases,
# resources (binary, syscalls, peak RSS of run/create and of the init stage).
#   N=20 rounds; SECTIONS=run,phases,res; SHARED=../shared
set -euo pipefail
RT=$(readlink -f "${1:-./rt}")
HERE=$(cd "$(dirname "$0")" && pwd)
SHARED=${SHARED:-$(cd "$HERE/../../.." && pwd)/shared}
[ -x "$SHARED/perf/bench.sh" ] || { echo "bench: $SHARED/perf/bench.sh not found (set SHARED)" >&2; exit 2; }
bash "$HERE/../install-deps.sh"
exec bash "$SHARED/perf/bench.sh" -n "${N:-20}" -s "${SECTIONS:-run,phases,res}" \
  "rt=$RT" "runc=$(command -v runc)" "crun=$(command -v crun)"
