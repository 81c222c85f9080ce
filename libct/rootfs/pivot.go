package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// pivotRoot makes rootfs the root and detaches the old one.
func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return err
	}
	// pivot_root(".", ".") stacks the old root under the new one; it is
	// then detached from the cwd, which stays on the old root meanwhile.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return err
	}
	// Don't let the unmount propagate to the host.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}

// moveRoot is --no-pivot: move the rootfs over / and chroot (for a root on
// ramfs/initramfs, where pivot_root is not allowed).
func moveRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return err
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move rootfs to /: %w", err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("chroot: %w", err)
	}
	return unix.Chdir("/")
}

// Chroot enters rootfs without any mount: for a container that shares
// the host's mount namespace.
func Chroot(rootfs string) error {
	if err := unix.Chroot(rootfs); err != nil {
		return fmt.Errorf("root.path: chroot %s: %w", rootfs, err)
	}
	return unix.Chdir("/")
}

func openRoot() (*os.File, error) {
	return os.OpenFile("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// readonlyPath bind-mounts p (inside root) onto itself read-only. A
// missing path is fine.
func readonlyPath(root *os.File, p string) error {
	f, err := openIn(root, p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	err = mountAt(procFd(f), f, "", unix.MS_BIND|unix.MS_REC, "")
	f.Close()
	if err != nil {
		return fmt.Errorf("bind %s: %w", p, err)
	}
	f, err = openIn(root, p)
	if err != nil {
		return err
	}
	defer f.Close()
	fl := preservedFlags(f) | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount("", procFd(f), "", unix.MS_BIND|unix.MS_REMOUNT|fl, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", p, err)
	}
	return nil
}

// maskPath hides p: a read-only empty tmpfs over a directory, /dev/null
// over anything else. The /dev/null used is checked to be the real
// character device 1:3, never a file or link the container put there
// (CVE-2025-31133). A missing path is fine.
func maskPath(root *os.File, p string) error {
	f, err := openIn(root, p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := mountAt("tmpfs", f, "tmpfs", unix.MS_RDONLY, "size=0,mode=0755"); err != nil {
			return fmt.Errorf("mask %s: %w", p, err)
		}
		return nil
	}
	null, err := openDevNull(root)
	if err != nil {
		return err
	}
	defer null.Close()
	if err := mountAt(procFd(null), f, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("mask %s: %w", p, err)
	}
	return nil
}

func openDevNull(root *os.File) (*os.File, error) {
	f, err := openInFlags(root, "/dev/null", unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return nil, fmt.Errorf("open /dev/null: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		f.Close()
		return nil, fmt.Errorf("/dev/null in the container is not the null device (1:3); refusing to use it as a mask")
	}
	return f, nil
}

// readonlyRoot remounts / read-only, keeping its locked flags.
func readonlyRoot() error {
	root, err := openRoot()
	if err != nil {
		return err
	}
	defer root.Close()
	fl := preservedFlags(root) | unix.MS_RDONLY
	if err := unix.Mount("", "/", "", unix.MS_BIND|unix.MS_REMOUNT|fl, ""); err != nil {
		return fmt.Errorf("remount / read-only: %w", err)
	}
	return nil
}
