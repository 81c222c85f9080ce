package cgroups

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Field names of the resources beyond memory, cpu shares/quota, cpuset,
// pids, blkio weight and devices (those are in v1_resources.go).
const (
	fHugepage     = "linux.resources.hugepageLimits"
	fNetwork      = "linux.resources.network"
	fClassID      = "linux.resources.network.classID"
	fPriorities   = "linux.resources.network.priorities"
	fRdma         = "linux.resources.rdma"
	fLeafWeight   = "linux.resources.blockIO.leafWeight"
	fWeightDevice = "linux.resources.blockIO.weightDevice"
	fCPUBurst     = "linux.resources.cpu.burst"
	fCPURtRuntime = "linux.resources.cpu.realtimeRuntime"
	fCPURtPeriod  = "linux.resources.cpu.realtimePeriod"
	fCPUIdle      = "linux.resources.cpu.idle"
)

// lacksError is a requested resource that needs a controller or a control
// file this host does not have. errors.Is(err, ErrNotMounted) holds.
type lacksError struct{ field, what string }

func (e *lacksError) Error() string        { return e.field + ": " + e.what }
func (e *lacksError) Is(target error) bool { return target == ErrNotMounted }

func lacks(field, format string, a ...any) error {
	return &lacksError{field: field, what: fmt.Sprintf(format, a...)}
}

// pageSizeRE is the form of hugetlb page sizes in cgroup file names
// ("hugetlb.2MB.max"), which linux.resources.hugepageLimits[].pageSize
// uses. It also keeps the name from leaving the cgroup directory.
var pageSizeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[1-9][0-9]*[KMG]B$`) })

// CheckResources validates what can be checked of r without looking at the
// host: names that become parts of control file names or lines, device
// numbers, cpu.idle. New and Set call it, and `rt update` calls it on the
// change before merging it, so both fail alike and before any write.
func CheckResources(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	for i, l := range r.HugepageLimits {
		if !pageSizeRE().MatchString(l.Pagesize) {
			return fmt.Errorf("%s[%d].pageSize: %q is not a page size like 2MB or 1GB", fHugepage, i, l.Pagesize)
		}
	}
	if n := r.Network; n != nil {
		for i, p := range n.Priorities {
			if err := checkName(p.Name, 15); err != nil {
				return fmt.Errorf("%s[%d].name: %w", fPriorities, i, err)
			}
		}
	}
	for _, name := range sortedKeys(r.Rdma) {
		if err := checkName(name, 63); err != nil {
			return fmt.Errorf("%s[%q]: device name: %w", fRdma, name, err)
		}
	}
	if c := r.CPU; c != nil && c.Idle != nil && *c.Idle != 0 && *c.Idle != 1 {
		return fmt.Errorf("%s: %d is not 0 or 1", fCPUIdle, *c.Idle)
	}
	if b := r.BlockIO; b != nil {
		for i, wd := range b.WeightDevice {
			if _, err := devNum(wd.Major, wd.Minor); err != nil {
				return fmt.Errorf("%s[%d]: %w", fWeightDevice, i, err)
			}
		}
		for _, k := range throttleKinds {
			for i, td := range k.list(b) {
				if _, err := devNum(td.Major, td.Minor); err != nil {
					return fmt.Errorf("%s[%d]: %w", k.field, i, err)
				}
			}
		}
	}
	return nil
}

// checkName accepts an interface or RDMA device name: one word that fits
// a control file line.
func checkName(s string, maxLen int) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > maxLen:
		return fmt.Errorf("%q is longer than %d bytes", s, maxLen)
	case strings.ContainsAny(s, " \t\n\r\x00/:"):
		return fmt.Errorf("%q contains a space, '/' or ':'", s)
	}
	return nil
}

// devNum formats a block device number as "MAJ:MIN".
func devNum(major, minor int64) (string, error) {
	if major < 0 || minor < 0 || major > math.MaxUint32 || minor > math.MaxUint32 {
		return "", fmt.Errorf("device %d:%d: major and minor must be 0-%d", major, minor, uint32(math.MaxUint32))
	}
	return fmt.Sprintf("%d:%d", major, minor), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
