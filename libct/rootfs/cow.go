package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// The copy-on-write root (rt create --cow-rootfs, org.rt.rootfs.cow=true;
// docs/overlay.md). Right after the root's propagation is set, before any
// mount, the init puts an overlay over root.path in its own mount
// namespace: root.path is the read-only lower layer, and Setup then
// carries on with the overlay as the rootfs (binds it, mounts into it,
// pivots into it). root.path on the host never changes, so any number of
// containers can share one directory.
//
// The upper and work directories live in a tmpfs made with fsopen and
// never attached to any mount tree: only the overlay holds it, so nothing
// (another container, the host, this container) can reach it by a path,
// and it is gone with the container's mount namespace. With
// org.rt.rootfs.cow.dir=state they live in CowDir instead, a directory the
// host side made (and recorded) under the container's state dir, which
// delete removes.

// CowSource is the source of the copy-on-write overlay in mountinfo.
const CowSource = "rt-cow"

// mountCowRoot mounts the copy-on-write overlay over c.Rootfs.
func mountCowRoot(c *Config) error {
	lower, err := os.OpenFile(c.Rootfs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("root.path: %w", err)
	}
	defer lower.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(lower.Fd()), &st); err != nil {
		return fmt.Errorf("root.path: %w", err)
	}
	if c.CowDir != "" {
		err = cowOnDisk(c, &st)
	} else {
		err = cowInTmpfs(c, &st, true)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			// An older kernel: no layers by descriptor, or not on a
			// detached mount.
			err = cowInTmpfs(c, &st, false)
		}
	}
	if err != nil {
		return fmt.Errorf("copy-on-write root over %s: %w", c.Rootfs, err)
	}
	return nil
}

// makeLayers makes upper (with the owner and mode of root.path's top
// directory, which the overlay's root takes from it) and work in dir.
func makeLayers(dir int, st *unix.Stat_t) error {
	if err := unix.Mkdirat(dir, "upper", 0o700); err != nil {
		return fmt.Errorf("mkdir upper: %w", err)
	}
	if err := unix.Fchownat(dir, "upper", int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown upper: %w", err)
	}
	if err := unix.Fchmodat(dir, "upper", st.Mode&0o7777, 0); err != nil {
		return fmt.Errorf("chmod upper: %w", err)
	}
	if err := unix.Mkdirat(dir, "work", 0o700); err != nil {
		return fmt.Errorf("mkdir work: %w", err)
	}
	return nil
}

// cowOverlay starts the overlay's filesystem context with root.path as
// its only lower layer (resolved now, before the overlay covers it).
func cowOverlay(c *Config) (*fsContext, error) {
	fs, err := newFS("overlay")
	if err != nil {
		return nil, err
	}
	if err := fs.set("source", CowSource); err != nil {
		fs.close()
		return nil, err
	}
	if err := setLowers(fs, []string{c.Rootfs}, nil); err != nil {
		fs.close()
		return nil, err
	}
	return fs, nil
}

// cowOnDisk: upper and work in c.CowDir (volatile: the layer is thrown
// away at delete, so the overlay need not sync it).
func cowOnDisk(c *Config, st *unix.Stat_t) error {
	dir, err := os.OpenFile(c.CowDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	err = makeLayers(int(dir.Fd()), st)
	dir.Close()
	if err != nil {
		return err
	}
	fs, err := cowOverlay(c)
	if err != nil {
		return err
	}
	defer fs.close()
	for _, p := range [][2]string{{"upperdir", "upper"}, {"workdir", "work"}} {
		if err := fs.set(p[0], filepath.Join(c.CowDir, p[1])); err != nil {
			return err
		}
	}
	if err := fs.flag("volatile"); err != nil {
		return err
	}
	return mountOver(fs, c.Rootfs)
}

// cowInTmpfs: upper and work in a new tmpfs. detached: the tmpfs stays
// unattached and the layers are given by descriptor (what Linux 6.18
// does; older kernels refuse a layer by descriptor or on a detached
// mount). Otherwise the tmpfs is first mounted over root.path and the
// overlay on top of it; pivot_root then detaches both from every tree.
func cowInTmpfs(c *Config, st *unix.Stat_t, detached bool) error {
	tfs, err := newFS("tmpfs")
	if err != nil {
		return err
	}
	defer tfs.close()
	// Unset: as large as RAM (tmpfs can't hold more anyway, and statfs
	// then shows real numbers: "0", no limit at all, shows 0 free, which
	// makes tools such as apt refuse to write). The memory cgroup counts
	// the pages either way.
	size := c.CowSize
	if size == "" {
		size = "100%"
	}
	if err := tfs.set("size", size); err != nil {
		return fmt.Errorf("annotations[%q]: %w", "org.rt.rootfs.cow.size", err)
	}
	if err := tfs.set("mode", "0700"); err != nil {
		return err
	}
	tmnt, err := tfs.mount(0)
	if err != nil {
		return err
	}
	defer tmnt.Close()
	if err := makeLayers(int(tmnt.Fd()), st); err != nil {
		return err
	}
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	open := func(dir int, name string) (int, error) {
		fd, err := unix.Openat(dir, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == nil {
			fds = append(fds, fd)
		}
		return fd, err
	}
	upper, err := open(int(tmnt.Fd()), "upper")
	if err != nil {
		return err
	}
	work, err := open(int(tmnt.Fd()), "work")
	if err != nil {
		return err
	}
	var fs *fsContext
	if detached {
		if fs, err = cowOverlay(c); err != nil {
			return err
		}
		defer fs.close()
		if err := fs.setFd("upperdir", upper, "/upper"); err != nil {
			return err
		}
		if err := fs.setFd("workdir", work, "/work"); err != nil {
			return err
		}
		return mountOver(fs, c.Rootfs)
	}
	// Every layer by its descriptor's magic link: a legacy context
	// resolves paths only at create, when root.path's name already leads
	// to the tmpfs.
	lower, err := unix.Open(c.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	fds = append(fds, lower)
	target, err := os.OpenFile(c.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	err = moveTo(tmnt, target)
	target.Close()
	if err != nil {
		return fmt.Errorf("attach the upper layer's tmpfs: %w", err)
	}
	if fs, err = newFS("overlay"); err != nil {
		return err
	}
	defer fs.close()
	for _, p := range [][2]string{{"source", CowSource}, {"lowerdir", fdPath(lower)}, {"upperdir", fdPath(upper)}, {"workdir", fdPath(work)}} {
		if err := fs.set(p[0], p[1]); err != nil {
			return err
		}
	}
	return mountOver(fs, c.Rootfs)
}

// mountOver creates the overlay and mounts it on path.
func mountOver(fs *fsContext, path string) error {
	mnt, err := fs.mount(0)
	if err != nil {
		return err
	}
	defer mnt.Close()
	target, err := os.OpenFile(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer target.Close()
	return moveTo(mnt, target)
}

// CheckCowRoot runs on the host once the init reported ready: the root
// of process pid must be the copy-on-write overlay. It catches an init
// that ignored the request (an older embedded init), which would have
// let the container write into the shared root.path.
func CheckCowRoot(pid int) error {
	infos, err := mountinfo.PidMountInfo(pid)
	if err != nil {
		return fmt.Errorf("copy-on-write root: %w", err)
	}
	var root *mountinfo.Info
	for _, m := range infos {
		if m.Mountpoint == "/" {
			root = m
		}
	}
	if root == nil || root.FSType != "overlay" || root.Source != CowSource {
		return errors.New("copy-on-write root: the container's / is not the overlay rt asked its init for (is the init older than rt?)")
	}
	return nil
}
