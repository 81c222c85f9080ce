package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultProfile is the Docker-like default profile of ../shared/perf.
func defaultProfile(t *testing.T) *specs.LinuxSeccomp {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(), "perf", "seccomp-default.json"))
	if err != nil {
		t.Skipf("Docker-like profile: %v", err)
	}
	sc := &specs.LinuxSeccomp{}
	if err := json.Unmarshal(b, sc); err != nil {
		t.Fatalf("seccomp-default.json: %v", err)
	}
	return sc
}

func withSeccomp(sc *specs.LinuxSeccomp) func(*specs.Spec) {
	return func(s *specs.Spec) { s.Linux.Seccomp = sc }
}

func rule(action specs.LinuxSeccompAction, names ...string) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: names, Action: action}
}

func errnoRet(n uint) *uint { return &n }

// TestSeccompDefaultProfile: with the Docker-like profile, with and
// without no_new_privs, the container runs in seccomp mode 2, ordinary
// work succeeds and the denied calls fail with EPERM; exec'd processes get
// the same filter.
func TestSeccompDefaultProfile(t *testing.T) {
	t.Parallel()
	for _, nnp := range []bool{true, false} {
		t.Run(fmt.Sprintf("noNewPrivileges=%v", nnp), func(t *testing.T) {
			t.Parallel()
			h := newH(t)
			script := `grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; echo hi > /tmp/f && cat /tmp/f;
				unshare -U true 2>&1; mount -t tmpfs t /mnt 2>&1; grep CapEff /proc/self/status`
			out := h.MustSh(script, writable, withSeccomp(defaultProfile(t)), func(s *specs.Spec) { s.Process.NoNewPrivileges = nnp })
			want := []string{"Seccomp:\t2", "hi", "unshare(0x10000000): Operation not permitted", "mount: permission denied"}
			if nnp {
				want = append(want, "NoNewPrivs:\t1")
			} else {
				want = append(want, "NoNewPrivs:\t0")
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// The capabilities are the configured ones, not the ones held
			// to load the filter.
			if !strings.Contains(out, "CapEff:\t0000000020000420") {
				t.Errorf("effective capabilities are not rt spec's defaults (CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE):\n%s", out)
			}
			id, _ := h.StartDetached(h.Bundle(sleeper, withSeccomp(defaultProfile(t)), func(s *specs.Spec) { s.Process.NoNewPrivileges = nnp }))
			out = h.MustRT("exec", id, "sh", "-c", "grep '^Seccomp:' /proc/self/status; unshare -U true 2>&1; true").Stdout
			if !strings.Contains(out, "Seccomp:\t2") || !strings.Contains(out, "Operation not permitted") {
				t.Errorf("exec'd process is not filtered:\n%s", out)
			}
		})
	}
}

// TestSeccompActions: errno with errnoRet and defaultErrnoRet, argument
// conditions, KILL_PROCESS, a non-root user without no_new_privs, and
// unknown syscall names skipped with a warning.
func TestSeccompActions(t *testing.T) {
	t.Parallel()
	h := newH(t)
	// chmod(2) and fchmodat(2) with mode 0777 are denied with EACCES;
	// other modes pass. mkdir is denied with defaultErrnoRet... through
	// an explicit ERRNO rule without errnoRet (EPERM, as runc).
	sc := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"chmod"}, Action: specs.ActErrno, ErrnoRet: errnoRet(13),
				Args: []specs.LinuxSeccompArg{{Index: 1, Value: 0o777, Op: specs.OpEqualTo}}},
			{Names: []string{"fchmodat", "fchmodat2"}, Action: specs.ActErrno, ErrnoRet: errnoRet(13),
				Args: []specs.LinuxSeccompArg{{Index: 2, Value: 0o777, Op: specs.OpEqualTo}}},
			rule(specs.ActErrno, "mkdir", "mkdirat"),
			rule(specs.ActKillProcess, "sethostname"),
			rule(specs.ActErrno, "no_such_syscall_rt_test"),
		},
	}
	b := h.Bundle(writable, withSeccomp(sc), sh(`touch /tmp/f; chmod 755 /tmp/f && echo chmod755-ok; chmod 777 /tmp/f 2>&1;
		mkdir /tmp/d 2>&1; hostname x; echo hostname=$?`), func(s *specs.Spec) {
		s.Process.NoNewPrivileges = false
		s.Process.User = specs.User{UID: 1000, GID: 1000}
	})
	r := h.Run(b, RunOpts{})
	for _, w := range []string{"chmod755-ok", "chmod: /tmp/f: Permission denied", "mkdir: can't create directory '/tmp/d': Operation not permitted"} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("output lacks %q: %v", w, r)
		}
	}
	if want := fmt.Sprintf("hostname=%d", 128+int(unix.SIGSYS)); !strings.Contains(r.Stdout, want) {
		t.Errorf("sethostname under KILL_PROCESS: want hostname killed by SIGSYS (%s): %v", want, r)
	}
	if !strings.Contains(r.Stderr, "no_such_syscall_rt_test") {
		t.Errorf("no warning about the unknown syscall name: %v", r)
	}
	// defaultErrnoRet: everything not allowed fails with that errno.
	def := defaultProfile(t)
	def.DefaultErrnoRet = errnoRet(38) // ENOSYS
	for i := range def.Syscalls {
		// Take mkdir* out of the allowed list so the default applies.
		var names []string
		for _, n := range def.Syscalls[i].Names {
			if !strings.HasPrefix(n, "mkdir") {
				names = append(names, n)
			}
		}
		def.Syscalls[i].Names = names
	}
	out := h.MustSh(`mkdir /tmp/d 2>&1; true`, writable, withSeccomp(def))
	if !strings.Contains(out, "Function not implemented") {
		t.Errorf("defaultErrnoRet 38: %q", out)
	}
}

// TestSeccompBadProfile: a profile the compiler refuses fails create with
// the field named and leaves nothing behind.
func TestSeccompBadProfile(t *testing.T) {
	t.Parallel()
	h := newH(t)
	for name, sc := range map[string]*specs.LinuxSeccomp{
		"linux.seccomp.defaultAction":       {DefaultAction: "SCMP_ACT_BOGUS"},
		"linux.seccomp.syscalls[0].action":  {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{rule("SCMP_ACT_NOPE", "mkdir")}},
		"linux.seccomp.architectures[0]":    {DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_VAX"}},
		"linux.seccomp.syscalls[0].args[0]": {DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 9, Op: specs.OpEqualTo}}}}},
	} {
		b := h.Bundle(withSeccomp(sc))
		id := h.ID("badsc")
		r := h.RT("create", "--bundle", b.Dir, id)
		if r.Code == 0 || !strings.Contains(r.Stderr, name) {
			t.Errorf("%s: %v", name, r)
		}
		if fileExists(filepath.Join(h.Root, id)) || len(cgroupDirs(b.Cgroup)) > 0 {
			t.Errorf("%s: state or cgroup left after a refused create", name)
		}
	}
}

// TestSeccompCache: compiled profiles are cached under the state root by
// profile hash; a damaged cache file is compiled again.
func TestSeccompCache(t *testing.T) {
	t.Parallel()
	h := newH(t)
	h.MustSh("true", withSeccomp(defaultProfile(t)))
	files, _ := filepath.Glob(filepath.Join(h.Root, "@rt-seccomp", "*"))
	if len(files) != 1 {
		t.Fatalf("cache files after one run: %v", files)
	}
	if err := os.WriteFile(files[0], []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := h.MustSh("grep '^Seccomp:' /proc/self/status", withSeccomp(defaultProfile(t)))
	if out != "Seccomp:\t2\n" {
		t.Errorf("after a damaged cache file: %q", out)
	}
	if b, _ := os.ReadFile(files[0]); strings.HasPrefix(string(b), "{garbage") {
		t.Errorf("damaged cache file not rewritten")
	}
}

// seccompNotif and seccompNotifResp are struct seccomp_notif and
// seccomp_notif_resp.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// TestSeccompNotify: SCMP_ACT_NOTIFY rules; the listener reaches the
// agent at linux.seccomp.listenerPath with the container process state
// and listenerMetadata; the agent's answer is what the container sees.
func TestSeccompNotify(t *testing.T) {
	t.Parallel()
	h := newH(t)
	sock := filepath.Join(h.Dir, "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	type got struct {
		state specs.ContainerProcessState
		err   error
	}
	agent := make(chan got, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			agent <- got{err: err}
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			agent <- got{err: err}
			return
		}
		var g got
		g.err = json.Unmarshal(buf[:n], &g.state)
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) != 1 {
			agent <- got{err: fmt.Errorf("no descriptor with the state")}
			return
		}
		fds, _ := unix.ParseUnixRights(&msgs[0])
		listener := fds[0]
		defer unix.Close(listener)
		agent <- g
		// Answer every mkdir with errno 42 (ENOMSG).
		for {
			var req seccompNotif
			if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
				return // the container is gone
			}
			resp := seccompNotifResp{ID: req.ID, Error: -42}
			unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
		}
	}()
	sc := &specs.LinuxSeccomp{
		DefaultAction:    specs.ActAllow,
		ListenerPath:     sock,
		ListenerMetadata: "rt-test-metadata",
		Syscalls:         []specs.LinuxSyscall{rule(specs.ActNotify, "mkdir", "mkdirat")},
	}
	b := h.Bundle(writable, withSeccomp(sc), sh(`mkdir /tmp/d 2>/tmp/out; true`))
	id, pid := h.Create(b)
	var g got
	select {
	case g = <-agent:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent got nothing")
	}
	if g.err != nil {
		t.Fatalf("agent: %v", g.err)
	}
	if g.state.Metadata != "rt-test-metadata" || g.state.Pid != pid || g.state.State.ID != id ||
		len(g.state.Fds) != 1 || g.state.Fds[0] != specs.SeccompFdName {
		t.Errorf("container process state: %+v (init pid %d)", g.state, pid)
	}
	h.MustRT("start", id)
	h.WaitStatus(id, specs.StateStopped)
	out, _ := os.ReadFile(filepath.Join(b.Rootfs, "tmp", "out"))
	if !strings.Contains(string(out), "No message of desired type") {
		t.Errorf("mkdir under the agent's ENOMSG answer: %q", out)
	}
}
