package spec

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseList(t *testing.T) {
	got, err := ParseList("7,0-3,2", 8, "CPU")
	if err != nil || len(got) != 5 || got[0] != 0 || got[4] != 7 {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range []string{"8", "3-1", "a", "1,,2", "-1"} {
		if _, err := ParseList(bad, 8, "node"); err == nil || !strings.Contains(err.Error(), "invalid node list") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestValidateProcFields(t *testing.T) {
	base := func() *specs.Spec {
		return &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}}}
	}
	for _, c := range []struct {
		name string
		mut  func(*specs.Linux)
		want string // "" for valid
	}{
		{"mempolicy ok", func(l *specs.Linux) { l.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-1"} }, ""},
		{"mempolicy empty", func(l *specs.Linux) { l.MemoryPolicy = &specs.LinuxMemoryPolicy{} }, ""},
		{"mempolicy no mode", func(l *specs.Linux) { l.MemoryPolicy = &specs.LinuxMemoryPolicy{Nodes: "0"} }, "linux.memoryPolicy.mode"},
		{"mempolicy flag", func(l *specs.Linux) {
			l.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{"X"}}
		}, "linux.memoryPolicy.flags[0]"},
		{"mempolicy local nodes", func(l *specs.Linux) { l.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolLocal, Nodes: "0"} }, "linux.memoryPolicy.nodes"},
		{"mempolicy bind no nodes", func(l *specs.Linux) { l.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind} }, "linux.memoryPolicy.nodes"},
		{"personality flags", func(l *specs.Linux) {
			l.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"X"}}
		}, "linux.personality.flags[0]"},
		{"netdev ok", func(l *specs.Linux) { l.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "net%d"}} }, ""},
		{"netdev joined", func(l *specs.Linux) {
			l.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}}
			l.Namespaces[0].Path = "/proc/self/ns/net"
		}, "needs a new network namespace"},
		{"netdev lo", func(l *specs.Linux) { l.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "lo"}} }, `linux.netDevices["eth1"].name`},
		{"netdev dup", func(l *specs.Linux) {
			l.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "x"}, "eth2": {Name: "x"}}
		}, `linux.netDevices["eth2"].name`},
		{"netdev bad template", func(l *specs.Linux) { l.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {Name: "a%s"}} }, `linux.netDevices["eth1"].name`},
	} {
		s := base()
		c.mut(s.Linux)
		v := &validator{s: s, ns: map[specs.LinuxNamespaceType]nsEntry{}}
		for i, ns := range s.Linux.Namespaces {
			v.ns[ns.Type] = nsEntry{index: i, path: ns.Path}
		}
		err := checkPersonality(v)
		if err == nil {
			err = checkNetDevices(v)
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
