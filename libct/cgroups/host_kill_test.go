package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestHostKill runs on a real host, v1 or v2 (the cgroup-v2 VM, where it
// goes through cgroup.kill): Kill ends every process of the cgroup, also
// those in a sub-cgroup. It creates and removes /rt-test-<random>.
func TestHostKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "rt-test-" + hex.EncodeToString(rnd[:])
	m, err := New(Config{Path: "/" + name, ID: name})
	if err != nil {
		t.Skip(err)
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	t.Cleanup(func() {
		for _, c := range cmds {
			if c.ProcessState == nil {
				syscall.Kill(c.Process.Pid, syscall.SIGKILL) // our own children, by PID
				c.Wait()
			}
		}
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		if m.Exists() {
			t.Errorf("left behind: %v", m.Paths())
		}
	})
	for i := 0; i < 2; i++ {
		c := exec.Command("sleep", "300")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
		if err := m.Apply(c.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	// The second one in a sub-cgroup (v1: of the freezer hierarchy, which
	// Pids reads).
	dir := m.Paths()[""]
	if !Unified(m) {
		dir = m.Paths()["freezer"]
	}
	if dir == "" {
		t.Skip("no freezer hierarchy")
	}
	if err := os.Mkdir(dir+"/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(dir+"/sub", "cgroup.procs", strconv.Itoa(cmds[1].Process.Pid)); err != nil {
		t.Fatal(err)
	}
	if err := Kill(m); err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Errorf("pid %d: %v, want killed by SIGKILL", c.Process.Pid, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("pid %d still alive 10s after Kill", c.Process.Pid)
		}
	}
	if pids, err := m.Pids(); err != nil || len(pids) != 0 {
		t.Errorf("Pids after Kill: %v, %v", pids, err)
	}
}
