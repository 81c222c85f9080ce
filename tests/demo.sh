#!/bin/bash
# demo.sh RT: makes a busybox bundle from Debian's busybox-static under
# /tmp/rt-demo and runs it with RT.
set -euo pipefail
RT=$(readlink -f "${1:-./rt}")
B=/tmp/rt-demo
dpkg -s busybox-static >/dev/null 2>&1 || { echo "demo: apt-get install busybox-static" >&2; exit 1; }
BB=/bin/busybox
rm -rf "$B"; mkdir -p "$B/rootfs"/{bin,proc,sys,dev,tmp,etc,root}
cp "$BB" "$B/rootfs/bin/busybox"
for a in $("$B/rootfs/bin/busybox" --list); do [ -e "$B/rootfs/bin/$a" ] || ln "$B/rootfs/bin/busybox" "$B/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$B/rootfs/etc/passwd"
printf 'root:x:0:\n' >"$B/rootfs/etc/group"
cd "$B"
"$RT" spec
# Non-interactive: no terminal; print who and where we are.
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sh", "-c", "echo hello from $(hostname): pid $$, uid $(id -u); cat \/proc\/self\/cgroup | head -3"/' config.json
"$RT" run "demo-$$"
