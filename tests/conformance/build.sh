#!/usr/bin/env bash
# build.sh - build the runtime-tools v0.9.0 validation suite once, from the
# pinned go.mod/go.sum beside this script, and print its directory.
#
# Usage: tests/conformance/build.sh
#
# The suite lands in $RT_CONFORMANCE_CACHE/v090-<key> (default
# /var/tmp/rt-conformance), where <key> hashes go.mod, go.sum, `go version`,
# GOARCH and RECIPE below: a build happens only when one of them changes.
# Needs only the Go module proxy (go.sum makes every module verified; nothing
# is resolved anew: -mod=readonly). About 1.5-2.5 min on 2 cores from an empty
# module cache; a concurrent second build waits on a lock.
#
# Output directory: <test>.t (58 test programs), runtimetest (static; runs
# inside the container), rootfs-<arch>.tar.gz (from the runtime-tools module),
# BUILD-INFO. This is the layout ../shared/conformance/run-validation.sh wants.
#
# Exit status: 0 and the directory on stdout's last line; 2 on failure.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CACHE=${RT_CONFORMANCE_CACHE:-/var/tmp/rt-conformance}
RECIPE=1 # bump when the build steps below change

die() { echo "build.sh: $*" >&2; exit 2; }

export PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || die "go not found (PATH or /usr/local/go/bin)"
for c in flock sha256sum; do command -v $c >/dev/null || die "needs $c"; done

# runtimetest's behaviour depends on the Go toolchain (process_rlimits), so
# the toolchain is part of the key.
key=$({ echo "recipe $RECIPE"; go version; go env GOARCH; cat "$HERE/go.mod" "$HERE/go.sum"; } |
  sha256sum | cut -c1-16)
SUITE=$CACHE/v090-$key

build() { # build TMPDIR: build in TMPDIR, then move the result to $SUITE
  local tmp=$1 dir f n=0
  mkdir "$tmp/mod" "$tmp/bin" && cp "$HERE/go.mod" "$HERE/go.sum" "$tmp/mod/" || return 1
  echo "# building the runtime-tools v0.9.0 suite into $SUITE" >&2
  (
    cd "$tmp/mod" || exit 1
    export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false" CGO_ENABLED=0
    go build -o "$tmp/bin/" github.com/opencontainers/runtime-tools/validation/... || exit 1
    go build -tags "netgo osusergo" -o "$tmp/bin/runtimetest" \
      github.com/opencontainers/runtime-tools/cmd/runtimetest || exit 1
    dir=$(go list -m -f '{{.Dir}}' github.com/opencontainers/runtime-tools) || exit 1
    cp "$dir"/rootfs-*.tar.gz "$tmp/bin/" && chmod u+w "$tmp/bin"/rootfs-*.tar.gz || exit 1
    { echo "runtime-tools v0.9.0 validation suite, built $(date -u +%FT%TZ) by tests/conformance/build.sh"
      go version
      echo "key $key (recipe $RECIPE)"; } >"$tmp/bin/BUILD-INFO"
  ) >&2 || return 1
  for f in "$tmp/bin"/*; do
    case ${f##*/} in runtimetest | *.tar.gz | BUILD-INFO) ;; *) mv "$f" "$f.t" && n=$((n + 1)) ;; esac
  done
  [ "$n" -gt 0 ] || { echo "build.sh: no test programs were built" >&2; return 1; }
  rm -rf "$SUITE" && mv "$tmp/bin" "$SUITE"
}

mkdir -p "$CACHE" || die "cannot create $CACHE"
exec 9>"$CACHE/.build.lock"
flock -w 1800 9 || die "timed out waiting for another build in $CACHE"
if [ ! -f "$SUITE/BUILD-INFO" ]; then
  tmp=$(mktemp -d "$CACHE/.build-$key.XXXXXX") || die "mktemp in $CACHE failed"
  build "$tmp"
  rc=$?
  rm -rf "$tmp"
  [ "$rc" = 0 ] || die "building the suite failed (see above)"
fi
echo "$SUITE"
