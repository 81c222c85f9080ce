package libct

import (
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/state"
	"github.com/rt-oci/rt/spec"
)

// A container without a mount namespace whose config mounts anything has
// its rootfs built below a bind of the rootfs onto itself, in rt's own
// mount namespace (spec.SharesHostMounts, rootfs.Setup with SharedNS).
// The propagation of the host's mounts is left alone, so the bind and
// what is below it propagate like any mount made there, and so does the
// unmount. create journals the rootfs and the mount under it before the
// init exists; delete (and a failed create) detach what covers it since.

// journalSharedRoot records st.SharedRoot for such a config.
func journalSharedRoot(st *state.State, s *specs.Spec) error {
	if !spec.SharesHostMounts(s) {
		return nil
	}
	id, err := mountID(st.Rootfs)
	if err != nil {
		return fmt.Errorf("root.path: %w", err)
	}
	st.SharedRoot, st.SharedRootUnder = st.Rootfs, id
	return nil
}

// releaseSharedRoot detaches the rootfs bind of a journalled shared root
// (and every mount below it). A path now on another mount than the one
// found at create is unmounted once; one that is still on it is left.
func releaseSharedRoot(st *state.State) {
	if st.SharedRoot == "" {
		return
	}
	f, err := os.OpenFile(st.SharedRoot, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer f.Close()
	id, err := fdMountID(int(f.Fd()))
	if err != nil || id == st.SharedRootUnder {
		return
	}
	// Through the descriptor: the mount that was checked is the one
	// detached, whatever the path resolves to now.
	p := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
		logrus.Warnf("delete: unmount the container's root %s: %v", st.SharedRoot, err)
	}
}

func mountID(path string) (uint64, error) {
	f, err := os.OpenFile(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return fdMountID(int(f.Fd()))
}

func fdMountID(fd int) (uint64, error) {
	var x unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &x); err != nil {
		return 0, fmt.Errorf("statx: %w", err)
	}
	if x.Mask&unix.STATX_MNT_ID == 0 {
		return 0, fmt.Errorf("statx: no mount ID")
	}
	return x.Mnt_id, nil
}
