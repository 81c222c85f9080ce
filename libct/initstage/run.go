package initstage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/console"
	"github.com/rt-oci/rt/libct/hooks"
	"github.com/rt-oci/rt/libct/proto"
	"github.com/rt-oci/rt/libct/rootfs"
	"github.com/rt-oci/rt/libct/security"
	"github.com/rt-oci/rt/spec"
)

func run(conn *proto.Conn, b *proto.Bootstrap, fds []int) error {
	s := &specs.Spec{}
	if err := json.Unmarshal(b.Config, s); err != nil {
		return fmt.Errorf("init: bootstrap config: %w", err)
	}
	if s.Process == nil {
		return errors.New("init: bootstrap without a process")
	}
	if b.Mode != "create" || len(fds) < 1 {
		return fmt.Errorf("init: unsupported bootstrap mode %q", b.Mode)
	}
	fifo := fds[0]
	p := s.Process

	if b.UnshareCgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("linux.namespaces: cgroup namespace: %w", err)
		}
	}
	var hookState []byte
	beforePivot := func() error {
		var err error
		hookState, err = createHooks(conn, s)
		return err
	}
	newMount, joinedMount := mountNS(s)
	switch {
	case joinedMount:
		// The container lives in an existing mount namespace (another
		// container's): its filesystem is used as it is, like crun does;
		// nothing is mounted or pivoted there.
		if err := beforePivot(); err != nil {
			return err
		}
	case newMount:
		if err := rootfs.Setup(&rootfs.Config{
			Spec: s, Rootfs: b.Rootfs, Bundle: b.Bundle, NoPivot: b.NoPivot,
			CgroupPaths: b.CgroupPaths, CgroupV2: b.CgroupV2, BeforePivot: beforePivot,
		}); err != nil {
			return err
		}
	default:
		// Without a mount namespace nothing may be mounted (the host's
		// namespace); Validate refused every field that would need it.
		if err := beforePivot(); err != nil {
			return err
		}
		if err := rootfs.Chroot(b.Rootfs); err != nil {
			return err
		}
	}
	if !newMount && s.Linux != nil {
		// With its own mount namespace, rootfs.Setup did them.
		if err := rootfs.SetSysctls(s.Linux.Sysctl); err != nil {
			return err
		}
	}
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("hostname: %w", err)
		}
	}
	if s.Domainname != "" {
		if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return fmt.Errorf("domainname: %w", err)
		}
	}
	if b.Console {
		if len(fds) < 2 {
			return errors.New("init: console socket missing")
		}
		if err := console.Setup(fds[1], p.ConsoleSize, newMount); err != nil {
			return err
		}
		unix.Close(fds[1])
	}
	if newMount {
		if err := rootfs.Finish(s); err != nil {
			return err
		}
	}
	if err := setRlimits(p.Rlimits); err != nil {
		return err
	}
	if err := chdir(p.Cwd); err != nil {
		return err
	}
	env := withHome(p.Env, p.User.UID)
	path, err := lookPath(p.Args[0], env)
	if err != nil {
		return err
	}
	caps, err := security.ResolveCaps(p.Capabilities)
	if err != nil {
		return err
	}
	if caps != nil {
		if err := caps.DropBounding(); err != nil {
			return err
		}
	}
	if err := setUser(p.User, caps != nil); err != nil {
		return err
	}
	if caps != nil {
		if err := caps.Apply(); err != nil {
			return err
		}
	}
	if p.NoNewPrivileges {
		if err := security.NoNewPrivs(); err != nil {
			return err
		}
	}
	// Every descriptor but stdio and --preserve-fds closes at exec
	// (CVE-2024-21626).
	if err := unix.CloseRange(uint(3+b.PreserveFds), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("close descriptors: %w", err)
	}
	if err := conn.Send(proto.Msg{Type: proto.TypeReady}); err != nil {
		return err
	}
	if err := waitStart(fifo); err != nil {
		return err
	}
	if s.Hooks != nil && len(s.Hooks.StartContainer) > 0 {
		if err := hooks.Run("startContainer", s.Hooks.StartContainer, hookState); err != nil {
			return err
		}
	}
	conn.Close()
	err = unix.Exec(path, p.Args, env)
	// Nobody listens on the socket any more: the caller's stderr is the
	// only place left to say why.
	fmt.Fprintf(os.Stderr, "rt: process.args: exec %s: %v\n", path, err)
	os.Exit(127)
	return nil
}

// createHooks asks the host to run the prestart and createRuntime hooks,
// then runs createContainer here, in the container's namespaces before
// pivot_root. It returns the state JSON the host sent, for startContainer.
func createHooks(conn *proto.Conn, s *specs.Spec) ([]byte, error) {
	h := s.Hooks
	if h == nil || len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer)+len(h.StartContainer) == 0 {
		return nil, nil
	}
	if err := conn.Send(proto.Msg{Type: proto.TypeHooks}); err != nil {
		return nil, err
	}
	var m proto.Msg
	if _, err := conn.Recv(&m); err != nil {
		return nil, fmt.Errorf("init: waiting for hooks: %w", err)
	}
	if m.Type != proto.TypeHooksDone {
		return nil, fmt.Errorf("init: unexpected message %q", m.Type)
	}
	if m.Error != "" {
		return nil, errors.New(m.Error)
	}
	if err := hooks.Run("createContainer", h.CreateContainer, m.State); err != nil {
		return nil, err
	}
	return m.State, nil
}

// waitStart blocks until `rt start` writes a byte into the exec fifo.
func waitStart(fd int) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for start: %w", err)
		}
		var b [1]byte
		n, err := unix.Read(fd, b[:])
		if err == unix.EAGAIN || err == unix.EINTR || (err == nil && n == 0) {
			// A writer came and went without a byte: keep waiting.
			if n == 0 && err == nil {
				unix.Poll(fds, 10)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for start: %w", err)
		}
		unix.Close(fd)
		return nil
	}
}

// chdir enters process.cwd and checks the result is inside the container
// (a leaked host directory would show as "(unreachable)": CVE-2024-21626).
func chdir(cwd string) error {
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("process.cwd %q: %w", cwd, err)
	}
	wd, err := unix.Getwd()
	if err != nil || !strings.HasPrefix(wd, "/") {
		return fmt.Errorf("process.cwd %q: current directory is outside the container (%q)", cwd, wd)
	}
	return nil
}

func setUser(u specs.User, keepCaps bool) error {
	if keepCaps {
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("process.user: keep capabilities: %w", err)
		}
	}
	groups := make([]int, len(u.AdditionalGids))
	for i, g := range u.AdditionalGids {
		groups[i] = int(g)
	}
	// x/sys/unix calls act on this thread only, the one that execs.
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("process.user.additionalGids: %w", err)
	}
	if err := unix.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("process.user.gid %d: %w", u.GID, err)
	}
	if err := unix.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("process.user.uid %d: %w", u.UID, err)
	}
	if u.Umask != nil {
		unix.Umask(int(*u.Umask))
	} else {
		unix.Umask(0o022)
	}
	return nil
}

func setRlimits(rl []specs.POSIXRlimit) error {
	for i, r := range rl {
		t, ok := spec.RlimitType(r.Type)
		if !ok {
			return fmt.Errorf("process.rlimits[%d].type: unknown rlimit %q", i, r.Type)
		}
		lim := syscall.Rlimit{Cur: r.Soft, Max: r.Hard}
		// syscall.Setrlimit, not unix: it also tells the runtime not to
		// restore its own NOFILE limit at exec.
		if err := syscall.Setrlimit(t, &lim); err != nil {
			hint := ""
			if err == syscall.EPERM {
				hint = " (raising a hard limit above rt's own needs CAP_SYS_RESOURCE)"
			}
			return fmt.Errorf("process.rlimits[%d] %s soft %d hard %d: %w%s", i, r.Type, r.Soft, r.Hard, err, hint)
		}
	}
	return nil
}

// withHome adds HOME from the container's /etc/passwd (or "/") when
// process.env has none, as runc does.
func withHome(env []string, uid uint32) []string {
	for _, e := range env {
		if strings.HasPrefix(e, "HOME=") {
			return env
		}
	}
	home := "/"
	if b, err := readSmallFile("/etc/passwd", 1<<20); err == nil {
		want := strconv.FormatUint(uint64(uid), 10)
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 6 && f[2] == want && f[5] != "" {
				home = f[5]
				break
			}
		}
	}
	return append(append([]string(nil), env...), "HOME="+home)
}

// readSmallFile reads a regular file of the container's, at most max
// bytes: the image may have put a FIFO, a device or /dev/zero there.
func readSmallFile(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return io.ReadAll(io.LimitReader(f, max))
}

// lookPath finds the program like execvp would, with the container's PATH.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := checkExec(name); err != nil {
			return "", fmt.Errorf("process.args[0] %q: %w", name, err)
		}
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			path = e[5:]
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if checkExec(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("process.args[0] %q: executable file not found in $PATH", name)
}

func checkExec(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return errors.New("is a directory")
	}
	if st.Mode()&0o111 == 0 {
		return errors.New("permission denied")
	}
	return nil
}

// mountNS tells whether the container gets a new mount namespace or
// joins an existing one.
func mountNS(s *specs.Spec) (created, joined bool) {
	if s.Linux == nil {
		return false, false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.MountNamespace {
			return ns.Path == "", ns.Path != ""
		}
	}
	return false, false
}
