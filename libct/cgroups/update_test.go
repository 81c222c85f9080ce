package cgroups

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// failWrites turns the named control file into a directory, so that
// writing it fails like a kernel refusal would.
func failWrites(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateV1RestoresOnError(t *testing.T) {
	f := newFakeV1(t, hybridHier, nil)
	m := newV1Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	writeAll(t, f.path("memory/c"), map[string]string{"memory.limit_in_bytes": "1000000", "memory.memsw.limit_in_bytes": "2000000"})
	writeAll(t, f.path("devices/c"), map[string]string{"devices.list": "c 1:3 rwm\nc 1:5 rwm"})
	failWrites(t, f.path("pids/c/pids.max"))
	f.takeWrites()
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr(int64(3000000)), Swap: ptr(int64(4000000))},
		CPU:     &specs.LinuxCPU{Shares: ptr(uint64(1024))},
		Pids:    &specs.LinuxPids{Limit: ptr(int64(5))},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	err := Update(m, r)
	if err == nil || !strings.Contains(err.Error(), fPidsLimit) {
		t.Fatalf("Update: %v, want an error naming %s", err, fPidsLimit)
	}
	for file, want := range map[string]string{
		"memory/c/memory.limit_in_bytes":       "1000000",
		"memory/c/memory.memsw.limit_in_bytes": "2000000",
		"cpu,cpuacct/c/cpu.shares":             "1024",
	} {
		if got := f.read(file); got != want {
			t.Errorf("%s = %q after a failed update, want %q", file, got, want)
		}
	}
	w := strings.Join(f.takeWrites(), "\n")
	// memsw first (raising), then the limit; restored newest first; the
	// device rules are never reached (they come last).
	want := strings.Join([]string{
		"memory/c/memory.memsw.limit_in_bytes=4000000",
		"memory/c/memory.limit_in_bytes=3000000",
		"cpu,cpuacct/c/cpu.shares=1024",
		"pids/c/pids.max=5",
		"cpu,cpuacct/c/cpu.shares=1024",
		"memory/c/memory.limit_in_bytes=1000000",
		"memory/c/memory.memsw.limit_in_bytes=2000000",
	}, "\n")
	if w != want {
		t.Errorf("writes:\n%s\nwant:\n%s", w, want)
	}

	// Device rules that fail half-way are restored from devices.list.
	os.Remove(f.path("pids/c/pids.max"))
	writeAll(t, f.path("pids/c"), map[string]string{"pids.max": "max"})
	failWrites(t, f.path("devices/c/devices.allow"))
	err = Update(m, &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rw"}}})
	if err == nil {
		t.Fatal("Update: no error for a failing devices.allow")
	}
	w = strings.Join(f.takeWrites(), "\n")
	want = strings.Join([]string{
		"devices/c/devices.deny=a",
		"devices/c/devices.deny=a",
		"devices/c/devices.allow=c 1:3 rw",
		"devices/c/devices.deny=a",
		"devices/c/devices.allow=c 1:3 rwm",
	}, "\n")
	if !strings.HasPrefix(w, want) {
		t.Errorf("device writes:\n%s\nwant to begin with:\n%s", w, want)
	}
	if !strings.Contains(err.Error(), "restoring") {
		t.Errorf("the restore also fails (devices.allow is broken), so the error should say so: %v", err)
	}
}

func TestUpdateV2(t *testing.T) {
	f := newFakeV2(t, allV2, "/")
	m := newV2Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	writeAll(t, m.dir, map[string]string{"io.max": "8:0 rbps=100 wbps=max riops=max wiops=max\n"})
	f.takeWrites()
	// Without devices, no device program is touched.
	if err := Update(m, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(7))}}); err != nil {
		t.Fatal(err)
	}
	if w := f.takeWrites(); len(w) != 1 || w[0] != "cgroup/c/pids.max=7" {
		t.Errorf("writes %v", w)
	}
	// With devices, the program is replaced after the other values.
	err := Update(m, &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(2))}, Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}})
	if err != nil {
		t.Fatal(err)
	}
	if w := f.takeWrites(); len(w) != 2 || w[0] != "cgroup/c/cpu.weight=1" || w[1] != "cgroup/c/<bpf-devices>=a" {
		t.Errorf("writes %v", w)
	}
	// A failing unified key undoes io.max: the old line comes back and a
	// device that had none is reset to no limit.
	err = Update(m, &specs.LinuxResources{Unified: map[string]string{
		"io.max":      "8:0 rbps=5\n254:0 wbps=7\n",
		"pids.nosuch": "1",
	}})
	if err == nil {
		t.Fatal("Update: no error for a missing unified file")
	}
	want := []string{
		"cgroup/c/io.max=8:0 rbps=5",
		"cgroup/c/io.max=254:0 wbps=7",
		"cgroup/c/pids.nosuch=1",
		"cgroup/c/io.max=254:0 rbps=max wbps=max riops=max wiops=max",
		"cgroup/c/io.max=8:0 rbps=100 wbps=max riops=max wiops=max",
	}
	if w := f.takeWrites(); strings.Join(w, "\n") != strings.Join(want, "\n") {
		t.Errorf("writes:\n%s\nwant:\n%s", strings.Join(w, "\n"), strings.Join(want, "\n"))
	}
}
