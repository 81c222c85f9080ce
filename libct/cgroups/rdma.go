package cgroups

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// linux.resources.rdma: rdma.max, one line per device, the same on v1
// and v2: "DEVICE hca_handle=N hca_object=M" with the limits given.

func wantRdma(r *specs.LinuxResources) string {
	for _, l := range r.Rdma {
		if l.HcaHandles != nil || l.HcaObjects != nil {
			return fRdma
		}
	}
	return ""
}

// rdmaLine is the rdma.max line for one device ("" if it sets nothing).
func rdmaLine(dev string, l specs.LinuxRdma) string {
	line := dev
	if l.HcaHandles != nil {
		line += " hca_handle=" + strconv.FormatUint(uint64(*l.HcaHandles), 10)
	}
	if l.HcaObjects != nil {
		line += " hca_object=" + strconv.FormatUint(uint64(*l.HcaObjects), 10)
	}
	if line == dev {
		return ""
	}
	return line
}

func setRdma(dir string, r *specs.LinuxResources) error {
	for _, dev := range sortedKeys(r.Rdma) {
		line := rdmaLine(dev, r.Rdma[dev])
		if line == "" {
			continue
		}
		name := fmt.Sprintf("%s[%q]", fRdma, dev)
		err := writeFile(dir, "rdma.max", line)
		if errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("%s: %w (no RDMA device %q on this host; see /sys/class/infiniband)", name, err, dev)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}
