package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestFifoDevice: linux.devices of type "p" makes a FIFO (and needs no
// device-cgroup rule, which would be refused).
func TestFifoDevice(t *testing.T) {
	t.Parallel()
	h := newH(t)
	b := h.Bundle(sh(`[ -p /dev/myfifo ] && echo fifo`), func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/myfifo", Type: "p"})
	})
	r := h.Run(b, RunOpts{})
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "fifo" {
		t.Errorf("fifo device: %v", r)
	}
}
