package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Regression tests for the fixes of the first security review
// (docs/security.md).

// TestInitNotDumpable: a root process without CAP_SYS_PTRACE whose
// capabilities cover the init's must not be able to ptrace the waiting
// init (it holds rt's privileges on its other threads): the init is
// non-dumpable until it execs the workload, which then is traceable as
// usual (the probe's own check).
func TestInitNotDumpable(t *testing.T) {
	t.Parallel()
	h := newH(t)
	id, pid := h.Create(h.Bundle(args("sleep", "1000")))
	if out := ptraceProbe(t, pid); out != "denied" {
		t.Errorf("ptrace of the waiting init without CAP_SYS_PTRACE: %q, want denied", out)
	}
	h.MustRT("start", id)
	if !waitFor(5*time.Second, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return strings.TrimSpace(string(b)) == "sleep"
	}) {
		t.Fatal("workload did not start")
	}
	if out := ptraceProbe(t, pid); out != "ok" {
		t.Errorf("ptrace of the workload without CAP_SYS_PTRACE: %q, want ok (probe broken?)", out)
	}
}

// ptraceProbe tries PTRACE_SEIZE (then detaches) from a thread that
// dropped CAP_SYS_PTRACE, all else kept: "ok" or "denied".
func ptraceProbe(t *testing.T, pid int) string {
	res := make(chan string, 1)
	go func() {
		// This thread dies with its changed credentials: never unlocked.
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			res <- "capget: " + err.Error()
			return
		}
		bit := uint32(1) << (unix.CAP_SYS_PTRACE % 32)
		data[unix.CAP_SYS_PTRACE/32].Effective &^= bit
		data[unix.CAP_SYS_PTRACE/32].Permitted &^= bit
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			res <- "capset: " + err.Error()
			return
		}
		if err := unix.PtraceSeize(pid); err != nil {
			res <- "denied"
			return
		}
		unix.PtraceDetach(pid)
		res <- "ok"
	}()
	return <-res
}

// TestPreserveFdsMustBeOpen: --preserve-fds N with a descriptor in 3..2+N
// not passed by the caller is refused (rt's own log file would otherwise
// take the slot and leak into the container).
func TestPreserveFdsMustBeOpen(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`ls /proc/self/fd`))
	log := filepath.Join(h.Dir, "log.json")
	id := h.ID("pfd")
	r := h.RT("--log", log, "run", "--preserve-fds", "1", "--bundle", b.Dir, id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "--preserve-fds 1: descriptor 3 is not open") {
		t.Errorf("run --preserve-fds 1 without fd 3: %v, want a refusal", r)
	}
	r = h.RT("run", "--preserve-fds", "-1", "--bundle", b.Dir, h.ID("pfd"))
	if r.Code == 0 || !strings.Contains(r.Stderr, "--preserve-fds -1") {
		t.Errorf("run --preserve-fds -1: %v, want a refusal", r)
	}
}

// TestPasswdNotRegularFile: HOME comes from the image's /etc/passwd, which
// the image may make a FIFO or a link to /dev/zero: create must neither
// hang nor eat memory.
func TestPasswdNotRegularFile(t *testing.T) {
	t.Parallel()
	h := newH(t)
	for _, kind := range []string{"fifo", "zero"} {
		b := h.Bundle(sh(`echo HOME=$HOME`), func(s *specs.Spec) {
			var env []string
			for _, e := range s.Process.Env {
				if !strings.HasPrefix(e, "HOME=") {
					env = append(env, e)
				}
			}
			s.Process.Env = env
		})
		p := filepath.Join(b.Rootfs, "etc", "passwd")
		os.Remove(p)
		if kind == "fifo" {
			syscall.Mkfifo(p, 0o644)
		} else {
			os.Symlink("/dev/zero", p)
		}
		r := h.Run(b, RunOpts{Timeout: 20 * time.Second})
		if r.Code != 0 || r.Stdout != "HOME=/\n" {
			t.Errorf("/etc/passwd as %s: %v, want HOME=/", kind, r)
		}
	}
}

// TestOOMScoreAdjFromHost: the value is set by the host side through its
// own /proc, even when the container has no /proc at all.
func TestOOMScoreAdjFromHost(t *testing.T) {
	t.Parallel()
	h := newH(t)
	v := 500
	b := h.Bundle(args("true"), func(s *specs.Spec) {
		s.Process.OOMScoreAdj = &v
		var ms []specs.Mount
		for _, m := range s.Mounts {
			if m.Destination != "/proc" {
				ms = append(ms, m)
			}
		}
		s.Mounts = ms
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	})
	_, pid := h.Create(b)
	got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid))
	if strings.TrimSpace(string(got)) != "500" {
		t.Errorf("oom_score_adj of the init = %q, want 500", got)
	}
}

// TestMasksWithoutContainerProc: masked and read-only paths are mounted
// before pivot_root through the host's /proc, so they hold even when the
// container has no /proc (or one the image controls).
func TestMasksWithoutContainerProc(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`ls /etc/secretdir | wc -l; cat /etc/secretfile | wc -c; touch /etc/rodir/x 2>/dev/null && echo WRITABLE || echo readonly`), writable, func(s *specs.Spec) {
		var ms []specs.Mount
		for _, m := range s.Mounts {
			if m.Destination != "/proc" {
				ms = append(ms, m)
			}
		}
		s.Mounts = ms
		s.Linux.MaskedPaths = []string{"/etc/secretdir", "/etc/secretfile"}
		s.Linux.ReadonlyPaths = []string{"/etc/rodir"}
	})
	os.MkdirAll(b.Rootfs+"/etc/secretdir", 0o755)
	os.WriteFile(b.Rootfs+"/etc/secretdir/a", []byte("x"), 0o644)
	os.WriteFile(b.Rootfs+"/etc/secretfile", []byte("secret"), 0o644)
	os.MkdirAll(b.Rootfs+"/etc/rodir", 0o755)
	r := h.Run(b, RunOpts{})
	f := strings.Fields(r.Stdout)
	if r.Code != 0 || len(f) != 3 || f[0] != "0" || f[1] != "0" || f[2] != "readonly" {
		t.Errorf("masks without /proc in the container: %v, want 0 entries, 0 bytes, readonly", r)
	}
}
