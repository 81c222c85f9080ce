package libct

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64(v int64) *int64 { return &v }

// allowedDevices are the device cgroup rules every container gets after
// its own (as runc): mknod of anything, and access to the default devices,
// ptys, /dev/console and /dev/net/tun.
var allowedDevices = []specs.LinuxDeviceCgroup{
	{Allow: true, Type: "c", Access: "m"},
	{Allow: true, Type: "b", Access: "m"},
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(3), Access: "rwm"},    // null
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(8), Access: "rwm"},    // random
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(7), Access: "rwm"},    // full
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(0), Access: "rwm"},    // tty
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(5), Access: "rwm"},    // zero
	{Allow: true, Type: "c", Major: i64(1), Minor: i64(9), Access: "rwm"},    // urandom
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(1), Access: "rwm"},    // console
	{Allow: true, Type: "c", Major: i64(136), Access: "rwm"},                 // pts
	{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"},    // ptmx
	{Allow: true, Type: "c", Major: i64(10), Minor: i64(200), Access: "rwm"}, // tun
}

// withDeviceRules returns a copy of r whose device rules are the config's,
// then linux.devices (each allowed rwm), then the defaults.
func withDeviceRules(s *specs.Spec) *specs.LinuxResources {
	r := &specs.LinuxResources{}
	if s.Linux != nil && s.Linux.Resources != nil {
		c := *s.Linux.Resources
		r = &c
	}
	rules := append([]specs.LinuxDeviceCgroup(nil), r.Devices...)
	if s.Linux != nil {
		for _, d := range s.Linux.Devices {
			t := d.Type
			if t == "u" {
				t = "c"
			}
			if t == "p" {
				continue // a FIFO needs no device-cgroup rule
			}
			rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: t, Major: i64(d.Major), Minor: i64(d.Minor), Access: "rwm"})
		}
	}
	r.Devices = append(rules, allowedDevices...)
	return r
}

// splitResources separates pids.limit (set after the init stage) from the
// rest (set before it); late is nil when there is no pids limit.
func splitResources(r *specs.LinuxResources) (early, late *specs.LinuxResources) {
	if r.Pids == nil {
		return r, nil
	}
	e := *r
	e.Pids = nil
	return &e, &specs.LinuxResources{Pids: r.Pids}
}
