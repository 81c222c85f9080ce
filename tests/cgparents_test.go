package tests

import (
	"fmt"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestSharedParentCgroupRemoved: two containers under one parent cgroup
// that rt made for the first; deleting the first while the second runs
// leaves the parent in use, and deleting the second then removes it.
func TestSharedParentCgroupRemoved(t *testing.T) {
	t.Parallel()
	h := newH(t)
	parent := fmt.Sprintf("/rt-itest-%s-parent%d", runToken, counter.Add(1))
	h.cgroups = append(h.cgroups, parent)
	var ids []string
	for _, n := range []string{"a", "b"} {
		b := h.Bundle(sleeper, func(s *specs.Spec) { s.Linux.CgroupsPath = parent + "/" + n })
		id, _ := h.StartDetached(b)
		ids = append(ids, id)
	}
	h.MustRT("delete", "--force", ids[0])
	if len(cgroupDirs(parent)) == 0 {
		t.Fatalf("the parent %s went while the second container used it", parent)
	}
	h.MustRT("delete", "--force", ids[1])
	if ds := cgroupDirs(parent); len(ds) > 0 {
		t.Errorf("parent cgroup dirs left after the last delete: %v", ds)
	}
}
