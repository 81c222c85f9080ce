package security

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestResolveCaps(t *testing.T) {
	c, err := ResolveCaps(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
		Effective: []string{"cap_kill"},
		Ambient:   []string{"CAP_AUDIT_WRITE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Bounding != 1<<5|1<<10 || c.Effective != 1<<5 || c.Ambient != 1<<29 || c.Permitted != 0 {
		t.Fatalf("masks %+v", c)
	}
	_, err = ResolveCaps(&specs.LinuxCapabilities{Permitted: []string{"CAP_KILL", "CAP_NOPE"}})
	if err == nil || !strings.Contains(err.Error(), "process.capabilities.permitted[1]") {
		t.Fatalf("unknown capability: %v", err)
	}
	// No process.capabilities means none (as runc).
	if c, err := ResolveCaps(nil); err != nil || c == nil || *c != (Caps{}) {
		t.Fatalf("nil capabilities: %v %v", c, err)
	}
}
