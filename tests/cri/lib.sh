# shellcheck shell=bash
# lib.sh - sourced by run.sh: the offline images, containerd's and CNI's
# configuration, the host snapshots for the leak check and the clean-up.
# Uses from run.sh: HERE RT_BIN RUN DATA SOCK LOGS BRIDGE SUBNET CGPARENT
# PAUSE_REF BUSYBOX_REF NS

say() { printf '== %s\n' "$*" >&2; }
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }

# --- images -----------------------------------------------------------------

# oci_archive ROOTFS OUT REF CONFIG_JSON: one gzip layer made from the directory
# ROOTFS (reproducible: sorted, mtime 0, owner 0), the image config (its
# "config" object is CONFIG_JSON) and an OCI index whose manifest carries the
# io.containerd.image.name annotation, so `ctr images import` tags it REF
oci_archive() { local root=$1 out=$2 ref=$3 cfg=$4 w created=2024-01-01T00:00:00Z
  w=$(mktemp -d "$(dirname "$out")/img.XXXXXX") || return 1
  mkdir -p "$w/blobs/sha256"
  tar -C "$root" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$w/layer.tar" . || return 1
  local diffid ldig lsize cdig csize mdig msize
  diffid=$(sha256sum < "$w/layer.tar" | cut -d' ' -f1)
  gzip -n "$w/layer.tar"
  ldig=$(sha256sum < "$w/layer.tar.gz" | cut -d' ' -f1); lsize=$(stat -c %s "$w/layer.tar.gz")
  mv "$w/layer.tar.gz" "$w/blobs/sha256/$ldig"
  jq -cn --arg d "sha256:$diffid" --arg c "$created" --argjson cfg "$cfg" '{
    created:$c, architecture:"amd64", os:"linux", config:$cfg,
    rootfs:{type:"layers", diff_ids:[$d]},
    history:[{created:$c, created_by:"tests/cri/run.sh"}]}' > "$w/config.json"
  cdig=$(sha256sum < "$w/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$w/config.json")
  mv "$w/config.json" "$w/blobs/sha256/$cdig"
  jq -cn --arg cd "sha256:$cdig" --argjson cs "$csize" --arg ld "sha256:$ldig" --argjson ls "$lsize" '{
    schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$cd, size:$cs},
    layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip", digest:$ld, size:$ls}]}' > "$w/manifest.json"
  mdig=$(sha256sum < "$w/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$w/manifest.json")
  mv "$w/manifest.json" "$w/blobs/sha256/$mdig"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$w/oci-layout"
  jq -cn --arg md "sha256:$mdig" --argjson ms "$msize" --arg ref "$ref" '{
    schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json",
    manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$md, size:$ms,
      platform:{architecture:"amd64", os:"linux"},
      annotations:{"io.containerd.image.name":$ref, "org.opencontainers.image.ref.name":($ref|sub(".*:";""))}}]}' > "$w/index.json"
  tar -C "$w" --owner=0 --group=0 --numeric-owner -cf "$out" oci-layout index.json blobs || return 1
  rm -rf "$w"
}

# build_images DIR: the pause image (the static Go program in pause/) and a
# busybox image (Debian's busybox-static, every applet a hard link)
build_images() { local d=$1 r
  r=$d/pause-root; rm -rf "$r"; mkdir -p "$r"
  (cd "$HERE" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$r/pause" ./pause) || return 1
  oci_archive "$r" "$d/pause.tar" "$PAUSE_REF" \
    '{"Entrypoint":["/pause"],"User":"65535:65535","WorkingDir":"/"}' || return 1
  r=$d/busybox-root; rm -rf "$r"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root,run,var}
  chmod 1777 "$r/tmp"
  cp "$(readlink -f "$(command -v busybox)")" "$r/bin/busybox" || return 1
  local a; for a in $("$r/bin/busybox" --list-full); do
    [ -e "$r/$a" ] || ln "$r/bin/busybox" "$r/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  oci_archive "$r" "$d/busybox.tar" "$BUSYBOX_REF" \
    '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}' || return 1
  rm -rf "$d/pause-root" "$d/busybox-root"
}

# --- containerd and CNI configuration -----------------------------------------

write_config() {
  mkdir -p "$DATA/cni/net.d" "$DATA/certs.d" "$RUN"
  cat > "$DATA/cni/net.d/10-rt-cri.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "rt-cri",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$SUBNET"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$DATA/cni/ipam"
      }
    }
  ]
}
EOF
  cat > "$DATA/config.toml" <<EOF
# containerd for tests/cri only: its own root, state, socket, CNI and images
version = 2
root = "$DATA/root"
state = "$RUN/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$SOCK"

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "$DATA/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_REF"
  netns_mounts_under_state_dir = true
  # root here lacks CAP_SYS_RESOURCE, so no runtime can lower oom_score_adj
  # (containerd gives the pause container -998): keep it at containerd's own
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DATA/cni/net.d"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    # pods without a RuntimeClass keep runc; the handler "rt" is rt
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$RUN/runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rt]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.rt.options]
        BinaryName = "$RT_BIN"
        Root = "$RUN/rt"
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$DATA/certs.d"
EOF
}

start_containerd() {
  nohup containerd --config "$DATA/config.toml" > "$LOGS/containerd.log" 2>&1 < /dev/null &
  echo $! > "$RUN/containerd.pid"
  for _ in $(seq 100); do
    ctr -a "$SOCK" version > /dev/null 2>&1 && return 0
    kill -0 "$(cat "$RUN/containerd.pid")" 2> /dev/null || break
    sleep 0.1
  done
  echo "containerd did not come up; $LOGS/containerd.log:" >&2; tail -20 "$LOGS/containerd.log" >&2
  return 1
}

# stop_containerd: SIGTERM by PID, then SIGKILL after 10 s
stop_containerd() { local pid
  [ -s "$RUN/containerd.pid" ] || return 0
  pid=$(cat "$RUN/containerd.pid")
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2> /dev/null && { echo "containerd: SIGKILL $pid" >&2; kill -KILL "$pid"; }
  fi
  rm -f "$RUN/containerd.pid"
}

# --- host state: snapshots, leak check, clean-up ------------------------------

# our_pids: processes started for this run: shims (their command line names our
# socket), and every process in the cgroups below CGPARENT
our_pids() { local p f
  for p in $(pgrep -f -- "$SOCK"); do [ "$p" = $$ ] || [ "$p" = "$BASHPID" ] || echo "$p"; done
  for f in /sys/fs/cgroup/*/"${CGPARENT#/}"; do
    [ -d "$f" ] && find "$f" -name cgroup.procs -exec cat {} + 2> /dev/null; done
  return 0
}

our_cgroups() { local f; for f in /sys/fs/cgroup/*/"${CGPARENT#/}"; do [ -d "$f" ] && find "$f" -type d; done; return 0; }

# ipt_rules: every rule and user chain, with its table (built-in chains
# with the ACCEPT policy, which appear with a table, are not listed)
ipt_rules() { local v; for v in iptables ip6tables; do
  command -v "$v-save" > /dev/null || continue
  "$v-save" 2> /dev/null | sed -E 's/ \[[0-9]+:[0-9]+\]$//' |
    awk -v v="$v" '/^\*/ {t=$1} /^(-A|:)/ && !/^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) ACCEPT$/ {print v, t, $0}'
  done | sort; }

# snapshot DIR: what the run must leave as it found it
snapshot() { local d=$1; mkdir -p "$d"
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort > "$d/links"
  find /run/netns -mindepth 1 -maxdepth 1 2> /dev/null | sort > "$d/netns"
  awk '{print $5, $9}' /proc/self/mountinfo | sort > "$d/mounts"
  ipt_rules > "$d/iptables"
  sysctl -n net.ipv4.ip_forward > "$d/ip_forward"
  our_pids | sort -u > "$d/pids"
  our_cgroups | sort > "$d/cgroups"
  find /var/lib/cni/results -maxdepth 1 -name 'rt-cri-*' 2> /dev/null | sort > "$d/cniresults"
  ls -d /run/containerd /run/containerd/s /var/lib/cni /var/lib/cni/results /opt/containerd "$RUN" "$DATA" 2> /dev/null > "$d/dirs"
}

# leaks BEFORE AFTER: one line per thing left behind
leaks() { local b=$1 a=$2
  diff "$b/links" "$a/links" | sed -n 's/^> /link left: /p'
  diff "$b/netns" "$a/netns" | sed -n "s/^> /netns left: /p"
  diff "$b/mounts" "$a/mounts" | sed -n 's/^> /mount left: /p'
  diff "$b/iptables" "$a/iptables" | sed -n 's/^> /rule or chain left: /p'
  cmp -s "$b/ip_forward" "$a/ip_forward" || echo "net.ipv4.ip_forward changed: $(cat "$b/ip_forward") -> $(cat "$a/ip_forward")"
  sed 's/^/process left: /' "$a/pids"
  sed 's/^/cgroup left: /' "$a/cgroups"
  diff "$b/dirs" "$a/dirs" | sed -n 's/^> /directory left: /p'
  diff "$b/cniresults" "$a/cniresults" | sed -n 's/^> /CNI result cache left: /p'
}

# umount_under DIR...: unmount every mount point below the given directories
# (deepest first); nothing outside them is touched
umount_under() { local d m
  for d in "$@"; do
    awk '{print $5}' /proc/self/mountinfo | grep -F -- "$d/" | sort -r | while read -r m; do
      case $m in "$d"/*) umount "$m" 2> /dev/null || umount -l "$m" 2> /dev/null ;; esac
    done
  done
}

# ipt_clean: the rules the bridge plugin's ipMasq made for our network (their
# comment names it, their source is in SUBNET) and the CNI-* chains they jump to
ipt_clean() { local v chains c n re
  re="name: \\\\\"rt-cri\\\\\"|-s ${SUBNET%.*}."
  re=${re//./\\.}
  for v in iptables ip6tables; do
    command -v "$v" > /dev/null || continue
    chains=$("$v" -t nat -S POSTROUTING 2> /dev/null | grep -E "$re" | sed -n 's/.* -j \(CNI-[0-9a-f]*\).*/\1/p' | sort -u)
    # delete POSTROUTING rules by number, last first
    for n in $("$v" -t nat -S POSTROUTING 2> /dev/null | grep '^-A' | grep -nE "$re" | cut -d: -f1 | sort -rn); do
      "$v" -t nat -D POSTROUTING "$n"; done
    for c in $chains; do "$v" -t nat -F "$c" && "$v" -t nat -X "$c"; done
  done
  return 0
}

# sweep_cri: stop and remove every pod and container through CRI while
# containerd answers (StopPodSandbox tears the network down with CNI DEL)
sweep_cri() {
  [ -x "$DATA/cri.test" ] && ctr -a "$SOCK" version > /dev/null 2>&1 || return 0
  RT_CRI_ENDPOINT=unix://$SOCK RT_CRI_SWEEP=1 timeout -k 5 60 "$DATA/cri.test" -test.run '^TestSweep$' -test.v \
    > "$LOGS/sweep.log" 2>&1 || { echo "sweep through CRI failed, see $LOGS/sweep.log" >&2; tail -5 "$LOGS/sweep.log" >&2; }
  grep -E 'swept' "$LOGS/sweep.log" >&2
  return 0
}

# our_ids: the IDs of the tasks and sandboxes this containerd knows (its dirs)
our_ids() {
  find "$RUN/state/io.containerd.runtime.v2.task/$NS" "$DATA/root/io.containerd.grpc.v1.cri/sandboxes" \
    "$DATA/root/io.containerd.grpc.v1.cri/containers" -mindepth 1 -maxdepth 1 -printf '%f\n' 2> /dev/null |
    grep -E '^[0-9a-f]{64}$' | sort -u
}

# remove_outside_files: what containerd 1.6 and libcni write outside the
# configured dirs and leave when a shim or containerd was killed: the shim's
# socket /run/containerd/s/<sha256(address/namespace/id)> and the CNI result
# cache /var/lib/cni/results/<network>-<id>-<ifname>, for our IDs only
remove_outside_files() { local id h
  for id in $(our_ids); do
    h=$(printf '%s' "$SOCK/$NS/$id" | sha256sum | cut -d' ' -f1)
    [ -S "/run/containerd/s/$h" ] && rm -f "/run/containerd/s/$h"
    rm -f /var/lib/cni/results/rt-cri-"$id"-* /var/lib/cni/results/cni-loopback-"$id"-*
  done
  return 0
}

# clean_host BEFORE: take away what this run made, whatever state it is in
clean_host() { local b=$1 p
  stop_containerd
  for p in $(our_pids | sort -u); do grep -qx "$p" "$b/pids" || kill -KILL "$p" 2> /dev/null; done
  for _ in $(seq 20); do [ -z "$(our_pids)" ] && break; sleep 0.1; done
  umount_under "$DATA" "$RUN"
  remove_outside_files
  ip link show "$BRIDGE" > /dev/null 2>&1 && ! grep -qx "$BRIDGE" "$b/links" && ip link del "$BRIDGE"
  ipt_clean
  # the bridge plugin (isGateway) turns forwarding on: put back what it was
  [ "$(sysctl -n net.ipv4.ip_forward)" = "$(cat "$b/ip_forward")" ] || sysctl -qw net.ipv4.ip_forward="$(cat "$b/ip_forward")"
  for _ in $(seq 20); do
    [ -z "$(our_cgroups)" ] && break
    our_cgroups | sort -r | while read -r p; do rmdir "$p" 2> /dev/null; done; sleep 0.1
  done
  # containerd's dirs, only once nothing is mounted below them any more
  for p in "$RUN" "$DATA"; do
    if grep -qF -- " $p/" <(awk '{print " "$5}' /proc/self/mountinfo); then echo "not removing $p: mounts left below it" >&2
    else rm -rf "$p"; fi
  done
  # dirs that containerd 1.6 and libcni make outside their configured roots
  # (shim sockets in /run/containerd/s, the CNI result cache in /var/lib/cni):
  # removed only if this run made them and they hold no file
  for p in /run/containerd /var/lib/cni /opt/containerd; do
    grep -qx "$p" "$b/dirs" && continue
    [ -d "$p" ] && [ -z "$(find "$p" -not -type d | head -1)" ] && find "$p" -depth -type d -empty -delete
  done
  return 0
}
