package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestMemHogHelper is the child process of TestHostOOMStatsUpdate: after a
// line on stdin it touches 256 MiB.
func TestMemHogHelper(t *testing.T) {
	if os.Getenv("RT_MEMHOG") != "1" {
		t.Skip("the child process of TestHostOOMStatsUpdate")
	}
	var line [1]byte
	os.Stdin.Read(line[:])
	b := make([]byte, 256<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	fmt.Println("survived", len(b))
	os.Exit(0)
}

// TestHostOOMStatsUpdate runs on a real host, v1 or v2 (the cgroup-v2 VM):
// Update changes live limits, GetStats reads them and the process counts,
// NotifyOOM sees the OOM killer act on a process over its memory limit,
// and reports the cgroup gone after Destroy. It creates and removes
// /rt-test-<random>.
func TestHostOOMStatsUpdate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	h, err := detect(procMountinfo, procCgroup)
	if err != nil {
		t.Skip(err)
	}
	if !h.unified {
		for _, c := range []string{"memory", "pids"} {
			if _, ok := h.v1[c]; !ok {
				t.Skipf("v1 %s not mounted", c)
			}
		}
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "rt-test-" + hex.EncodeToString(rnd[:])
	limit := int64(32 << 20)
	m, err := New(Config{Path: "/" + name, ID: name, Resources: &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Swap: ptr(int64(64 << 20))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	destroyed := false
	var cmd *exec.Cmd
	t.Cleanup(func() {
		if cmd != nil && cmd.ProcessState == nil {
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL) // our own child, by PID
			cmd.Wait()
		}
		if !destroyed {
			if err := m.Destroy(); err != nil {
				t.Errorf("Destroy: %v", err)
			}
		}
		if m.Exists() {
			t.Errorf("left behind: %v", m.Paths())
		}
	})
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	// Lower the limit the way rt update does, with pids too.
	if err := Update(m, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit, Swap: &limit},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(64))},
	}); err != nil {
		t.Fatal(err)
	}

	cmd = exec.Command(os.Args[0], "-test.run=^TestMemHogHelper$")
	cmd.Env = append(os.Environ(), "RT_MEMHOG=1", "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	s, err := GetStats(m)
	if err != nil {
		t.Fatal(err)
	}
	if s.Memory.Usage.Limit != uint64(limit) || s.Pids.Limit != 64 || s.Pids.Current < 1 {
		t.Errorf("stats before: memory %+v, pids %+v", s.Memory.Usage, s.Pids)
	}

	n, err := NotifyOOM(m)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	stdin.Write([]byte("go\n"))
	sawOOM := false
	deadline := time.Now().Add(60 * time.Second)
	for !sawOOM && time.Now().Before(deadline) {
		fds := []unix.PollFd{{Fd: int32(n.Fd()), Events: unix.POLLIN}}
		unix.Poll(fds, 1000)
		oom, gone, err := n.Check()
		if err != nil || gone {
			t.Fatalf("Check: gone %v, %v", gone, err)
		}
		sawOOM = oom
	}
	if !sawOOM {
		t.Fatal("no OOM notification in 60s")
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("the memory hog: %v, want killed by SIGKILL", err)
	}
	if s, err = GetStats(m); err != nil {
		t.Fatal(err)
	}
	// The peak reached the limit. (failcnt is not checked: v1 on
	// kernel 6.18 left memory.failcnt at 0 through an OOM kill.)
	if s.Memory.Usage.Max < uint64(limit)*9/10 {
		t.Errorf("stats after the OOM kill: peak below the limit: memory %+v", s.Memory.Usage)
	}
	t.Logf("after the OOM kill: memory %+v, pids %+v, cpu %+v", s.Memory.Usage, s.Pids, s.CPU.Usage)

	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	destroyed = true
	gone := false
	for i := 0; i < 50 && !gone; i++ {
		fds := []unix.PollFd{{Fd: int32(n.Fd()), Events: unix.POLLIN}}
		unix.Poll(fds, 100)
		_, gone, _ = n.Check()
	}
	if !gone {
		t.Error("the notifier did not report the removed cgroup gone")
	}
}
