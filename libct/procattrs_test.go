package libct

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestThreadAttrs(t *testing.T) {
	ta, err := newThreadAttrs(&specs.Linux{
		Personality:  &specs.LinuxPersonality{Domain: specs.PerLinux32},
		MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0,2-3", Flags: []specs.MemoryPolicyFlagType{specs.MpolFStaticNodes}},
	}, &specs.CPUAffinity{Initial: "1,3"})
	if err != nil {
		t.Fatal(err)
	}
	if ta.personality == nil || *ta.personality != perLinux32 {
		t.Errorf("personality %v", ta.personality)
	}
	if ta.mpolMode != 2|1<<15 || ta.mpolNodes == nil || ta.mpolNodes.Count() != 3 || !ta.mpolNodes.IsSet(2) {
		t.Errorf("memory policy mode %#x nodes %v", ta.mpolMode, ta.mpolNodes)
	}
	if ta.cpus == nil || cpuListString(ta.cpus) != "1,3" {
		t.Errorf("initial CPUs %v", ta.cpus)
	}
	if ta, _ := newThreadAttrs(&specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{}}, nil); !ta.empty() {
		t.Error("an empty memoryPolicy is a policy")
	}
	if ta, _ := newThreadAttrs(nil, &specs.CPUAffinity{Final: "0"}); !ta.empty() {
		t.Error("execCPUAffinity.final is applied at spawn")
	}
	for _, c := range []struct {
		l   *specs.Linux
		aff *specs.CPUAffinity
	}{
		{&specs.Linux{Personality: &specs.LinuxPersonality{Domain: "BSD"}}, nil},
		{&specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{Nodes: "0"}}, nil},
		{&specs.Linux{MemoryPolicy: &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "5000"}}, nil},
		{nil, &specs.CPUAffinity{Initial: "2-1"}},
	} {
		if _, err := newThreadAttrs(c.l, c.aff); err == nil {
			t.Errorf("%+v %+v accepted", c.l, c.aff)
		}
	}
}

func TestCPUListString(t *testing.T) {
	var s unix.CPUSet
	for _, c := range []int{0, 1, 2, 5, 7, 8, 1023} {
		s.Set(c)
	}
	if got := cpuListString(&s); got != "0-2,5,7-8,1023" {
		t.Errorf("got %q", got)
	}
}
