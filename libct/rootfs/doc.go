// Package rootfs builds the container's filesystem view inside its new
// mount namespace, from the init (libct/initstage): root propagation, the
// rootfs bind, config.json mounts, /dev, pivot_root (or MS_MOVE+chroot
// with --no-pivot), masked and read-only paths, and the read-only root.
//
// Every destination is resolved inside the rootfs (openat2 RESOLVE_IN_ROOT
// through filepath-securejoin's pathrs-lite) to an O_PATH handle, and the
// mount targets /proc/thread-self/fd/N of that handle, so a symlink the
// container plants can't redirect a mount to the host (CVE-2021-30465).
package rootfs
