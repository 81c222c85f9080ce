package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Resources this host may lack, from cgroups_resources_test.go (the
// helpers are there): written where present, refused clearly otherwise.

// TestResourcesHostLacks: hugepageLimits, network and rdma, and leaf
// weights, where this host has them (the files are written, update
// changes them), else the error naming the field and what is missing, at
// create and at update alike. This host (v1 hybrid): no hugetlb, net_cls,
// net_prio or rdma hierarchy, no CFQ leaf weights. The VM (v2): hugetlb,
// rdma without devices; no network controllers and no leaf weights.
func TestResourcesHostLacks(t *testing.T) {
	t.Parallel()
	h := newH(t)
	v2 := unifiedHost()
	run := h.Bundle(args("sleep", "1000"))
	runID, _ := h.StartDetached(run)
	pageSize := hugePageSize()
	type files map[string]string // control file (v1 "ctrl/file", v2 "file") → want
	cases := []struct {
		name        string
		mut, change func(*specs.Spec)
		update      string // the change as rt update JSON
		lacks       string // the error, when the host lacks it
		files       files  // else: after create
		updated     files  // and after update
	}{{
		name: "hugepageLimits",
		mut: func(s *specs.Spec) {
			resources(s).HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: pageSize, Limit: 4 << 20}}
		},
		update: `{"hugepageLimits":[{"pageSize":"` + pageSize + `","limit":0}]}`,
		lacks:  "linux.resources.hugepageLimits: no hugetlb controller in this host's cgroup v1 hierarchies",
		files: files{"hugetlb/hugetlb." + pageSize + ".limit_in_bytes": "4194304",
			"hugetlb." + pageSize + ".max": "4194304", "hugetlb." + pageSize + ".rsvd.max": "4194304"},
		updated: files{"hugetlb/hugetlb." + pageSize + ".limit_in_bytes": "0", "hugetlb." + pageSize + ".max": "0"},
	}, {
		name:    "network.classID",
		mut:     func(s *specs.Spec) { resources(s).Network = &specs.LinuxNetwork{ClassID: u32(0x100001)} },
		update:  `{"network":{"classID":1048578}}`,
		lacks:   "linux.resources.network.classID: no net_cls controller in this host's cgroup v1 hierarchies",
		files:   files{"net_cls/net_cls.classid": "1048577"},
		updated: files{"net_cls/net_cls.classid": "1048578"},
	}, {
		name: "network.priorities",
		mut: func(s *specs.Spec) {
			resources(s).Network = &specs.LinuxNetwork{Priorities: []specs.LinuxInterfacePriority{{Name: "lo", Priority: 5}}}
		},
		update:  `{"network":{"priorities":[{"name":"lo","priority":6}]}}`,
		lacks:   "linux.resources.network.priorities: no net_prio controller in this host's cgroup v1 hierarchies",
		files:   files{"net_prio/net_prio.ifpriomap": "lo 5"},
		updated: files{"net_prio/net_prio.ifpriomap": "lo 6"},
	}, {
		name: "rdma",
		mut: func(s *specs.Spec) {
			resources(s).Rdma = map[string]specs.LinuxRdma{"rtnodev0": {HcaHandles: u32(1)}}
		},
		update: `{"rdma":{"rtnodev0":{"hcaHandles":1}}}`,
		// With the controller but without RDMA devices, the kernel
		// refuses the name.
		lacks: `linux.resources.rdma["rtnodev0"]: write `,
	}, {
		name:    "blockIO.leafWeight",
		mut:     func(s *specs.Spec) { resources(s).BlockIO = &specs.LinuxBlockIO{LeafWeight: u16(300)} },
		update:  `{"blockIO":{"leafWeight":300}}`,
		lacks:   "linux.resources.blockIO.leafWeight: this host's blkio controller has no blkio.leaf_weight",
		files:   files{"blkio/blkio.leaf_weight": "300"},
		updated: files{"blkio/blkio.leaf_weight": "300"},
	}}
	for _, c := range cases {
		lacks := c.lacks
		switch {
		case c.name == "hugepageLimits" && pageSize == "":
			lacks = "linux.resources.hugepageLimits[0].pageSize: "
		case v2 && strings.HasPrefix(c.name, "network"):
			lacks = "linux.resources." + c.name + ": cgroup v2 has no net_cls or net_prio controller"
		case v2 && c.name == "blockIO.leafWeight":
			lacks = "linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights"
		case v2 && c.name == "rdma", v2 && c.name == "hugepageLimits":
			if c.name == "rdma" && !strings.Contains(hostFile(t, "/sys/fs/cgroup/cgroup.subtree_control"), "rdma") {
				lacks = `linux.resources.rdma: cgroup controller is not available: the "rdma" controller is not enabled`
			} else if c.name == "hugepageLimits" {
				lacks = ""
			}
		case v2:
		case c.name == "hugepageLimits" && v1Mounted("hugetlb"),
			c.name == "network.classID" && v1Mounted("net_cls"),
			c.name == "network.priorities" && v1Mounted("net_prio"),
			c.name == "blockIO.leafWeight" && fileExists("/sys/fs/cgroup/blkio/blkio.weight"): // CFQ
			lacks = ""
		case c.name == "rdma" && !v1Mounted("rdma"):
			lacks = "linux.resources.rdma: no rdma controller in this host's cgroup v1 hierarchies"
		}
		if lacks != "" {
			t.Logf("%s: the host lacks it", c.name)
			refusedAlike(t, h, c.mut, c.update, runID, lacks)
			continue
		}
		t.Logf("%s: the host has it", c.name)
		b := h.Bundle(args("sleep", "1000"), c.mut)
		id, _ := h.StartDetached(b)
		checkFiles := func(when string, fs files) {
			t.Helper()
			for f, want := range fs {
				ctrl, name, isV1 := strings.Cut(f, "/")
				if isV1 == v2 {
					continue
				}
				p := cgFile(b, ctrl, name, f)
				if v2 && !fileExists(p) && strings.Contains(f, ".rsvd.") {
					continue // before Linux 5.7
				}
				if got := hostFile(t, p); got != want && !strings.Contains("\n"+got+"\n", "\n"+want+"\n") {
					t.Errorf("%s: %s: %s = %q, want %q", c.name, when, p, got, want)
				}
			}
		}
		checkFiles("after create", c.files)
		h.MustRTo(RunOpts{Stdin: c.update}, "update", "-r", "-", id)
		checkFiles("after update", c.updated)
		h.MustRT("delete", "--force", id)
	}
}

// hugePageSize returns the host's smallest huge page size in cgroup file
// form ("2MB"), or "" if it has none.
func hugePageSize() string {
	ents, _ := os.ReadDir("/sys/kernel/mm/hugepages")
	var kb uint64
	for _, e := range ents {
		var size uint64
		if _, err := fmt.Sscanf(e.Name(), "hugepages-%dkB", &size); err == nil && (kb == 0 || size < kb) {
			kb = size
		}
	}
	if kb != 0 {
		switch {
		case kb >= 1<<20 && kb%(1<<20) == 0:
			return fmt.Sprintf("%dGB", kb>>20)
		case kb >= 1<<10 && kb%(1<<10) == 0:
			return fmt.Sprintf("%dMB", kb>>10)
		default:
			return fmt.Sprintf("%dKB", kb)
		}
	}
	return ""
}
