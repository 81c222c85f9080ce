package libct

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/state"
)

func TestStatusDerivation(t *testing.T) {
	self := os.Getpid()
	start, _ := state.StartTime(self)
	cases := []struct {
		st   state.State
		want string
	}{
		{state.State{Phase: state.PhaseCreating, Owner: self, OwnerStart: start}, StatusCreating},
		{state.State{Phase: state.PhaseCreating, Owner: self, OwnerStart: start + 1}, StatusStopped},
		{state.State{Phase: state.PhaseCreating}, StatusStopped},
		// Phase created, but the pid runs something other than rt's init
		// stage (a start killed after releasing it): running. (Created
		// itself needs a real init: tests.TestLifecycle.)
		{state.State{Phase: state.PhaseCreated, Pid: self, PidStart: start}, StatusRunning},
		{state.State{Phase: state.PhaseStarted, Pid: self, PidStart: start}, StatusRunning},
		{state.State{Phase: state.PhaseStarted, Pid: self, PidStart: start + 7}, StatusStopped}, // pid reused
		// Creator gone, the pid runs something other than rt's init stage:
		// a foreground run killed after releasing it (run never saves
		// phase created). A creator gone before "ready" leaves the init
		// stage itself (stopped; tests.TestCrashDuringCreate).
		{state.State{Phase: state.PhaseCreating, Pid: self, PidStart: start}, StatusRunning},
	}
	for i, c := range cases {
		if got := Status(&c.st); got != c.want {
			t.Errorf("case %d: %s, want %s", i, got, c.want)
		}
	}
}

func TestDeviceRulesAndSplit(t *testing.T) {
	lim := int64(10)
	s := &specs.Spec{Linux: &specs.Linux{
		Devices: []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, {Path: "/dev/fifo", Type: "p"}},
		Resources: &specs.LinuxResources{
			Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			Pids:    &specs.LinuxPids{Limit: &lim},
		},
	}}
	r := withDeviceRules(s)
	if len(r.Devices) != 2+len(allowedDevices) || r.Devices[0].Allow || !r.Devices[1].Allow || *r.Devices[1].Major != 10 {
		t.Fatalf("rules %+v", r.Devices)
	}
	if len(s.Linux.Resources.Devices) != 1 {
		t.Fatal("withDeviceRules changed the config")
	}
	early, late := splitResources(r)
	if early.Pids != nil || late == nil || *late.Pids.Limit != 10 || len(early.Devices) != len(r.Devices) {
		t.Fatalf("split: %+v / %+v", early, late)
	}
}

func TestUnsupported(t *testing.T) {
	for field, s := range map[string]*specs.Spec{
		"is rt's own mount namespace": {Mounts: []specs.Mount{{Destination: "/x"}}, Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace, Path: "/proc/self/ns/mnt"}}}},
	} {
		if err := unsupported(s); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
	}
}
