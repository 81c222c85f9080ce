package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestHostV2 runs against a real cgroup v2 hierarchy (skipped elsewhere; run
// it in ../shared/cgv2-vm). It creates and removes /rt-test-<random>/c.
func TestHostV2(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	h, err := detect(procMountinfo, procCgroup)
	if err != nil || !h.unified {
		t.Skip("not a cgroup v2 host")
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	top := "/rt-test-" + hex.EncodeToString(rnd[:])
	res := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), Swap: ptr(int64(96 << 20))},
		Pids:    &specs.LinuxPids{Limit: ptr(int64(16))},
		CPU:     &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000))},
		Unified: map[string]string{"memory.high": "60000000"},
	}
	m, err := New(Config{Path: top + "/c", ID: "c", Resources: res})
	if err != nil {
		t.Fatal(err)
	}
	dir := m.Paths()[""]
	if dir != filepath.Join(h.v2.mountpoint, top, "c") {
		t.Fatalf("path %s", dir)
	}
	var cmds []*exec.Cmd
	t.Cleanup(func() {
		for _, c := range cmds {
			_ = syscall.Kill(c.Process.Pid, syscall.SIGKILL)
		}
		_ = m.Thaw()
		for _, c := range cmds {
			_ = c.Wait()
		}
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		if _, err := os.Stat(filepath.Join(h.v2.mountpoint, top)); err == nil {
			t.Errorf("left behind: %s", top)
		}
	})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"memory.max": strconv.Itoa(64 << 20), "memory.swap.max": strconv.Itoa(32 << 20),
		"pids.max": "16", "cpu.weight": "20", "cpu.max": "50000 100000", "memory.high": "59998208",
	} {
		got, err := readFile(dir, file)
		if err != nil {
			t.Error(err)
		} else if got != want {
			t.Errorf("%s = %s, want %s", file, got, want)
		}
	}

	// One process joins with Apply, one is born inside with CLONE_INTO_CGROUP.
	a := exec.Command("sleep", "30")
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	cmds = append(cmds, a)
	if err := m.Apply(a.Process.Pid); err != nil {
		t.Fatal(err)
	}
	fd, err := m.CgroupFd()
	if err != nil {
		t.Fatal(err)
	}
	b := exec.Command("sleep", "30")
	b.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	err = b.Start()
	syscall.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
	cmds = append(cmds, b)
	for _, c := range cmds {
		pc, _ := os.ReadFile("/proc/" + strconv.Itoa(c.Process.Pid) + "/cgroup")
		if got := strings.TrimSpace(string(pc)); got != "0::"+top+"/c" {
			t.Errorf("pid %d: %s", c.Process.Pid, got)
		}
	}
	want := []int{a.Process.Pid, b.Process.Pid}
	sort.Ints(want)
	if pids, err := m.Pids(); err != nil || !reflect.DeepEqual(pids, want) {
		t.Errorf("Pids() = %v, %v; want %v", pids, err, want)
	}

	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if fr, err := eventsFrozen(dir); err != nil || !fr {
		t.Errorf("after Freeze: frozen=%v %v", fr, err)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if fr, err := eventsFrozen(dir); err != nil || fr {
		t.Errorf("after Thaw: frozen=%v %v", fr, err)
	}
	if l, err := Load(m.Paths()); err != nil || !l.Exists() {
		t.Errorf("Load: %v", err)
	}
}

// TestHostV2Devices checks device rules through the Manager on a real
// cgroup v2 host (run it in ../shared/cgv2-vm): Set attaches the program,
// a process that joins with Apply is held to it, and updates (also from a
// Manager made by Load) replace it without piling programs up. It creates
// and removes /rt-test-<random>/d.
func TestHostV2Devices(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	h, err := detect(procMountinfo, procCgroup)
	if err != nil || !h.unified {
		t.Skip("not a cgroup v2 host")
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	top := "/rt-test-" + hex.EncodeToString(rnd[:])
	m, err := New(Config{Path: top + "/d", ID: "d", Resources: &specs.LinuxResources{Devices: deviceSteps[0].rules}})
	if err != nil {
		t.Fatal(err)
	}
	dir := m.Paths()[""]
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		if _, err := os.Stat(filepath.Join(h.v2.mountpoint, top)); err == nil {
			t.Errorf("left behind: %s", top)
		}
	})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	checkDevicePrograms(t, dir)
	p := startProber(t) // killed before Destroy (cleanups run last first)
	if err := m.Apply(p.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	for i, s := range deviceSteps {
		mgr := m
		if i%2 == 1 {
			if mgr, err = Load(m.Paths()); err != nil {
				t.Fatal(err)
			}
		}
		if i > 0 {
			if err := mgr.Set(&specs.LinuxResources{Devices: s.rules}); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		p.expect(t, s.name, s.want)
		checkDevicePrograms(t, dir)
	}
	// Resources without devices leave the program alone.
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(100))}}); err != nil {
		t.Fatal(err)
	}
	// (The last step's program stays: /dev/null open, /dev/full not.)
	p.expect(t, "no devices in the update", map[string]string{"open /dev/null rw": "ok", "open /dev/full r": "EPERM"})
	checkDevicePrograms(t, dir)
}
