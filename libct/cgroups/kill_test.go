package cgroups

import (
	"testing"
)

// TestKillV2WritesCgroupKill: on v2 Kill is one write to cgroup.kill; a
// cgroup that is gone already is fine.
func TestKillV2WritesCgroupKill(t *testing.T) {
	f := newFakeV2(t, allV2, "/")
	m := newV2Test(t, f, Config{Path: "/c", ID: "c"})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	writeAll(t, m.dir, map[string]string{"cgroup.kill": ""})
	f.takeWrites()
	if err := Kill(m); err != nil {
		t.Fatal(err)
	}
	if w := f.takeWrites(); len(w) != 1 || w[0] != "cgroup/c/cgroup.kill=1" {
		t.Errorf("writes %v", w)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := Kill(m); err != nil {
		t.Errorf("Kill of a removed cgroup: %v", err)
	}
}
