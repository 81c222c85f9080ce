package libct

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/state"
	"github.com/rt-oci/rt/spec"
)

// A container without a mount namespace whose config mounts anything
// (spec.SharesHostMounts) has its root built in rt's own mount namespace:
// the init binds the rootfs at <state dir>/root, a directory rt owns and
// no container or bundle can redirect, mounts below that bind, and
// chroots into it (rootfs.Setup with SharedAt). The propagation of the
// host's mounts is left alone. Other containers using the same rootfs
// see none of these mounts, and delete detaches exactly that bind.

// sharedRootDir is the mount point of a shared root in the state dir.
const sharedRootDir = "root"

// journalSharedRoot makes <state dir>/root and records it for such a
// config, before the init exists.
func journalSharedRoot(h *state.Handle, st *state.State, s *specs.Spec) error {
	if !spec.SharesHostMounts(s) {
		return nil
	}
	dir := filepath.Join(h.Dir, sharedRootDir)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("root.path: mount point for a container without a mount namespace: %w", err)
	}
	st.SharedRoot = dir
	return nil
}

// releaseSharedRoot detaches the bind (and every mount below it) at the
// journalled shared root, if it is still mounted there. The directory is
// opened without following symlinks and unmounted through that
// descriptor.
func releaseSharedRoot(st *state.State) {
	if st.SharedRoot == "" || filepath.Base(st.SharedRoot) != sharedRootDir || filepath.Base(filepath.Dir(st.SharedRoot)) != st.ID {
		return
	}
	fd, err := unix.Open(st.SharedRoot, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if !state.IsMountRoot(fd, "") {
		return // not (or no longer) a mount point
	}
	if err := unix.Unmount("/proc/self/fd/"+strconv.Itoa(fd), unix.MNT_DETACH); err != nil {
		logrus.Warnf("delete: unmount the container's root at %s: %v", st.SharedRoot, err)
	}
}
