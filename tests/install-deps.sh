#!/bin/bash
# Installs what building and testing rt needs on a Debian 12 machine (root).
set -euo pipefail
pkgs=(make git gcc libc6-dev pkg-config libseccomp-dev busybox-static jq runc crun util-linux iproute2 strace time uidmap)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ -n "${RT_SKIP_APT_UPDATE:-}" ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || { echo "install-deps: Go not found (expected /usr/local/go)" >&2; exit 1; }
