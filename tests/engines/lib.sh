# shellcheck shell=bash
# lib.sh - sourced by run.sh: one engine's install/start/suite/stop/clean, the
# host-state snapshots for the leak check, and the result accounting.
# Uses from run.sh: RECIPES ENG LOGS TMO ITMO RT_BIN SECCOMP EXPECTED
# HAVE_SECCOMP HAVE_UPDATE and the TOTAL_* / SUMMARY accumulators.

secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }
# left MAX: seconds for the next phase, MAX at most, never past the run's
# deadline less what the remaining engines' clean-up needs (CLEAN_RESERVE each)
left() { local now=${EPOCHREALTIME%.*} l; l=$((DEADLINE - now - CLEAN_RESERVE * ENGINES_LEFT))
  [ "$l" -lt "$1" ] || l=$1; [ "$l" -gt 5 ] || l=5; echo "$l"; }

APT_UPDATED=0
# engine_install ENGINE: the recipe's apt-get install (a no-op when installed),
# once more after apt-get update if the package lists are missing or stale
engine_install() { local e=$1 log=$LOGS/$1.install.log
  local need=() c; : >"$log"
  # the suites' own tools (curl: port publish, script: ttys); never upgrade what is there
  for c in curl:curl jq:jq script:bsdutils; do command -v "${c%%:*}" >/dev/null || need+=("${c#*:}"); done
  [ ${#need[@]} = 0 ] || DEBIAN_FRONTEND=noninteractive timeout "$ITMO" apt-get install -y -q --no-install-recommends "${need[@]}" >>"$log" 2>&1
  timeout "$(left "$ITMO")" "$RECIPES/$e.sh" install >>"$log" 2>&1 </dev/null && return 0
  [ $APT_UPDATED = 1 ] && return 1
  APT_UPDATED=1; timeout "$(left "$ITMO")" apt-get update -q >>"$log" 2>&1
  timeout "$(left "$ITMO")" "$RECIPES/$e.sh" install >>"$log" 2>&1 </dev/null; }

# engine_pkgs_present ENGINE: are the engine's main binaries installed already?
engine_pkgs_present() { case $1 in
  containerd) command -v containerd && command -v ctr && command -v containerd-shim-runc-v2 ;;
  podman) command -v podman && command -v conmon && [ -x /usr/lib/podman/netavark ] ;;
  docker) command -v dockerd && [ -x /usr/bin/docker ] && command -v containerd ;;
  esac >/dev/null 2>&1; }

# --- host state that an engine run must leave as it found it
ENGINE_PROCS='^(containerd|containerd-shim.*|dockerd|docker-proxy|conmon|podman|netavark|aardvark-dns|slirp4netns|catatonit|tini|docker-init)$'
snapshot() { local d=$1; mkdir -p "$d"
  ps -eo comm= | grep -E "$ENGINE_PROCS" | sort > "$d/procs"
  eng_pids | while read -r p; do tr '\0' ' ' < "/proc/$p/cmdline"; echo; done | sort > "$d/procs-eng"
  awk '{print $5, $9}' /proc/self/mountinfo | sort > "$d/mounts"
  ls -1 /run/netns 2>/dev/null | sort > "$d/netns"
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort > "$d/links"
  sysctl -n net.ipv4.ip_forward > "$d/ip_forward"
  local v; for v in iptables ip6tables; do
    if command -v $v-save >/dev/null; then $v-save 2>/dev/null | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]//' > "$d/$v"; else : > "$d/$v"; fi
  done
  # rt state: podman leaves --root unset (rt's default), ctr uses /run/containerd/runc/NS
  find /run/rt /run/containerd/runc/engines -mindepth 1 -maxdepth 1 -not -name '@*' 2>/dev/null | sort > "$d/rtstate"
  # engine cgroups (cgroupfs parents: podman /libpod_parent, ctr /engines, docker /docker)
  snapshot_cgroups > "$d/cgroups"
  ls -d /run/containerd /run/docker /run/netns /run/libpod /run/containers 2>/dev/null > "$d/dirs"
  ls -d $ENGINE_FILES 2>/dev/null | sort > "$d/files"
}
# state the engines write outside $ENG whatever their config says (not rt's):
# podman's network lock and image blob cache, dockerd's identity key,
# containerd's plugin dirs, conmon's terminal sockets
ENGINE_FILES='/etc/containers/networks /var/lib/containers /etc/docker/key.json /opt/containerd /tmp/conmon-term.*'
# eng_pids: processes whose command line names $ENG/ (not this script)
eng_pids() { local p; for p in $(pgrep -f -- "$ENG/"); do
  [ "$p" = $$ ] || [ "$p" = "$BASHPID" ] || [ ! -e "/proc/$p" ] || echo "$p"; done; }
snapshot_cgroups() {
  find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d \( -name libpod_parent -o -name engines -o -name docker -o -path '*/libpod_parent/*' -o -path '*/engines/*' -o -path '*/docker/*' \) 2>/dev/null | sort; }

# leak_check BEFORE AFTER: prints one line per leftover, fixes only what this
# run created and nobody uses (empty cgroups, podman's /run/netns self-bind)
leak_check() { local b=$1 a=$2 x
  diff "$b/procs" "$a/procs" | sed -n 's/^> /process left: /p'
  sed 's/^/process left: /' "$a/procs-eng"
  diff "$b/netns" "$a/netns" | sed -n 's/^> /netns left: \/run\/netns\//p'
  diff "$b/links" "$a/links" | sed -n 's/^> /link left: /p'
  cmp -s "$b/ip_forward" "$a/ip_forward" || echo "net.ipv4.ip_forward changed: $(cat "$b/ip_forward") -> $(cat "$a/ip_forward")"
  for x in iptables ip6tables; do
    [ -s "$b/$x" ] || [ ! -s "$a/$x" ] || grep -qvE '^(\*|:|COMMIT)' "$a/$x" || continue   # tables appeared but hold no rule
    diff "$b/$x" "$a/$x" | sed -n "s/^> \(-A .*\)/$x rule left: \1/p; s/^> \(:[A-Z].*\)/$x chain left: \1/p" | grep -v ' chain left: :\(INPUT\|FORWARD\|OUTPUT\|PREROUTING\|POSTROUTING\) ACCEPT'
  done
  diff "$b/rtstate" "$a/rtstate" | sed -n 's/^> /rt state left: /p'
  # netavark keeps its IPAM db in /run/containers/networks: made by this run, take it away
  if ! grep -qx /run/containers "$b/dirs" && grep -qx /run/containers "$a/dirs" &&
     [ -z "$(find /run/containers -mindepth 1 -not -path '/run/containers/networks*' | head -1)" ]; then
    rm -rf /run/containers; sed -i '\#^/run/containers$#d' "$a/dirs"
    echo "note: removed /run/containers (netavark's IPAM db, made by this run)" >> "$LOGS/notes"
  fi
  # containerd 1.6 (also docker's) keeps shim sockets in /run/containerd/s whatever
  # its state dir; docker.sh clean leaves the (then empty) tree: take it away
  if ! grep -qx /run/containerd "$b/dirs" && grep -qx /run/containerd "$a/dirs" &&
     ! pgrep -x containerd >/dev/null && [ -z "$(find /run/containerd -not -type d | head -1)" ]; then
    rm -rf /run/containerd; sed -i '\#^/run/containerd$#d' "$a/dirs"
    echo "note: removed /run/containerd (empty dirs of containerd's shims, made by this run)" >> "$LOGS/notes"
  fi
  for x in $(comm -13 "$b/files" "$a/files"); do
    rm -rf "$x" && echo "note: removed $x (written by the engine during this run)" >> "$LOGS/notes"; done
  diff "$b/dirs" "$a/dirs" | grep -v '^> /run/netns$' | sed -n 's/^> /directory left: /p'
  # /run/netns: netavark bind-mounts it on itself; if this run created it and no
  # netns is left in it, take it away again (it was not there before)
  if ! grep -q '^/run/netns ' "$b/mounts" && grep -q '^/run/netns ' "$a/mounts" && [ ! -s "$a/netns" ]; then
    while mountpoint -q /run/netns; do umount /run/netns || break; done
    rmdir /run/netns 2>/dev/null
    echo "note: unmounted /run/netns (netavark's self-bind, made by this run, empty)" >> "$LOGS/notes"
    awk '{print $5, $9}' /proc/self/mountinfo | sort > "$a/mounts"
  fi
  diff "$b/mounts" "$a/mounts" | sed -n 's/^> /mount left: /p'
  # cgroups created during the run: empty ones (no task anywhere below) are the
  # engines' parent dirs, which runc leaves as well: remove them; others leak
  local new; new=$(comm -13 "$b/cgroups" "$a/cgroups")
  if [ -n "$new" ]; then local gone=()
    for x in $(sort -r <<<"$new"); do
      if [ -z "$(cat "$x"/cgroup.procs 2>/dev/null)" ] && rmdir "$x" 2>/dev/null; then gone+=("$x")
      elif [ -n "$(cat "$x/cgroup.procs" 2>/dev/null)" ]; then   # (a parent kept only by such a child is not listed)
        echo "cgroup left: $x ($(wc -l < "$x/cgroup.procs") procs: $(tr '\n' ' ' < "$x/cgroup.procs"))"; fi
    done
    [ ${#gone[@]} -gt 0 ] && echo "note: removed ${#gone[@]} empty engine cgroups made during the run (parents the engines keep; runc leaves them too): $(printf '%s\n' "${gone[@]}" | sed 's#^/sys/fs/cgroup/[^/]*/##' | sort -u | tr '\n' ' ')" >> "$LOGS/notes"
  fi
  return 0
}

# reap_leftovers: after a leak was reported, take away what this run started
# so that the host is clean for the next engine and the next job: processes
# whose command line names $ENG (shims, conmon, daemons), by PID; processes in
# cgroups made during this run, by PID; then those (now empty) cgroups
reap_leftovers() { local b=$1 pids p x
  pids=$(eng_pids)
  for x in $(comm -13 "$b/cgroups" <(snapshot_cgroups)); do pids+=" $(cat "$x/cgroup.procs" 2>/dev/null)"; done
  for p in $pids; do x=$(cat "/proc/$p/comm" 2>/dev/null)
    kill -KILL "$p" 2>/dev/null && echo "note: killed leftover pid $p ($x)" >> "$LOGS/notes"; done
  for _ in $(seq 20); do
    x=$(comm -13 "$b/cgroups" <(snapshot_cgroups) | sort -r)
    [ -z "$x" ] && break
    for p in $x; do rmdir "$p" 2>/dev/null; done; sleep 0.2
  done
  return 0; }

# expected_for ENGINE: "check|reason" for each expected.txt line of ENGINE whose
# missing feature rt still lacks (needs=- : always expected)
expected_for() { local e=$1
  [ -f "$EXPECTED" ] || return 0
  grep -v '^[[:space:]]*\(#\|$\)' "$EXPECTED" | awk -F' *[|] *' -v e="$e" -v s="$HAVE_SECCOMP" -v u="$HAVE_UPDATE" '
    $1==e { n=$3; if ((n=="seccomp" && s==1) || (n=="update" && u==1)) next; print $2 "|" $4 }'; }

# classify ENGINE SUITE_LOG: count the suite PASS/FAIL lines against expected.txt
# sets P F X N and appends failure descriptions to $LOGS/ENGINE.failed
classify() { local e=$1 log=$2 line st desc chk why hit
  P=0; F=0; X=0; N=0
  local exp; exp=$(expected_for "$e")
  while IFS= read -r line; do
    st=${line:2:4}; desc=${line:7}; hit=""
    while IFS='|' read -r chk why; do
      [ -n "$chk" ] || continue
      case $desc in "$chk"|"$chk "*) hit=$why; break ;; esac
    done <<<"$exp"
    if [ "$st" = PASS ]; then P=$((P+1))
      [ -n "$hit" ] && { N=$((N+1)); echo "  newly passing: $e: $desc (listed: $hit)" >> "$LOGS/$e.notes"; }
    elif [ -n "$hit" ]; then X=$((X+1)); echo "  expected failure: $e: ${desc:0:160} -- $hit" >> "$LOGS/$e.notes"
    else F=$((F+1)); echo "$e: ${desc:0:400}" >> "$LOGS/$e.failed"; fi
  done < <(grep -E '^  (PASS|FAIL) ' "$log")
}

# fail_infra ENGINE MSG: a failure outside the suite (start, timeout, leak)
fail_infra() { F=$((F+1)); echo "$1: $2" >> "$LOGS/$1.failed"; }

# seccomp off for the engines that put a profile into every container
seccomp_setup() { local e=$1
  [ "$SECCOMP" = unconfined ] || return 0
  case $e in
    podman) # containers.conf [containers] seccomp_profile = "unconfined"
      sed -i '/^\[containers\]/a seccomp_profile = "unconfined"' "$ENG/podman/containers.conf" ;;
    docker) # the recipe's DOCKER= hook: a CLI that adds the option to `docker run`
      mkdir -p "$ENG/bin"; cat > "$ENG/bin/docker" <<'EOF'
#!/bin/sh
# docker CLI stand-in for tests/engines/run.sh: `run` gets seccomp=unconfined
if [ "$1" = run ]; then shift; exec /usr/bin/docker run --security-opt seccomp=unconfined "$@"; fi
exec /usr/bin/docker "$@"
EOF
      chmod 755 "$ENG/bin/docker"; export DOCKER=$ENG/bin/docker ;;
  esac; }

# run_engine ENGINE: the whole cycle; appends to SUMMARY and the TOTAL_* counters
run_engine() { local e=$1 t0 ti ts tr tc rc st_b=$LOGS/$1.before st_a=$LOGS/$1.after
  local R=$RECIPES/$e.sh slog=$LOGS/$e.suite.log
  rm -f "$LOGS/$e".{failed,notes} "$slog"; rm -rf "$st_b" "$st_a"; unset DOCKER
  echo "== $e" >&2
  if [ $((DEADLINE - ${EPOCHREALTIME%.*} - CLEAN_RESERVE * ENGINES_LEFT)) -lt 60 ]; then
    P=0; F=0; X=0; N=0; ENGINES_LEFT=$((ENGINES_LEFT-1))
    fail_infra "$e" "not run: RT_ENGINES_BUDGET (${RT_ENGINES_BUDGET:-1800}s) used up"
    finish_engine "$e" "not run"; return; fi
  t0=$EPOCHREALTIME
  local had=installed; engine_pkgs_present "$e" || had=fresh
  if ! engine_install "$e"; then
    P=0; F=0; X=0; N=0
    if [ "$EXPLICIT" = 0 ]; then
      echo "$e: skipped: cannot be installed here, see $LOGS/$e.install.log" >&2
      SUMMARY+=("$e: skipped (apt-get install failed, see $LOGS/$e.install.log)"); return; fi
    fail_infra "$e" "install failed, see $LOGS/$e.install.log"
    finish_engine "$e" "install=$(secs_since "$t0")s(failed)"; return; fi
  ti=$(secs_since "$t0")
  rm -rf "$ENG/net-before"
  snapshot "$st_b"
  t0=$EPOCHREALTIME; P=0; F=0; X=0; N=0
  if timeout "$(left 120)" "$R" start >"$LOGS/$e.start.log" 2>&1 </dev/null; then
    seccomp_setup "$e"
    if [ "$e" = podman ]; then # conmon passes --log-format=json --log to runtimes named here
      echo "runtime_supports_json = [\"crun\", \"runc\", \"kata\", \"runsc\", \"youki\", \"krun\", \"$(basename "$RT_BIN")\"]" >> "$ENG/podman/containers.conf"
    fi
    if timeout "$(left 120)" "$R" import >"$LOGS/$e.import.log" 2>&1 </dev/null; then
      ts=$(secs_since "$t0"); t0=$EPOCHREALTIME
      local tmo; tmo=$(left "$TMO")
      timeout -k 15 "$tmo" "$R" run "$RT_BIN" >"$slog" 2>&1 </dev/null; rc=$?
      tr=$(secs_since "$t0")
      [ "${RT_ENGINES_VERBOSE:-0}" = 1 ] && cat "$slog" >&2
      classify "$e" "$slog"
      [ $rc = 124 ] || [ $rc = 137 ] && fail_infra "$e" "suite timed out after ${tmo}s (RT_ENGINES_TIMEOUT / RT_ENGINES_BUDGET), see $slog"
      grep -qE '^[a-z/]+ with .*: [0-9]+ passed, [0-9]+ failed' "$slog" || [ $rc = 124 ] || fail_infra "$e" "suite ended without its summary (rc=$rc), see $slog"
    else ts=$(secs_since "$t0"); tr=0; fail_infra "$e" "import failed, see $LOGS/$e.import.log"; fi
  else ts=$(secs_since "$t0"); tr=0; fail_infra "$e" "start failed, see $LOGS/$e.start.log"; fi
  t0=$EPOCHREALTIME
  ENGINES_LEFT=$((ENGINES_LEFT-1))
  timeout "$CLEAN_RESERVE" "$R" clean >"$LOGS/$e.clean.log" 2>&1 </dev/null
  # the recipes clean $ENG/<engine>; the docker stand-in CLI is ours
  rm -rf "${ENG:?}/bin"
  sleep 1; snapshot "$st_a"
  local leaks; leaks=$(leak_check "$st_b" "$st_a")
  tc=$(secs_since "$t0")
  if [ -n "$leaks" ]; then
    while IFS= read -r l; do fail_infra "$e" "after clean: $l"; done <<<"$leaks"
    reap_leftovers "$st_b"
  fi
  finish_engine "$e" "install=${ti}s($had) start+import=${ts}s suite=${tr}s stop+clean=${tc}s"
}

finish_engine() { local e=$1 times=$2
  local line="$e: $P passed, $F failed"
  [ $X -gt 0 ] && line+=" ($X expected failures)"
  [ $N -gt 0 ] && line+=" ($N newly passing)"
  echo "$line" >&2
  SUMMARY+=("$line")
  [ -s "$LOGS/$e.failed" ] && while IFS= read -r l; do SUMMARY+=("  FAIL $l"); done < "$LOGS/$e.failed"
  [ -s "$LOGS/$e.notes" ] && while IFS= read -r l; do SUMMARY+=("$l"); done < "$LOGS/$e.notes"
  echo "$e $times" >> "$LOGS/timings"
  TOTAL_P=$((TOTAL_P+P)); TOTAL_F=$((TOTAL_F+F)); TOTAL_X=$((TOTAL_X+X)); TOTAL_N=$((TOTAL_N+N))
}
