package rootfs

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func u32(v uint32) *uint32 { return &v }

// defaultDevices are made in every container whose /dev is not a bind.
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0, FileMode: mode(0o666), UID: u32(0), GID: u32(0)},
}

func mode(m os.FileMode) *os.FileMode { return &m }

// DefaultDevices returns the devices every container gets.
func DefaultDevices() []specs.LinuxDevice { return defaultDevices }

func setupDev(root *os.File, devs []specs.LinuxDevice) error {
	for _, d := range defaultDevices {
		if err := makeDevice(root, d); err != nil {
			return fmt.Errorf("default device %s: %w", d.Path, err)
		}
	}
	for i, d := range devs {
		if err := makeDevice(root, d); err != nil {
			return fieldErr(fmt.Sprintf("linux.devices[%d]", i), fmt.Errorf("%s: %w", d.Path, err))
		}
	}
	links := [][2]string{
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"},
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "core"})
	}
	dev, err := mkdirIn(root, "/dev", 0o755)
	if err != nil {
		return fmt.Errorf("/dev: %w", err)
	}
	defer dev.Close()
	for _, l := range links {
		if l[1] == "ptmx" {
			// An existing /dev/ptmx node is replaced by the link into devpts.
			unix.Unlinkat(int(dev.Fd()), "ptmx", 0)
		}
		if err := unix.Symlinkat(l[0], int(dev.Fd()), l[1]); err != nil && err != unix.EEXIST {
			return fmt.Errorf("symlink /dev/%s: %w", l[1], err)
		}
	}
	return nil
}

func makeDevice(root *os.File, d specs.LinuxDevice) error {
	dir, err := mkdirIn(root, filepath.Dir(d.Path), 0o755)
	if err != nil {
		return err
	}
	defer dir.Close()
	name := filepath.Base(d.Path)
	var typ uint32
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	default:
		return fmt.Errorf("type %q: must be c, u, b or p", d.Type)
	}
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	unix.Unlinkat(int(dir.Fd()), name, 0)
	dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	if err := unix.Mknodat(int(dir.Fd()), name, typ|perm, int(dev)); err != nil {
		if err != unix.EPERM || typ == unix.S_IFIFO {
			return fmt.Errorf("mknod: %w", err)
		}
		// No CAP_MKNOD (user namespace): bind the host's node instead.
		return bindHostDevice(root, d.Path)
	}
	// Open what was just made, without following anything, and check it
	// is that node before changing owner and mode.
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), d.Path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != typ || (typ != unix.S_IFIFO && st.Rdev != dev) {
		return fmt.Errorf("%s changed after mknod", d.Path)
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	// mknod honours the umask; set the mode exactly.
	if err := unix.Chmod(procFd(f), perm); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return nil
}

func bindHostDevice(root *os.File, path string) error {
	t, err := mkfileIn(root, path)
	if err != nil {
		return err
	}
	defer t.Close()
	return mountAt(path, t, "", unix.MS_BIND, "")
}
