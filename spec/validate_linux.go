package spec

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hasDotDot reports whether p has a ".." path component.
func hasDotDot(p string) bool {
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return true
		}
	}
	return false
}

func checkMounts(v *validator) error {
	for i, m := range v.s.Mounts {
		f := idx("mounts", i)
		if m.Destination == "" {
			return fieldErr(f+".destination", "empty")
		}
		// runc accepts a relative destination (deprecated, from old
		// configs) and treats it as relative to "/"; so does rt. ".."
		// components are refused in either form.
		if hasDotDot(m.Destination) || hasNUL(m.Destination) {
			return fieldErr(f+".destination", "must be absolute without \"..\": %q", m.Destination)
		}
		if hasNUL(m.Source) {
			return fieldErr(f+".source", "contains a NUL byte")
		}
		if hasNUL(m.Type) {
			return fieldErr(f+".type", "contains a NUL byte")
		}
		opts, err := ParseMountOptions(m.Options)
		if err != nil {
			return fieldErr(f+".options", "%w", err)
		}
		if m.Type == "overlay" { // spec/validate_overlay.go
			if err := checkOverlayMount(v, f, m, opts); err != nil {
				return err
			}
		}
		bind := opts.Bind || m.Type == "bind"
		if bind && m.Source == "" {
			return fieldErr(f+".source", "empty, a bind mount needs a source")
		}
		if err := checkMountIDMap(v, f, m, opts, bind); err != nil {
			return err
		}
	}
	return nil
}

// checkMountIDMap checks idmapped-mount settings (mounts[i].uidMappings,
// gidMappings and the "idmap"/"ridmap" options).
func checkMountIDMap(v *validator, f string, m specs.Mount, opts MountOptions, bind bool) error {
	hasUID, hasGID := len(m.UIDMappings) > 0, len(m.GIDMappings) > 0
	if hasUID != hasGID {
		if hasUID {
			return fieldErr(f+".gidMappings", "missing, uidMappings and gidMappings go together")
		}
		return fieldErr(f+".uidMappings", "missing, uidMappings and gidMappings go together")
	}
	if !hasUID && !opts.IDMap {
		return nil
	}
	if !bind {
		return fieldErr(f, "idmapped mount (uidMappings/gidMappings or \"idmap\") needs a bind mount")
	}
	if !hasUID && !v.has(specs.UserNamespace) {
		return fieldErr(f+".options", "\"idmap\" without mount uidMappings/gidMappings needs a user namespace")
	}
	if err := checkIDMappings(f+".uidMappings", m.UIDMappings); err != nil {
		return err
	}
	return checkIDMappings(f+".gidMappings", m.GIDMappings)
}

func checkLinuxPaths(v *validator) error {
	l := v.linux()
	if _, err := Propagation(l.RootfsPropagation); err != nil {
		return fieldErr("linux.rootfsPropagation", "%w", err)
	}
	for _, set := range []struct {
		field string
		paths []string
	}{
		{"linux.maskedPaths", l.MaskedPaths},
		{"linux.readonlyPaths", l.ReadonlyPaths},
	} {
		for i, p := range set.paths {
			if err := checkAbs(idx(set.field, i), p); err != nil {
				return err
			}
		}
	}
	if r := l.IntelRdt; r != nil && (r.ClosID == "." || r.ClosID == ".." || strings.ContainsAny(r.ClosID, "/\x00")) {
		return fieldErr("linux.intelRdt.closID", "invalid name %q", r.ClosID)
	}
	return nil
}

// sysctlName returns the dotted form of a sysctl key. Like sysctl(8), a key
// whose first separator is '/' uses '/' as separator and '.' as a literal
// (e.g. "net/ipv4/conf/eth0.100/rp_filter"); its dotted form swaps them,
// "net.ipv4.conf.eth0/100.rp_filter".
func sysctlName(k string) string {
	i := strings.IndexAny(k, "./")
	if i < 0 || k[i] == '.' {
		return k
	}
	return swapDotSlash(k)
}

func swapDotSlash(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '.':
			return '/'
		case '/':
			return '.'
		}
		return r
	}, s)
}

// SysctlPath returns the path of a linux.sysctl key relative to /proc/sys,
// e.g. "net.ipv4.ip_forward" -> "net/ipv4/ip_forward" and
// "net/ipv4/conf/eth0.100/rp_filter" -> "net/ipv4/conf/eth0.100/rp_filter".
// It refuses keys whose path would be empty or have "", "." or ".."
// components, so the result can never leave /proc/sys.
func SysctlPath(k string) (string, error) {
	if k == "" || hasNUL(k) {
		return "", fmt.Errorf("invalid sysctl name %q", k)
	}
	p := swapDotSlash(sysctlName(k))
	for _, c := range strings.Split(p, "/") {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("invalid sysctl name %q: bad component %q", k, c)
		}
	}
	return p, nil
}

// isIPCSysctl reports sysctls of the IPC namespace: SysV IPC (kernel.shm*,
// kernel.msg*, kernel.sem, kernel.sem_*) and POSIX message queues.
func isIPCSysctl(name string) bool {
	return strings.HasPrefix(name, "kernel.shm") ||
		strings.HasPrefix(name, "kernel.msg") ||
		name == "kernel.sem" ||
		strings.HasPrefix(name, "kernel.sem_") ||
		strings.HasPrefix(name, "fs.mqueue.")
}

// checkSysctl allows only sysctls that are namespaced by a namespace the
// container has, as runc does: setting any other one would change the host.
func checkSysctl(v *validator) error {
	sysctl := v.linux().Sysctl
	for _, k := range sortedKeys(sysctl) {
		f := key("linux.sysctl", k)
		if _, err := SysctlPath(k); err != nil {
			return fieldErr(f, "%w", err)
		}
		name := sysctlName(k)
		switch {
		case isIPCSysctl(name):
			if !v.has(specs.IPCNamespace) {
				return fieldErr(f, "sysctl %q is not allowed in the host's ipc namespace (linux.namespaces has no ipc)", name)
			}
		case strings.HasPrefix(name, "net."):
			ns, ok := v.ns[specs.NetworkNamespace]
			if !ok {
				return fieldErr(f, "sysctl %q is not allowed in the host's network namespace (linux.namespaces has no network)", name)
			}
			if ns.path != "" {
				host, err := isHostNetNS(ns.path)
				if err != nil {
					return fieldErr(idx("linux.namespaces", ns.index)+".path", "%w", err)
				}
				if host {
					return fieldErr(f, "sysctl %q is not allowed in the host's network namespace (linux.namespaces[%d].path)", name, ns.index)
				}
			}
		case name == "kernel.domainname" && v.has(specs.UTSNamespace):
		case name == "kernel.hostname" && v.has(specs.UTSNamespace):
			if v.s.Hostname != "" {
				return fieldErr(f, "sysctl %q conflicts with the hostname field", name)
			}
		default:
			return fieldErr(f, "sysctl %q is not in a separate kernel namespace", name)
		}
	}
	return nil
}

// isHostNetNS reports whether the network namespace file p is rt's own
// (the "host" one, for this purpose).
func isHostNetNS(p string) (bool, error) {
	self, err := os.Stat("/proc/self/ns/net")
	if err != nil {
		return false, err
	}
	other, err := os.Stat(p)
	if err != nil {
		return false, err
	}
	a, ok1 := self.Sys().(*syscall.Stat_t)
	b, ok2 := other.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 {
		return false, errors.New("cannot compare namespace files")
	}
	return a.Dev == b.Dev && a.Ino == b.Ino, nil
}

var deviceTypes = map[string]bool{"c": true, "b": true, "u": true, "p": true}

// Linux dev_t limits (MINORBITS is 20, leaving 12 bits for the major).
const (
	maxMajor = 1<<12 - 1
	maxMinor = 1<<20 - 1
)

func checkDevices(v *validator) error {
	seen := make(map[string]int)
	for i, d := range v.linux().Devices {
		f := idx("linux.devices", i)
		clean := path.Clean(d.Path)
		if !filepath.IsAbs(d.Path) || hasNUL(d.Path) || hasDotDot(d.Path) || !strings.HasPrefix(clean, "/dev/") {
			return fieldErr(f+".path", "must be an absolute path under /dev: %q", d.Path)
		}
		if j, dup := seen[clean]; dup {
			return fieldErr(f+".path", "duplicate device %q (also linux.devices[%d])", d.Path, j)
		}
		seen[clean] = i
		if !deviceTypes[d.Type] {
			return fieldErr(f+".type", "unknown device type %q (want c, b, u or p)", d.Type)
		}
		if d.Major < 0 || d.Major > maxMajor {
			return fieldErr(f+".major", "%d is outside 0..%d", d.Major, maxMajor)
		}
		if d.Minor < 0 || d.Minor > maxMinor {
			return fieldErr(f+".minor", "%d is outside 0..%d", d.Minor, maxMinor)
		}
	}
	return nil
}

// checkResources checks the parts of linux.resources that need no cgroup
// knowledge; the cgroup managers check the rest when they apply it.
func checkResources(v *validator) error {
	r := v.linux().Resources
	if r == nil {
		return nil
	}
	for i, d := range r.Devices {
		f := idx("linux.resources.devices", i)
		switch d.Type {
		case "", "a", "b", "c":
		default:
			return fieldErr(f+".type", "unknown device type %q (want a, b or c)", d.Type)
		}
		if strings.Trim(d.Access, "rwm") != "" {
			return fieldErr(f+".access", "%q is not a combination of r, w and m", d.Access)
		}
	}
	return nil
}

func checkPersonality(v *validator) error {
	p := v.linux().Personality
	if p != nil {
		if p.Domain != specs.PerLinux && p.Domain != specs.PerLinux32 {
			return fieldErr("linux.personality.domain", "unknown domain %q (want LINUX or LINUX32)", p.Domain)
		}
		// runtime-spec 1.3 defines no flag values.
		if len(p.Flags) > 0 {
			return fieldErr("linux.personality.flags[0]", "unknown flag %q (the runtime-spec defines none)", p.Flags[0])
		}
	}
	// linux.memoryPolicy is checked here too, with the other fields the
	// process inherits from rt (docs/process-fields.md).
	return checkMemoryPolicy(v)
}

// MemoryPolicyModes and MemoryPolicyFlags map linux.memoryPolicy names to
// the values of set_mempolicy(2) (<linux/mempolicy.h>).
var (
	MemoryPolicyModes = map[specs.MemoryPolicyModeType]int{
		specs.MpolDefault: 0, specs.MpolPreferred: 1, specs.MpolBind: 2, specs.MpolInterleave: 3,
		specs.MpolLocal: 4, specs.MpolPreferredMany: 5, specs.MpolWeightedInterleave: 6,
	}
	MemoryPolicyFlags = map[specs.MemoryPolicyFlagType]int{
		specs.MpolFStaticNodes: 1 << 15, specs.MpolFRelativeNodes: 1 << 14, specs.MpolFNumaBalancing: 1 << 13,
	}
)

// MaxNUMANode bounds node numbers in linux.memoryPolicy.nodes: the mask
// rt passes to set_mempolicy(2) has 1024 bits, of which the kernel reads
// 1023 (MAX_NUMNODES is at most 1024).
const MaxNUMANode = 1022

// checkMemoryPolicy checks linux.memoryPolicy. An empty object is no
// policy; otherwise the mode is required. Whether the nodes exist and
// suit the mode is the kernel's to say, at create.
func checkMemoryPolicy(v *validator) error {
	m := v.linux().MemoryPolicy
	if m == nil || (m.Mode == "" && m.Nodes == "" && len(m.Flags) == 0) {
		return nil
	}
	if _, ok := MemoryPolicyModes[m.Mode]; !ok {
		return fieldErr("linux.memoryPolicy.mode", "invalid memory policy mode %q (want MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY or MPOL_LOCAL)", m.Mode)
	}
	for i, f := range m.Flags {
		if _, ok := MemoryPolicyFlags[f]; !ok {
			return fieldErr(idx("linux.memoryPolicy.flags", i), "invalid memory policy flag %q (want MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES or MPOL_F_NUMA_BALANCING)", f)
		}
	}
	nodes, err := ParseList(m.Nodes, MaxNUMANode+1, "node")
	if err != nil {
		return fieldErr("linux.memoryPolicy.nodes", "%w", err)
	}
	switch m.Mode {
	case specs.MpolDefault, specs.MpolLocal:
		if len(nodes) > 0 {
			return fieldErr("linux.memoryPolicy.nodes", "must be empty with %s", m.Mode)
		}
	case specs.MpolBind, specs.MpolInterleave, specs.MpolWeightedInterleave, specs.MpolPreferredMany:
		if len(nodes) == 0 {
			return fieldErr("linux.memoryPolicy.nodes", "missing, %s needs at least one node", m.Mode)
		}
	}
	return nil
}

// checkNetDevices checks linux.netDevices: it needs a new network
// namespace (rt moves the devices into the one it makes, never into the
// host's or a shared one), interface names the kernel accepts, and
// distinct names inside the container.
func checkNetDevices(v *validator) error {
	devs := v.linux().NetDevices
	if len(devs) == 0 {
		return nil
	}
	ns, ok := v.ns[specs.NetworkNamespace]
	if !ok {
		return fieldErr("linux.netDevices", "needs a network namespace, but linux.namespaces has none")
	}
	if ns.path != "" {
		return fieldErr("linux.netDevices", "needs a new network namespace, but linux.namespaces[%d] joins %s", ns.index, ns.path)
	}
	inside := map[string]string{}
	for _, k := range sortedKeys(devs) {
		f := key("linux.netDevices", k)
		if !validIfName(k) || k == "lo" {
			return fieldErr(f, "invalid host interface name %q", k)
		}
		n := devs[k].Name
		if n == "" {
			n = k
		} else if !validIfName(n) || strings.Count(n, "%") > 1 || (strings.Contains(n, "%") && !strings.Contains(n, "%d")) {
			return fieldErr(f+".name", "invalid interface name %q", n)
		}
		if n == "lo" {
			return fieldErr(f+".name", "%q already exists in a new network namespace", n)
		}
		if other, dup := inside[n]; dup && !strings.Contains(n, "%d") {
			return fieldErr(f+".name", "%q is also the name of %s inside the container", n, key("linux.netDevices", other))
		}
		inside[n] = k
	}
	return nil
}

// validIfName follows the kernel's dev_valid_name: 1..15 bytes, not "." or
// "..", no '/', ':' or whitespace.
func validIfName(n string) bool {
	if n == "" || len(n) > 15 || n == "." || n == ".." {
		return false
	}
	return !strings.ContainsAny(n, "/: \t\n\v\f\r\x00")
}
