package initstage

import (
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

	"github.com/rt-oci/rt/libct/seccomp"
	"github.com/rt-oci/rt/libct/security"
	"github.com/rt-oci/rt/spec"
)

// workload is the program the init becomes.
type workload struct {
	path string
	args []string
	env  []string
}

// becomeProcess applies the fields of process that the init takes on
// itself, in this order: rlimits, scheduler and I/O priority, cwd,
// environment, LSM labels, the capability bounding set, user and groups
// (keeping capabilities), no_new_privs, the descriptor sweep (every
// descriptor but stdio and the first preserveFds extra ones becomes
// close-on-exec: CVE-2024-21626),
// the seccomp filter, the other capability sets. It returns the program
// to exec, resolved with the container's PATH.
//
// Without no_new_privs, loading a seccomp filter needs CAP_SYS_ADMIN: the
// filter goes in while every permitted capability is still raised, and
// only then are the final sets applied (so the profile must allow
// capset, as every usable one does). listener receives the seccomp
// notify descriptor when the profile has SCMP_ACT_NOTIFY rules.
func becomeProcess(p *specs.Process, preserveFds int, filter *seccomp.Program, listener func(fd int) error) (*workload, error) {
	if err := setRlimits(p.Rlimits); err != nil {
		return nil, err
	}
	// process.scheduler, process.ioPriority: on this thread, while rt's
	// privileges hold and before seccomp (libct/initstage/sched.go).
	if err := applySchedIO(p); err != nil {
		return nil, err
	}
	if err := chdir(p.Cwd); err != nil {
		return nil, err
	}
	env := withHome(p.Env, p.User.UID)
	path, err := lookPath(p.Args[0], env)
	if err != nil {
		return nil, err
	}
	// The labels the exec takes on: set while rt's privileges still hold.
	if err := security.ApplyLSM(p); err != nil {
		return nil, err
	}
	// No process.capabilities means no capabilities (as runc).
	caps, err := security.ResolveCaps(p.Capabilities)
	if err != nil {
		return nil, err
	}
	if err := caps.DropBounding(); err != nil {
		return nil, err
	}
	// The user switch keeps the capabilities: the final sets (and, before
	// them, the seccomp filter) come last.
	if err := setUser(p.User, true); err != nil {
		return nil, err
	}
	if p.NoNewPrivileges {
		if err := security.NoNewPrivs(); err != nil {
			return nil, err
		}
	}
	if err := unix.CloseRange(uint(3+preserveFds), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return nil, fmt.Errorf("close descriptors: %w", err)
	}
	if filter != nil {
		if err := loadFilter(filter, p.NoNewPrivileges, listener); err != nil {
			return nil, err
		}
	}
	if err := caps.Apply(); err != nil {
		if filter != nil {
			err = fmt.Errorf("%w (after loading linux.seccomp: does the profile allow capset?)", err)
		}
		return nil, err
	}
	return &workload{path: path, args: p.Args, env: env}, nil
}

// loadFilter installs the seccomp filter on this thread (the one that
// execs) and hands a notify listener to listener.
func loadFilter(filter *seccomp.Program, nnp bool, listener func(fd int) error) error {
	if !nnp {
		if err := security.RaisePermitted(); err != nil {
			return fmt.Errorf("linux.seccomp: %w", err)
		}
	}
	fd, err := seccomp.Load(filter)
	if err != nil {
		if errors.Is(err, unix.EACCES) {
			err = fmt.Errorf("%w (without process.noNewPrivileges, loading a filter needs CAP_SYS_ADMIN)", err)
		}
		return err
	}
	if fd < 0 {
		return nil
	}
	defer unix.Close(fd)
	if listener == nil {
		return errors.New("linux.seccomp: SCMP_ACT_NOTIFY rules but nobody to pass the listener to")
	}
	return listener(fd)
}

// exec replaces the init with the workload. It returns only if that
// failed: the error goes to report (when set) and to stderr, and the init
// exits 127.
func (w *workload) exec(report func(error)) {
	err := unix.Exec(w.path, w.args, w.env)
	err = fmt.Errorf("process.args: exec %s: %w", w.path, err)
	if report != nil {
		report(err)
	}
	fmt.Fprintf(os.Stderr, "rt: %v\n", err)
	os.Exit(127)
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
	// All three act on this thread only, the one that execs, like the
	// capability sets, no_new_privs and seccomp (unix.Setresuid and
	// unix.Setresgid are syscall's, which stop the world to change every
	// thread: ~1 ms here, and no other thread survives the exec).
	if err := unix.Setgroups(groups); err != nil && !(len(groups) == 0 && setgroupsDenied()) {
		return fmt.Errorf("process.user.additionalGids: %w", err)
	}
	if err := setresgid(u.GID); err != nil {
		return fmt.Errorf("process.user.gid %d: %w", u.GID, err)
	}
	if err := setresuid(u.UID); err != nil {
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

// setgroupsDenied: a rootless rt that wrote gid_map itself denied
// setgroups(2) in the user namespace (docs/rootless.md); with no
// additionalGids there is nothing to set then.
func setgroupsDenied() bool {
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && strings.TrimSpace(string(b)) == "deny"
}
