package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestUnsupportedFieldsRefused: fields rt does not implement yet are
// refused with one line naming them (never a silently weaker container),
// and nothing is left behind.
func TestUnsupportedFieldsRefused(t *testing.T) {
	t.Parallel()
	h := newH(t)
	cases := []struct {
		field string
		mut   func(*specs.Spec)
	}{
		{"mounts[0].options", func(s *specs.Spec) {
			s.Mounts = append([]specs.Mount{{Destination: "/mnt", Type: "bind", Source: "/tmp", Options: []string{"rbind", "idmap"}}}, s.Mounts...)
		}},
	}
	for _, c := range cases {
		b := h.Bundle(args("true"), func(s *specs.Spec) {
			if s.Linux.Resources == nil {
				s.Linux.Resources = &specs.LinuxResources{}
			}
		}, c.mut)
		entries := dirNames(h.Root)
		r := h.RT("run", "--bundle", b.Dir, h.ID("unsup"))
		if r.Code == 0 || !strings.Contains(r.Stderr, c.field) || len(lines(r.Stderr)) != 1 {
			t.Errorf("%s: %v, want one line naming it", c.field, r)
		}
		if after := dirNames(h.Root); strings.Join(after, ",") != strings.Join(entries, ",") {
			t.Errorf("%s: left %v under --root", c.field, after)
		}
		if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
			t.Errorf("%s: left cgroups %v", c.field, ds)
		}
	}
}
