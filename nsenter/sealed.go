package nsenter

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const mfdExec = 0x10 // MFD_EXEC (Linux 6.3)

// execOnlyMode is the mode of the sealed memfd copies: anyone may exec
// them (in a user namespace the init runs as a host UID other than rt's),
// nobody without CAP_DAC_* may read them.
const execOnlyMode = 0o111

// SealedSelf returns a close-on-exec descriptor of the running executable
// that nobody can write through: the container init is exec'd from it, so a
// process in the container that reaches /proc/<init>/exe can't overwrite the
// rt binary on the host (CVE-2019-5736).
//
// First choice: the binary opened from a private, detached, read-only
// overlayfs whose only layer is the binary's directory (no copy: any write
// through it fails with EROFS, and the mount is reachable only through the
// descriptor). Fallback: a sealed memfd copy.
//
// The overlay needs mount privilege in the host; an unprivileged caller
// (rootless rt) goes to the memfd copy directly.
//
// The overlay exposes the binary's own mode (usually readable by all), so
// an init exec'd from it is dumpable from its exec until it makes itself
// non-dumpable; the memfd copy and the init embedded by rt_embed_init
// (libct/initexe) are mode 0111, which the kernel answers with a
// non-dumpable exec (rawSpawn).
func SealedSelf() (int, error) {
	if os.Geteuid() == 0 {
		if fd, err := overlaySelf(); err == nil {
			return fd, nil
		}
	}
	return memfdSelf()
}

func overlaySelf() (int, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil || strings.HasSuffix(exe, " (deleted)") {
		return -1, fmt.Errorf("own executable path %q unusable for overlay", exe)
	}
	fd, err := SealedFile(exe)
	if err != nil {
		return -1, err
	}
	// It must be the same file as the one running.
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Stat("/proc/self/exe", &b) != nil || a.Size != b.Size || a.Mode != b.Mode {
		unix.Close(fd)
		return -1, fmt.Errorf("overlay copy of %s differs", exe)
	}
	return fd, nil
}

// SealedFile opens the file at exe (absolute) through a private, detached,
// read-only overlayfs of its directory, and returns an O_PATH descriptor
// nobody can write through.
func SealedFile(exe string) (int, error) {
	if !filepath.IsAbs(exe) || strings.ContainsAny(exe, ":,\\") {
		return -1, fmt.Errorf("path %q unusable for overlay", exe)
	}
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fsfd)
	// overlayfs wants two layers without an upper one: the second is an
	// empty detached tmpfs.
	empty, err := emptyMount()
	if err != nil {
		return -1, err
	}
	defer unix.Close(empty)
	lower := filepath.Dir(exe) + ":/proc/self/fd/" + strconv.Itoa(empty)
	if err := unix.FsconfigSetString(fsfd, "lowerdir", lower); err != nil {
		return -1, err
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, err
	}
	mnt, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return -1, err
	}
	defer unix.Close(mnt)
	return unix.Openat(mnt, filepath.Base(exe), unix.O_PATH|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
}

func emptyMount() (int, error) {
	fd, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	if err := unix.FsconfigSetString(fd, "size", "4k"); err != nil {
		return -1, err
	}
	if err := unix.FsconfigCreate(fd); err != nil {
		return -1, err
	}
	return unix.Fsmount(fd, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC|unix.MOUNT_ATTR_NOSUID)
}

// SealedBytes returns a close-on-exec descriptor of a sealed memfd that
// holds b: an executable no one can modify.
func SealedBytes(name string, b []byte) (int, error) {
	return sealedMemfd(name, func(f *os.File) error {
		_, err := f.Write(b)
		return err
	})
}

// memfdSelf copies the executable into a sealed memfd.
func memfdSelf() (int, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return -1, fmt.Errorf("open own executable: %w", err)
	}
	defer src.Close()
	return sealedMemfd("rt", func(f *os.File) error {
		_, err := io.Copy(f, src) // copy_file_range/sendfile under the hood
		return err
	})
}

// sealedMemfd makes a memfd, lets fill write it, seals it against any
// change and returns a close-on-exec descriptor of it.
func sealedMemfd(name string, fill func(*os.File) error) (int, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|mfdExec)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return -1, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if err := fill(f); err != nil {
		return -1, fmt.Errorf("write %s: %w", name, err)
	}
	// Executable, not readable: a process that execs a file it can't
	// read is non-dumpable from its first instruction (see rawSpawn),
	// where an exec otherwise makes it dumpable until it says otherwise.
	// The seals don't cover the mode.
	if err := unix.Fchmod(fd, execOnlyMode); err != nil {
		return -1, fmt.Errorf("chmod %s: %w", name, err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return -1, fmt.Errorf("seal %s: %w", name, err)
	}
	// A descriptor of our own, which f's Close does not take away.
	return unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 3)
}
