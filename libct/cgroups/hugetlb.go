package cgroups

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// linux.resources.hugepageLimits: hugetlb.<size>.limit_in_bytes (v1) or
// hugetlb.<size>.max (v2), and the same limit on the reservations
// (hugetlb.<size>.rsvd.*, Linux 5.7+) where the kernel has them, as runc
// does. CheckResources has made sure <size> is a plain page size name.

func wantHugetlb(r *specs.LinuxResources) string {
	if len(r.HugepageLimits) > 0 {
		return fHugepage
	}
	return ""
}

func setHugetlbV1(dir string, r *specs.LinuxResources) error {
	return setHugetlb(dir, r.HugepageLimits, ".limit_in_bytes")
}

func setHugetlbV2(dir string, r *specs.LinuxResources) error {
	return setHugetlb(dir, r.HugepageLimits, ".max")
}

func setHugetlb(dir string, limits []specs.LinuxHugepageLimit, suffix string) error {
	for i, l := range limits {
		name := fmt.Sprintf("%s[%d]", fHugepage, i)
		file := "hugetlb." + l.Pagesize + suffix
		if !fileExists(dir, file) {
			return lacks(name+".pageSize", "%q is not a huge page size of this host (it has: %s)", l.Pagesize, pageSizes(dir, suffix))
		}
		val := strconv.FormatUint(l.Limit, 10)
		if err := writeFile(dir, file, val); err != nil {
			return field(name+".limit", err)
		}
		rsvd := "hugetlb." + l.Pagesize + ".rsvd" + suffix
		if !fileExists(dir, rsvd) {
			continue
		}
		if err := writeFile(dir, rsvd, val); err != nil {
			return field(name+".limit", err)
		}
	}
	return nil
}

// pageSizes lists the page sizes that have a limit file in dir.
func pageSizes(dir, suffix string) string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, "hugetlb.") || !strings.HasSuffix(n, suffix) {
			continue
		}
		size := strings.TrimSuffix(strings.TrimPrefix(n, "hugetlb."), suffix)
		if !strings.Contains(size, ".") {
			out = append(out, size)
		}
	}
	if len(out) == 0 {
		return "none, see /sys/kernel/mm/hugepages"
	}
	return strings.Join(out, ", ")
}
