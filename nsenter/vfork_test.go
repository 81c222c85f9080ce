package nsenter

import (
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// The vfork child runs on the caller's stack while the rest of the process
// goes on: spawn (and fail to exec) many times while other goroutines
// allocate and collect, and check every result and that the caller is
// still sound.
func TestSpawnVforkUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	exe, err := unix.Open("/bin/true", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(exe)
	dir, _ := unix.Open("/", unix.O_PATH|unix.O_CLOEXEC, 0)
	defer unix.Close(dir)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var keep [][]byte
			for n := 0; !stop.Load(); n++ {
				keep = append(keep, make([]byte, 1<<(n%14)))
				if len(keep) > 512 {
					keep = nil
					runtime.GC()
				}
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	for i := 0; i < 150; i++ {
		if i%3 == 2 {
			if _, err := Spawn(&Attr{ExeFd: dir, Argv: []string{"x"}, CgroupFd: -1}); err == nil || !strings.Contains(err.Error(), "execveat") {
				t.Fatalf("round %d: want an execveat error, got %v", i, err)
			}
			continue
		}
		p, err := Spawn(&Attr{ExeFd: exe, Argv: []string{"true"}, CgroupFd: -1, Clone: unix.CLONE_NEWUTS})
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		var ws unix.WaitStatus
		if _, err := unix.Wait4(p.Pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 {
			t.Fatalf("round %d: wait: %v %v", i, ws, err)
		}
		if p.Pidfd >= 0 {
			unix.Close(p.Pidfd)
		}
	}
}

// Dumpability belongs to the memory a vfork child shares: spawning must
// leave the caller's as it was.
func TestSpawnKeepsCallerDumpable(t *testing.T) {
	before, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, ws := spawnSh(t, &Attr{CgroupFd: -1, Clone: unix.CLONE_NEWPID}, "echo ok")
	if ws.ExitStatus() != 0 || out != "ok" {
		t.Fatalf("child: %v %q", ws, out)
	}
	after, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if after != before {
		t.Fatalf("caller dumpable %d after Spawn, was %d", after, before)
	}
}

// Older kernels refuse a child that shares memory in a time namespace made
// for children (6.18 allows it): with NoSharedMemory Spawn forks, and the
// child is in the new namespace.
func TestSpawnPendingTimeNamespace(t *testing.T) {
	if unix.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Readlink("/proc/self/ns/time"); err != nil {
		t.Skip("no time namespaces")
	}
	done := make(chan error, 1)
	var out string
	var ws unix.WaitStatus
	go func() {
		var err error
		// spawnSh's t.Fatal ends this goroutine (the test has failed then).
		defer func() { done <- err }()
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err = unix.Unshare(unix.CLONE_NEWTIME); err != nil {
			return
		}
		out, ws = spawnSh(t, &Attr{CgroupFd: -1, NoSharedMemory: true}, "readlink /proc/self/ns/time")
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	self, _ := os.Readlink("/proc/self/ns/time")
	if ws.ExitStatus() != 0 || out == "" || out == self {
		t.Fatalf("child: %v %q (caller %s)", ws, out, self)
	}
}
