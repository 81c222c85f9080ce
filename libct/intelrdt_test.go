package libct

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSchemataLines(t *testing.T) {
	got := schemataLines(&specs.LinuxIntelRdt{
		L3CacheSchema: "L3:0=7f0;1=1f\nMB:0=10",
		MemBwSchema:   "MB:0=20;1=70",
		Schemata:      []string{"L2:0=f;1=f"},
	})
	want := "L3:0=7f0;1=1f|MB:0=20;1=70|L2:0=f;1=f"
	if strings.Join(got, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(got, "|"), want)
	}
	if err := schemataMatch("    L3:0=7f0;1=1f\n    MB:0= 20;1= 70\nL2:0=f;1=f\n", got); err != nil {
		t.Error(err)
	}
	if err := schemataMatch("L3:0=fff;1=fff\n", got); err == nil {
		t.Error("other schemata matched")
	}
}

func TestCheckIntelRdt(t *testing.T) {
	if err := checkIntelRdt(&specs.LinuxIntelRdt{MemBwSchema: "L3:0=1"}); err == nil || !strings.Contains(err.Error(), "linux.intelRdt.memBwSchema") {
		t.Errorf("memBwSchema without MB: %v", err)
	}
	if err := checkIntelRdt(&specs.LinuxIntelRdt{EnableMonitoring: true}); err == nil || !strings.Contains(err.Error(), "enableMonitoring") {
		t.Errorf("enableMonitoring: %v", err)
	}
}
