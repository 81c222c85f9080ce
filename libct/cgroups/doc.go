// Package cgroups places a container's processes in cgroups and writes their
// resource limits, through the cgroupfs ("fs") driver, for cgroup v1 (legacy
// and hybrid hosts) and cgroup v2 (unified hosts).
//
// Both versions sit behind one small interface, [Manager], so that a systemd
// driver can be added later without changing the callers:
//
//	m, err := cgroups.New(cgroups.Config{Path: spec.Linux.CgroupsPath, ID: id, Resources: r})
//	paths := m.Paths()   // record in the create journal before anything exists
//	err = m.Create()     // mkdir -p; remembers which directories it made
//	err = m.Set(r)       // write the limits
//	err = m.Apply(pid)   // or CLONE_INTO_CGROUP with m.CgroupFd() on v2
//	...
//	m, err = cgroups.Load(paths) // in a later rt process (kill, pause, delete)
//	err = m.Destroy()
//
// # Which hierarchy
//
// [New] reads /proc/self/mountinfo and /proc/self/cgroup. A host where any
// cgroup v1 controller is mounted is treated as v1 (legacy or hybrid): the
// container joins every mounted v1 controller hierarchy plus name=systemd, and
// not the cgroup2 "unified" mount, which is what runc 1.1 does on such hosts.
// A host with only cgroup2 is v2. Each v1 controller is a key of
// [Manager.Paths] (co-mounted controllers such as "cpu" and "cpuacct" share a
// directory); v2 uses the single key "".
//
// # Paths
//
// Config.Path follows runc's cgroupfs driver: an absolute path is relative to
// the root of each hierarchy; a relative path is relative to the caller's own
// cgroup (v1) or to its parent (v2, because a cgroup with processes in it
// cannot enable controllers for its children); an empty path means the
// relative path "<id>". Paths are cleaned (no ".." escapes). A path that
// resolves to the root of a hierarchy, or to the caller's own cgroup, is
// rejected, so limits are never written into a cgroup rt did not make for the
// container.
//
// # Ownership
//
// Create records which directories it made itself, and Destroy of that same
// Manager removes only those (deepest first). A Manager from [Load] cannot
// know that, so its Destroy removes the recorded leaf directories (and any
// sub-cgroups the container made under them) but never their parents.
//
// # Errors
//
// Errors from Set wrap the underlying *os.PathError with %w and name the
// config.json field, for example:
//
//	linux.resources.memory.limit: write /sys/fs/cgroup/memory/x/memory.limit_in_bytes: invalid argument
//
// A v1 controller that is not mounted is skipped, unless a resource for it is
// requested; then New and Set fail with [ErrNotMounted], naming the field.
//
// # Resources and files
//
// The setters are tables per controller (v1_resources.go, v2_resources.go):
// memory, cpu (cpu.go: shares, quota, period, burst, idle, v1 realtime),
// cpuset, pids, blkio/io (blkio.go: weights, per-device weights,
// throttles), hugetlb (hugetlb.go), net_cls and net_prio (net.go, v1
// only), rdma (rdma.go) and devices. File names and v1→v2 conversions
// follow runc; docs/cgroups.md has the table and where rt differs. What
// cgroup v2 cannot do (network, realtime, leaf weights) is refused by New.
// A value for a controller or file the host lacks is an error naming the
// field ([ErrNotMounted] for errors.Is). [CheckResources] checks the names
// that become parts of control files (page sizes, interface and RDMA
// device names, device numbers) before any write.
// memory.kernel*, useHierarchy are ignored, as by runc 1.1+.
//
// # Live containers: update, stats, OOM, kill
//
// [Update] is Set for `rt update`: devices only when given (last), and all
// or nothing (every control file is read before its first write and
// written back if a later write fails). [GetStats] reads the counters into
// [Stats], which marshals to runc's `events --stats` shape. [NotifyOOM]
// watches for OOM kills (v1: eventfd on memory.oom_control; v2: inotify on
// memory.events, "oom_kill" rising). [Kill] SIGKILLs the whole cgroup (v2:
// cgroup.kill). docs/cgroups.md has the file-by-file tables.
//
// # Rootless
//
// With Config.Rootless (an unprivileged rt, or --rootless true), New leaves
// out the hierarchies (v1) or the cgroup (v2) the caller may neither create
// nor join, unless a resource in Config.Resources needs them or an explicit
// Config.Path is usable nowhere (errors naming the field); with nothing
// left it returns a Manager without a cgroup (empty Paths). rootless.go
// and docs/rootless.md have the rules.
//
// # Devices on cgroup v2
//
// Cgroup v2 has no devices controller. When linux.resources.devices is
// present (non-nil), the v2 Set compiles it into a BPF_PROG_TYPE_CGROUP_DEVICE
// program (devices_v2.go: per access bit, the last matching rule wins;
// nothing matched is denied), loads it and attaches it to the cgroup with
// BPF_F_ALLOW_MULTI, then detaches the programs named "rt_devices" that an
// earlier Set attached (bpf.go), so an update never leaves the cgroup
// without a filter. Programs of other owners stay attached. An absent
// (nil) list leaves the attached program alone; an empty list denies every
// device. The programs go away with the cgroup.
package cgroups
