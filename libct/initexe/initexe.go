package initexe

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/nsenter"
)

// cacheDir, under the state root, holds the embedded init program written
// out once per rt binary. '@' can't appear in a container ID, so it never
// collides with a container's directory.
const cacheDir = "@rt-init"

// Open returns a close-on-exec descriptor of the init executable. root is
// the state root, where the embedded program is cached on disk so that it
// can be sealed by a read-only overlay (no copy) instead of a memfd copy.
func Open(root string) (int, error) {
	if len(embedded) == 0 {
		return nsenter.SealedSelf()
	}
	// The overlay seal needs mount privilege in the host (fsopen): an
	// unprivileged rt (rootless) goes to the memfd copy directly and
	// writes no cache.
	if os.Geteuid() == 0 {
		if fd, err := openCached(root, false); err == nil {
			return fd, nil
		}
	}
	return nsenter.SealedBytes("rt-init", embedded)
}

// OpenCached is Open when the init is cached under root already, and
// writes nothing: create starts it before it knows the bundle is valid
// (bad input must leave nothing under --root). ok is false otherwise; the
// caller then uses Open.
func OpenCached(root string) (fd int, ok bool) {
	if len(embedded) == 0 || os.Geteuid() != 0 {
		return -1, false
	}
	fd, err := openCached(root, true)
	return fd, err == nil
}

func openCached(root string, lookupOnly bool) (int, error) {
	p, err := cached(root, lookupOnly)
	if err != nil {
		return -1, err
	}
	fd, err := nsenter.SealedFile(p)
	if err != nil {
		return -1, err
	}
	// What was opened, not what was checked, must be ours.
	if !sameCache(fd) {
		unix.Close(fd)
		return -1, fmt.Errorf("init cache: %s changed while opened", p)
	}
	return fd, nil
}

// initMode lets any user exec the init (in a user namespace the init
// execs as the namespace's root, a host UID other than rt's) and nobody
// read it without CAP_DAC_*: the exec of a file the task can't read
// leaves it non-dumpable from its first instruction, not only from
// initstage's prctl on (nsenter's rawSpawn drops those capabilities from
// its effective set for the exec). The overlay seal shows this mode.
const initMode = 0o111

// cached returns the path of the embedded program written out under root,
// keyed by the identity of the running rt binary (a new build gets a new
// key; older keys are removed when a new one is written).
func cached(root string, lookupOnly bool) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return "", err
	}
	key := fmt.Sprintf("%x-%x-%x-%x", st.Dev, st.Ino, st.Mtim.Nano(), st.Size)
	top := filepath.Join(root, cacheDir)
	dir := filepath.Join(top, key)
	p := filepath.Join(dir, "rt-init")
	// Only a cache nobody else could have written is used: root execs
	// it, and a --root another user can write must not give them that.
	if err := trusted(root, top, dir); err != nil {
		return "", err
	}
	if err := trustedAncestors(root); err != nil {
		return "", err
	}
	if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() == int64(len(embedded)) && fi.Mode().Perm() == initMode && ownedByUs(fi) {
		return p, nil
	}
	if lookupOnly {
		return "", os.ErrNotExist
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".rt-init-*")
	if err != nil {
		return "", err
	}
	_, err = tmp.Write(embedded)
	if err == nil {
		err = tmp.Chmod(initMode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if ents, err := os.ReadDir(top); err == nil {
		for _, e := range ents {
			if e.Name() != key {
				os.RemoveAll(filepath.Join(top, e.Name()))
			}
		}
	}
	return p, nil
}
