package libct

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/state"
)

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{
		"-1": -1, "0": 0, "100": 100, "100b": 100, "64k": 64 << 10, "64KiB": 64 << 10, "512M": 512 << 20,
		"512mb": 512 << 20, "1.5G": 3 << 29, "2 g": 2 << 30, "1t": 1 << 40,
	} {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-2", "12Q", "M", "1.2.3M", "1e3", "99999999999P"} {
		if v, err := ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q) = %d, want an error", bad, v)
		}
	}
}

func TestMergeResources(t *testing.T) {
	old := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr(int64(100)), Swap: ptr(int64(200))},
		CPU:     &specs.LinuxCPU{Shares: ptr(uint64(512)), Quota: ptr(int64(20000)), Period: ptr(uint64(100000)), Cpus: "0-1"},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	// Zero values change nothing; set values replace; sections not named
	// are not written.
	merged, apply := mergeResources(old, &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(150)), Reservation: ptr(int64(0))},
		CPU:    &specs.LinuxCPU{Quota: ptr(int64(0))},
		Pids:   &specs.LinuxPids{Limit: ptr(int64(0))},
	})
	if *merged.Memory.Limit != 150 || *merged.Memory.Swap != 200 || merged.Memory.Reservation != nil {
		t.Errorf("merged memory %+v", merged.Memory)
	}
	if apply.Memory == nil || *apply.Memory.Swap != 200 {
		t.Errorf("apply memory %+v: the whole section, swap included", apply.Memory)
	}
	if apply.CPU != nil || apply.Pids != nil || merged.Pids != nil || apply.Devices != nil {
		t.Errorf("apply %+v: only memory changed", apply)
	}
	if *old.Memory.Limit != 100 {
		t.Error("mergeResources changed the old resources")
	}
	// No memory limit and nothing said about swap: no swap limit either.
	merged, _ = mergeResources(old, &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1))}})
	if *merged.Memory.Swap != -1 {
		t.Errorf("--memory -1: swap %d, want -1", *merged.Memory.Swap)
	}
	// The same device rules (spelled differently) are no change; other
	// rules are.
	_, apply = mergeResources(old, &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Type: "a"}}})
	if apply.Devices != nil {
		t.Error("equal device rules count as a change")
	}
	_, apply = mergeResources(old, &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}})
	if apply.Devices == nil {
		t.Error("new device rules not applied")
	}
	// From nothing recorded.
	merged, apply = mergeResources(nil, &specs.LinuxResources{
		CPU: &specs.LinuxCPU{Mems: "0"}, Pids: &specs.LinuxPids{Limit: ptr(int64(-1))},
		BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(300))}, Unified: map[string]string{"memory.high": "1000"},
	})
	if merged.CPU.Mems != "0" || *apply.Pids.Limit != -1 || *apply.BlockIO.Weight != 300 || merged.Unified["memory.high"] != "1000" {
		t.Errorf("merged %+v apply %+v", merged, apply)
	}
}

func TestCheckUpdate(t *testing.T) {
	for _, c := range []struct {
		r     *specs.LinuxResources
		field string
	}{
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-2))}}, "memory.limit"},
		{&specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(101))}}, "memory.swappiness"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(-5))}}, "cpu.quota"},
		{&specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(1))}}, "cpu.shares"},
		{&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(5))}}, "blockIO.weight"},
	} {
		if err := checkUpdate(c.r); err == nil || !strings.Contains(err.Error(), "linux.resources."+c.field) {
			t.Errorf("checkUpdate: %v, want an error naming %s", err, c.field)
		}
	}
	if err := checkMerged(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(200)), Swap: ptr(int64(100))}}); err == nil {
		t.Error("checkMerged: swap below the limit accepted")
	}
	if err := checkUpdate(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1)), Swappiness: ptr(uint64(1<<64 - 1))}}); err != nil {
		t.Errorf("checkUpdate(-1, unset swappiness): %v", err)
	}
}

func TestSaveResourcesKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	h := &state.Handle{ID: "x", Dir: dir}
	raw := []byte(`{"ociVersion":"1.2.0","x-unknown":{"keep":true},"linux":{"cgroupsPath":"/a","x-other":1,"resources":{"pids":{"limit":5}}}}`)
	if err := os.WriteFile(h.ConfigPath(), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := saveResources(h, raw, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(9))}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	linux := got["linux"].(map[string]any)
	if got["x-unknown"] == nil || linux["x-other"] == nil || linux["cgroupsPath"] != "/a" || got["ociVersion"] != "1.2.0" {
		t.Errorf("other fields lost: %s", b)
	}
	if lim := linux["resources"].(map[string]any)["pids"].(map[string]any)["limit"]; lim != 9.0 {
		t.Errorf("pids.limit = %v, want 9: %s", lim, b)
	}
}
