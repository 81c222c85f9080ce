package console

import (
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Setup runs in the init after pivot_root: it makes the pty, sends its
// master over sock (a connected unix socket), and makes the peer the
// process's controlling terminal and stdio. /dev/console becomes the peer.
// ownDev tells whether /dev is the container's own (a new mount
// namespace): only then is /dev/console bound.
func Setup(sock int, size *specs.Box, ownDev bool) error {
	master, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process.terminal: open /dev/ptmx (a devpts mount at /dev/pts is needed): %w", err)
	}
	defer unix.Close(master)
	if err := unix.IoctlSetPointerInt(master, unix.TIOCSPTLCK, 0); err != nil {
		return fmt.Errorf("process.terminal: unlock pty: %w", err)
	}
	n, err := unix.IoctlGetUint32(master, unix.TIOCGPTN)
	if err != nil {
		return fmt.Errorf("process.terminal: pty number: %w", err)
	}
	// The peer through the master, never through /dev/pts/N, which the
	// container could have swapped (CVE-2025-52565).
	r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(master), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if e != 0 {
		return fmt.Errorf("process.terminal: TIOCGPTPEER: %w", e)
	}
	peer := int(r)
	defer unix.Close(peer)
	if size != nil && size.Height > 0 && size.Width > 0 {
		ws := &unix.Winsize{Row: uint16(size.Height), Col: uint16(size.Width)}
		if err := unix.IoctlSetWinsize(master, unix.TIOCSWINSZ, ws); err != nil {
			return fmt.Errorf("process.consoleSize: %w", err)
		}
	}
	if ownDev {
		if err := bindConsole(peer); err != nil {
			return err
		}
	}
	name := "/dev/pts/" + strconv.FormatUint(uint64(n), 10)
	if err := unix.Sendmsg(sock, []byte(name), unix.UnixRights(master), nil, 0); err != nil {
		return fmt.Errorf("--console-socket: send the pty master: %w", err)
	}
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("process.terminal: setsid: %w", err)
	}
	if err := unix.IoctlSetInt(peer, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("process.terminal: TIOCSCTTY: %w", err)
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(peer, fd, 0); err != nil {
			return fmt.Errorf("process.terminal: stdio: %w", err)
		}
	}
	return nil
}

// bindConsole bind-mounts the pty peer over /dev/console (made as an
// empty file if missing; a symlink there is refused).
func bindConsole(peer int) error {
	h, err := unix.Open("/dev/console", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		fd, cerr := unix.Open("/dev/console", unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if cerr != nil {
			return fmt.Errorf("process.terminal: create /dev/console: %w", cerr)
		}
		unix.Close(fd)
		h, err = unix.Open("/dev/console", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return fmt.Errorf("process.terminal: /dev/console: %w", err)
	}
	defer unix.Close(h)
	var st unix.Stat_t
	if err := unix.Fstat(h, &st); err != nil {
		return err
	}
	if m := st.Mode & unix.S_IFMT; m != unix.S_IFREG && m != unix.S_IFCHR {
		return fmt.Errorf("process.terminal: /dev/console is not a file or device; refusing to mount over it")
	}
	src := "/proc/thread-self/fd/" + strconv.Itoa(peer)
	dst := "/proc/thread-self/fd/" + strconv.Itoa(h)
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("process.terminal: bind the pty over /dev/console: %w", err)
	}
	return nil
}

// Receive reads the pty master a container init sent over sock.
func Receive(sock int) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("console socket: no descriptor received")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("console socket: no descriptor received")
	}
	return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
}

// Dial connects to a unix socket an engine listens on (--console-socket,
// --pidfd-socket).
func Dial(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("connect to %s: %w", path, err)
	}
	return fd, nil
}
