package tests

import (
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// uptime reads the first field of /proc/uptime output.
func uptime(t *testing.T, s string) float64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) == 0 {
		t.Fatalf("no uptime in %q", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("uptime %q: %v", s, err)
	}
	return v
}

// TestTimeNamespace: a new time namespace with linux.timeOffsets: the
// offsets are in the namespace and the boottime clock inside (as
// /proc/uptime shows it) is a year ahead of the host's; exec'd processes
// share it.
func TestTimeNamespace(t *testing.T) {
	t.Parallel()
	h := newH(t)
	const year = 365 * 24 * 3600
	withTime := func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
			"monotonic": {Secs: 86400},
			"boottime":  {Secs: year, Nanosecs: 5},
		}
	}
	out := h.MustSh("cat /proc/self/timens_offsets; cat /proc/uptime", withTime)
	l := lines(out)
	if len(l) != 3 || strings.Join(strings.Fields(l[0]), " ") != "monotonic 86400 0" || strings.Join(strings.Fields(l[1]), " ") != "boottime 31536000 5" {
		t.Fatalf("timens_offsets inside: %q", out)
	}
	host := uptime(t, hostFile(t, "/proc/uptime"))
	if in := uptime(t, l[2]); in < host+year-60 || in > host+year+60 {
		t.Errorf("uptime inside %.0f s, host %.0f s: want a year ahead", in, host)
	}
	id, _ := h.StartDetached(h.Bundle(sleeper, withTime))
	if in := uptime(t, h.MustRT("exec", id, "cat", "/proc/uptime").Stdout); in < host+year-60 {
		t.Errorf("exec'd process: uptime %.0f s, want the container's clock", in)
	}
	// rt itself and its later children stay on the host's clock.
	if u := uptime(t, hostFile(t, "/proc/uptime")); u > host+60 {
		t.Errorf("host uptime jumped to %.0f", u)
	}
}
