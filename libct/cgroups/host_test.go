package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestHostV1 runs against the real cgroup v1 hierarchies. It only creates
// (and removes) its own /rt-test-<random> cgroup in each hierarchy.
func TestHostV1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	h, err := detect(procMountinfo, procCgroup)
	if err != nil || h.unified {
		t.Skip("not a cgroup v1 host")
	}
	for _, c := range []string{"memory", "pids", "freezer"} {
		if _, ok := h.v1[c]; !ok {
			t.Skipf("v1 %s not mounted", c)
		}
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	name := "rt-test-" + hex.EncodeToString(rnd[:])
	res := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(16))},
		CPU:    &specs.LinuxCPU{Shares: ptr(uint64(512))},
	}
	m, err := New(Config{Path: "/" + name, ID: name, Resources: res})
	if err != nil {
		t.Fatal(err)
	}
	paths := m.Paths()
	for ctrl, dir := range paths {
		if filepath.Base(dir) != name || filepath.Dir(dir) != h.v1[ctrl].mountpoint {
			t.Fatalf("%s: unexpected path %s", ctrl, dir)
		}
	}
	if _, ok := paths[""]; ok {
		t.Fatal("joined the unified hierarchy on a v1 host")
	}

	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	destroyed := false
	t.Cleanup(func() {
		// Only this test's own child, by PID.
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = m.Thaw()
		_ = cmd.Wait()
		if !destroyed {
			if err := m.Destroy(); err != nil {
				t.Errorf("cleanup Destroy: %v", err)
			}
		}
		for _, dir := range paths {
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("left behind: %s", dir)
			}
		}
	})

	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(pid); err != nil {
		t.Fatal(err)
	}

	read := func(ctrl, file string) string {
		t.Helper()
		s, err := readFile(paths[ctrl], file)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := read("memory", "memory.limit_in_bytes"); got != strconv.Itoa(64<<20) {
		t.Errorf("memory.limit_in_bytes = %s", got)
	}
	if got := read("pids", "pids.max"); got != "16" {
		t.Errorf("pids.max = %s", got)
	}
	if _, ok := paths["cpu"]; ok {
		if got := read("cpu", "cpu.shares"); got != "512" {
			t.Errorf("cpu.shares = %s", got)
		}
	}
	if _, ok := paths["cpuset"]; ok && read("cpuset", "cpuset.cpus") == "" {
		t.Error("cpuset.cpus was not copied down")
	}

	// The kernel agrees the process is in every hierarchy.
	pc, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(pc)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if parts[1] == "" {
			continue // the unified hierarchy: not joined on purpose
		}
		if parts[2] != "/"+name {
			t.Errorf("/proc/%d/cgroup: %s", pid, line)
		}
	}
	if pids, err := m.Pids(); err != nil || !reflect.DeepEqual(pids, []int{pid}) {
		t.Errorf("Pids() = %v, %v; want [%d]", pids, err, pid)
	}

	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if got := read("freezer", "freezer.state"); got != "FROZEN" {
		t.Errorf("freezer.state = %s", got)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if got := read("freezer", "freezer.state"); got != "THAWED" {
		t.Errorf("freezer.state = %s", got)
	}

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// Destroy from a re-loaded manager, as a later rt delete would.
	l, err := Load(paths)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Exists() {
		t.Error("loaded manager: !Exists")
	}
	if err := l.Destroy(); err != nil {
		t.Fatal(err)
	}
	destroyed = true
	if l.Exists() || m.Exists() {
		t.Error("Exists after Destroy")
	}
}
