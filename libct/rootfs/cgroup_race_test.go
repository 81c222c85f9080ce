package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/spec"
)

// Regression (session 4 review): cgroupMount once mounted its tmpfs on the
// handle of dest, then resolved dest in the rootfs again and worked through
// that second handle. Whoever can write the rootfs meanwhile (another
// container sharing it) could swap a component of dest for a symlink in
// between, and the host cgroup directories were bound in another tmpfs of
// the container (here its /dev) while the tmpfs at dest stayed empty. Now
// the tmpfs is made detached and its own handle used. The race is tried
// for a bounded time; a hit is a failure.
func TestCgroupMountNoSecondLookup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	src := ""
	for _, c := range []string{"pids", "freezer", "devices", "memory"} {
		if st, err := os.Stat("/sys/fs/cgroup/" + c + "/cgroup.procs"); err == nil && st.Mode().IsRegular() {
			src = "/sys/fs/cgroup/" + c
			break
		}
	}
	if src == "" {
		t.Skip("no cgroup v1 hierarchy")
	}
	root := t.TempDir()
	dev := filepath.Join(root, "dev")
	for _, d := range []string{dev, filepath.Join(root, "a", "cgroup")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var stop atomic.Bool
	done := make(chan struct{})
	// a flips atomically between the real directory and a symlink to dev
	// (so it always exists: only the two resolutions differ).
	a, aSym := filepath.Join(root, "a"), filepath.Join(root, "a.sym")
	if err := os.Symlink("dev", aSym); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		for !stop.Load() {
			unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, aSym, unix.RENAME_EXCHANGE)
		}
	}()
	defer func() {
		stop.Store(true)
		<-done
	}()
	cfg := &Config{Rootfs: root, CgroupPaths: map[string]string{"x": src}}
	opts := spec.MountOptions{Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC}
	hit := errors.New("hit")
	deadline := time.Now().Add(1500 * time.Millisecond)
	tries, hits := 0, 0
	for time.Now().Before(deadline) && hits == 0 {
		tries++
		err := inMountNS(t, func() error {
			if err := unix.Mount("tmpfs", dev, "tmpfs", 0, "mode=755"); err != nil {
				return err
			}
			os.Mkdir(filepath.Join(dev, "cgroup"), 0o755)
			rf, err := os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY, 0)
			if err != nil {
				return err
			}
			defer rf.Close()
			if cgroupMount(rf, cfg, "/a/cgroup", opts) != nil {
				return nil // lost the race another way (ENOENT, ...)
			}
			// Did the bind land in the container's /dev itself, not in
			// a tmpfs mounted on dev/cgroup (which is where a dest
			// resolved through the symlink both times would put it)?
			var sd, sc unix.Stat_t
			if unix.Stat(dev, &sd) != nil || unix.Stat(filepath.Join(dev, "cgroup"), &sc) != nil {
				return nil
			}
			if ents, _ := os.ReadDir(filepath.Join(dev, "cgroup")); len(ents) > 0 && sd.Dev == sc.Dev {
				return hit
			}
			return nil
		})
		if errors.Is(err, hit) {
			hits++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if hits > 0 {
		t.Errorf("in %d tries the cgroup binds for dest /a/cgroup landed in the container's /dev tmpfs "+
			"(dest resolved again after the mount)", tries)
	} else {
		t.Logf("no hit in %d tries", tries)
	}
}
