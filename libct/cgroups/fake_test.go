package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fake is a cgroupfs imitation in a temp dir. Its mkdir makes the control
// files the kernel would, its rmdir ignores them (but fails with EBUSY while
// cgroup.procs lists a pid or a sub-cgroup exists, as the kernel does), and
// every write is recorded in order.
type fake struct {
	t          *testing.T
	root       string
	mountinfo  string
	procCgroup string
	mounts     map[string][]string // mountpoint → controllers (v1) or nil (v2)

	mu     sync.Mutex
	writes []string // "path=value", relative to root
	// react, if set, runs after each write (to imitate the kernel
	// changing files, e.g. cgroup.events).
	react func(path, val string)
}

var v1Files = map[string]map[string]string{
	"cpu": {
		"cpu.shares": "1024", "cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000", "cpu.cfs_burst_us": "0",
		"cpu.rt_runtime_us": "0", "cpu.rt_period_us": "1000000", "cpu.idle": "0",
	},
	"cpuacct": {"cpuacct.usage": "0"},
	"cpuset":  {"cpuset.cpus": "", "cpuset.mems": ""},
	"memory": {
		"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "9223372036854771712",
		"memory.soft_limit_in_bytes": "9223372036854771712", "memory.swappiness": "60",
		"memory.oom_control": "oom_kill_disable 0",
	},
	"devices": {"devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm"},
	"freezer": {"freezer.state": "THAWED"},
	// blkio as with CFQ (before Linux 5.0); tests remove files for bfq.
	"blkio": {
		"blkio.weight": "500", "blkio.weight_device": "", "blkio.leaf_weight": "500", "blkio.leaf_weight_device": "",
		"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "",
		"blkio.throttle.read_iops_device": "", "blkio.throttle.write_iops_device": "",
	},
	"hugetlb": {
		"hugetlb.2MB.limit_in_bytes": "9223372036854771712", "hugetlb.2MB.rsvd.limit_in_bytes": "9223372036854771712",
		"hugetlb.1GB.limit_in_bytes": "9223372036854771712", "hugetlb.1GB.rsvd.limit_in_bytes": "9223372036854771712",
	},
	"net_cls":      {"net_cls.classid": "0"},
	"net_prio":     {"net_prio.ifpriomap": "lo 0\neth0 0", "net_prio.prioidx": "1"},
	"rdma":         {"rdma.max": "mlx5_0 hca_handle=max hca_object=max"},
	"pids":         {"pids.max": "max"},
	"name=systemd": {},
}

var v2Files = map[string]string{
	"cgroup.subtree_control": "", "cgroup.events": "populated 0\nfrozen 0\n", "cgroup.freeze": "0",
	"memory.max": "max", "memory.low": "0", "memory.swap.max": "max",
	"cpu.weight": "100", "cpu.max": "max 100000", "cpuset.cpus": "", "cpuset.mems": "",
	"pids.max": "max", "io.weight": "default 100", "io.max": "", "memory.high": "max",
	"cpu.max.burst": "0", "cpu.idle": "0", "hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max",
	"hugetlb.1GB.max": "max", "hugetlb.1GB.rsvd.max": "max", "rdma.max": "mlx5_0 hca_handle=max hca_object=max",
}

// writeAll writes files in dir in place, new content first and the
// truncation after, so that a reader polling a file (the freezer tests)
// never sees it empty, and inotify watches (the OOM tests) see the change.
func writeAll(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, val := range files {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteAt([]byte(val), 0)
		if err == nil {
			err = f.Truncate(int64(len(val)))
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// newFakeV1 makes a hybrid-looking host: one mount per entry of hier (a
// comma-separated controller list, e.g. "cpu,cpuacct"), plus an empty
// cgroup2 mount. own maps controller → the caller's cgroup ("/" if absent).
func newFakeV1(t *testing.T, hier []string, own map[string]string) *fake {
	f := &fake{t: t, root: t.TempDir(), mounts: map[string][]string{}}
	var mi, pc strings.Builder
	fmt.Fprintf(&mi, "30 22 0:27 / %s rw,relatime - tmpfs tmpfs rw,mode=755\n", f.root)
	for i, h := range hier {
		ctrls := strings.Split(h, ",")
		name := strings.TrimPrefix(h, "name=")
		mp := filepath.Join(f.root, name)
		if err := os.Mkdir(mp, 0o755); err != nil {
			t.Fatal(err)
		}
		f.mounts[mp] = ctrls
		f.populateV1(mp, ctrls)
		if h == "cpuset" {
			writeAll(t, mp, map[string]string{"cpuset.cpus": "0-3", "cpuset.mems": "0"})
		}
		opts := "rw," + h
		if strings.HasPrefix(h, "name=") {
			opts = "rw,xattr," + h
		}
		fmt.Fprintf(&mi, "%d 30 0:%d / %s rw,nosuid,nodev,noexec,relatime shared:%d - cgroup cgroup %s\n", 31+i, 28+i, mp, 9+i, opts)
		p := own[ctrls[0]]
		if p == "" {
			p = "/"
		}
		fmt.Fprintf(&pc, "%d:%s:%s\n", len(hier)-i, h, p)
	}
	uni := filepath.Join(f.root, "unified")
	if err := os.Mkdir(uni, 0o755); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&mi, "60 30 0:60 / %s rw,nosuid,nodev,noexec,relatime shared:40 - cgroup2 cgroup2 rw,nsdelegate\n", uni)
	pc.WriteString("0::/\n")
	f.finish(mi.String(), pc.String())
	return f
}

// newFakeV2 makes a unified host whose root offers ctrls; own is the
// caller's cgroup.
func newFakeV2(t *testing.T, ctrls string, own string) *fake {
	f := &fake{t: t, root: t.TempDir(), mounts: map[string][]string{}}
	mp := filepath.Join(f.root, "cgroup")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	f.mounts[mp] = nil
	writeAll(t, mp, map[string]string{"cgroup.controllers": ctrls, "cgroup.subtree_control": "", "cgroup.procs": ""})
	mi := fmt.Sprintf("30 22 0:27 / %s rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n", mp)
	f.finish(mi, "0::"+own+"\n")
	oldDevices := setDevicesV2Fn
	setDevicesV2Fn = f.setDevices
	t.Cleanup(func() { setDevicesV2Fn = oldDevices })
	return f
}

// setDevices stands in for attaching a device program: it compiles the
// rules and records the pseudo-write "DIR/<bpf-devices>=RULE;RULE;...".
func (f *fake) setDevices(dir string, rules []specs.LinuxDeviceCgroup) error {
	if _, err := deviceProgram(rules); err != nil {
		return err
	}
	list := make([]string, len(rules))
	for i, r := range rules {
		s, err := deviceRule(r)
		if err != nil {
			return err
		}
		if !r.Allow {
			s = "!" + s
		}
		list[i] = s
	}
	f.trace(filepath.Join(dir, "<bpf-devices>"), strings.Join(list, ";"))
	return nil
}

func (f *fake) finish(mi, pc string) {
	f.mountinfo = filepath.Join(f.root, "mountinfo")
	f.procCgroup = filepath.Join(f.root, "proc-cgroup")
	writeAll(f.t, f.root, map[string]string{"mountinfo": mi, "proc-cgroup": pc})
	oldMkdir, oldRmdir, oldTrace := mkdirFn, rmdirFn, traceWrite
	mkdirFn, rmdirFn, traceWrite = f.mkdir, f.rmdir, f.trace
	f.t.Cleanup(func() { mkdirFn, rmdirFn, traceWrite = oldMkdir, oldRmdir, oldTrace })
}

func (f *fake) host() *hostInfo {
	h, err := detect(f.mountinfo, f.procCgroup)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func (f *fake) populateV1(dir string, ctrls []string) {
	writeAll(f.t, dir, map[string]string{"cgroup.procs": "", "tasks": "", "cgroup.clone_children": "0"})
	for _, c := range ctrls {
		writeAll(f.t, dir, v1Files[c])
	}
}

// mountOf returns the fake mountpoint that holds p.
func (f *fake) mountOf(p string) (string, []string) {
	for mp, ctrls := range f.mounts {
		if p == mp || strings.HasPrefix(p, mp+"/") {
			return mp, ctrls
		}
	}
	f.t.Fatalf("%s is outside the fake mounts", p)
	return "", nil
}

func (f *fake) mkdir(p string, perm os.FileMode) error {
	if err := os.Mkdir(p, perm); err != nil {
		return err
	}
	mp, ctrls := f.mountOf(p)
	if ctrls != nil {
		f.populateV1(p, ctrls)
		return nil
	}
	avail, err := os.ReadFile(filepath.Join(mp, "cgroup.controllers"))
	if err != nil {
		return err
	}
	writeAll(f.t, p, v2Files)
	writeAll(f.t, p, map[string]string{"cgroup.controllers": string(avail), "cgroup.procs": ""})
	return nil
}

func (f *fake) rmdir(p string) error {
	entries, err := os.ReadDir(p)
	if err != nil {
		return unix.ENOENT
	}
	if b, _ := os.ReadFile(filepath.Join(p, "cgroup.procs")); strings.TrimSpace(string(b)) != "" {
		return unix.EBUSY
	}
	for _, e := range entries {
		if e.IsDir() {
			return unix.EBUSY
		}
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(p, e.Name())); err != nil {
			return err
		}
	}
	return unix.Rmdir(p)
}

func (f *fake) trace(p, val string) {
	f.mu.Lock()
	rel, _ := filepath.Rel(f.root, p)
	f.writes = append(f.writes, rel+"="+val)
	react := f.react
	f.mu.Unlock()
	if react != nil {
		react(p, val)
	}
}

func (f *fake) takeWrites() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.writes
	f.writes = nil
	return w
}

// read returns the trimmed content of a file below the fake root.
func (f *fake) read(rel string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, rel))
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func (f *fake) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(f.root, rel))
	return !errors.Is(err, os.ErrNotExist)
}

func (f *fake) path(rel string) string { return filepath.Join(f.root, rel) }

func ptr[T any](v T) *T { return &v }
