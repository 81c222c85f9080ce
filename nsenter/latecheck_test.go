package nsenter

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cgroup2Root returns a cgroup v2 mount to make a test cgroup in: the
// unified hierarchy of a hybrid host or the v2-only /sys/fs/cgroup.
func cgroup2Root(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"/sys/fs/cgroup/unified", "/sys/fs/cgroup"} {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return d
		}
	}
	t.Skip("no cgroup v2 mount")
	return ""
}

// An `rt exec`-shaped spawn (CloseInChild, LateExecCheck, no namespace to
// join: a container that shares every namespace with rt) whose child
// cannot reach its exec (here: born into a frozen cgroup v2 with
// CLONE_INTO_CGROUP; a SIGSTOP from the container does the same) must
// still return right after the clone, as LateExecCheck promises: the
// caller (libct/exec.go) then releases the record lock and arms the
// 60 s watchdog that kills a process that has not exec'd
// (docs/security.md, "container stalls rt exec / delete").
//
// With CLONE_VM|CLONE_VFORK the calling thread sleeps in clone3 until the
// child execs or exits, so Spawn does not return at all, the lock stays
// held, no watchdog is armed, and because the goroutine is
// non-preemptible meanwhile (runtime_BeforeFork) the next GC
// stop-the-world stalls every other goroutine of the process too.
//
// A helper process thaws the cgroup after 2 s, so the test ends (and
// cleans up) even when Spawn blocks.
func TestSpawnLateExecCheckStoppedChild(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := filepath.Join(cgroup2Root(t), fmt.Sprintf("rt-vfork-review-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a test cgroup: %v", err)
	}
	defer os.Remove(dir)
	freeze := filepath.Join(dir, "cgroup.freeze")
	if err := os.WriteFile(freeze, []byte("1"), 0); err != nil {
		t.Skipf("no cgroup freezer: %v", err)
	}
	thaw := func() { os.WriteFile(freeze, []byte("0"), 0) }
	defer thaw()
	cgfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cgfd)
	exe, err := unix.Open("/bin/true", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(exe)
	lock, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lock)

	// The safety net: started before Spawn (which holds ForkLock while
	// it waits), outside this process (which may be stalled).
	// Its own process group: the cleanup ends the shell and its sleep.
	helper := exec.Command("/bin/sh", "-c", "sleep 2; echo 0 > "+freeze)
	helper.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		unix.Kill(-helper.Process.Pid, unix.SIGKILL)
		helper.Wait()
	}()

	// How long a collection takes while the child is frozen.
	gcTook := make(chan time.Duration, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		s := time.Now()
		runtime.GC()
		gcTook <- time.Since(s)
	}()

	start := time.Now()
	p, err := Spawn(&Attr{ExeFd: exe, Argv: []string{"true"}, CgroupFd: cgfd,
		LateExecCheck: true, CloseInChild: []int{lock}})
	took := time.Since(start)
	thaw()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitExec(); err != nil {
		t.Errorf("exec after the thaw: %v", err)
	}
	var ws unix.WaitStatus
	unix.Wait4(p.Pid, &ws, 0, nil)
	if p.Pidfd >= 0 {
		unix.Close(p.Pidfd)
	}
	gc := <-gcTook
	if took > time.Second {
		t.Errorf("Spawn with LateExecCheck returned after %v, only once the frozen child was thawed "+
			"(a runtime.GC meanwhile took %v): a child stopped before its exec blocks the caller, "+
			"which keeps rt exec's record lock and never arms its watchdog", took.Round(time.Millisecond), gc.Round(time.Millisecond))
	}
}
