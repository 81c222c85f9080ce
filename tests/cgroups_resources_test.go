package tests

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Tests of the cgroup resources written since issue 4: blockIO throttles
// and per-device weights, cpu burst, idle and realtime, hugepageLimits,
// network and rdma (docs/cgroups.md). Each observes the control files on
// the host (cgroup v1 here; v2 in the cgroup-v2 VM, tests/cgv2), or the
// clear error for what the host lacks, and `rt update` of the same fields.
// The cpu tests are in cgroups_cpu_test.go, what the host may lack in
// cgroups_hostlacks_test.go.

// blockDev is a whole-disk block device number.
type blockDev struct {
	path         string // a device node on the host
	major, minor int64
}

func (d blockDev) num() string { return fmt.Sprintf("%d:%d", d.major, d.minor) }

func (d blockDev) throttle(rate uint64) []specs.LinuxThrottleDevice {
	return []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: d.major, Minor: d.minor}, Rate: rate}}
}

// scheduler returns the device's I/O scheduler ("bfq", "mq-deadline", ...).
func (d blockDev) scheduler() string {
	s, _ := os.ReadFile(fmt.Sprintf("/sys/dev/block/%s/queue/scheduler", d.num()))
	_, after, _ := strings.Cut(string(s), "[")
	name, _, _ := strings.Cut(after, "]")
	return name
}

func statDev(t *testing.T, path string) blockDev {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
		t.Fatalf("%s: not a block device (%v)", path, err)
	}
	return blockDev{path: path, major: int64(unix.Major(st.Rdev)), minor: int64(unix.Minor(st.Rdev))}
}

// testDisk is a whole disk whose limits are only written, never used:
// RT_TEST_IO_DEVICE (the VM's scratch disk), else the disk under "/".
func testDisk(t *testing.T) blockDev {
	t.Helper()
	if p := os.Getenv("RT_TEST_IO_DEVICE"); p != "" {
		return statDev(t, p)
	}
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	num := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	sys, err := filepath.EvalSymlinks("/sys/dev/block/" + num)
	if err != nil {
		t.Skipf("the root filesystem (%s) is not on a block device; set RT_TEST_IO_DEVICE", num)
	}
	if fileExists(filepath.Join(sys, "partition")) {
		sys = filepath.Dir(sys) // the whole disk
	}
	data, err := os.ReadFile(filepath.Join(sys, "dev"))
	if err != nil {
		t.Fatal(err)
	}
	var d blockDev
	if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "%d:%d", &d.major, &d.minor); err != nil {
		t.Fatal(err)
	}
	return d
}

// scratchDisk is a disk the test may write to: RT_TEST_IO_DEVICE, else (on
// the host) a loop device over a file, detached at the end. It must be
// called before newH, so the container is gone before the detach.
func scratchDisk(t *testing.T) blockDev {
	t.Helper()
	if p := os.Getenv("RT_TEST_IO_DEVICE"); p != "" {
		return statDev(t, p)
	}
	if unifiedHost() {
		t.Skip("needs RT_TEST_IO_DEVICE on cgroup v2 (run in tests/cgv2)")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("needs losetup for a scratch block device")
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 16<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v: %s", err, out)
	}
	path := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", path).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", path, err, out)
		}
	})
	return statDev(t, path)
}

// deviceLine returns the line of a control file for device num ("" if none).
func deviceLine(t *testing.T, file, num string) string {
	t.Helper()
	for _, l := range lines(hostFile(t, file)) {
		if strings.HasPrefix(l, num+" ") {
			return l
		}
	}
	return ""
}

// v1Mounted reports whether a cgroup v1 hierarchy with ctrl is mounted.
func v1Mounted(ctrl string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, post, ok := strings.Cut(sc.Text(), " - ")
		fs := strings.Fields(post)
		if !ok || len(fs) < 3 || fs[0] != "cgroup" {
			continue
		}
		for _, o := range strings.Split(fs[2], ",") {
			if o == ctrl {
				return true
			}
		}
	}
	return false
}

// refusedAlike checks a create that must fail with msg: one line, and
// nothing left (state, cgroups). Then the same change as an update of the
// running container id fails with msg too and changes nothing recorded.
func refusedAlike(t *testing.T, h *H, mut func(*specs.Spec), update, id string, msgs ...string) {
	t.Helper()
	b := h.Bundle(args("true"), mut)
	before := dirNames(h.Root)
	r := h.RT("run", "--bundle", b.Dir, h.ID("refused"))
	if r.Code == 0 || !containsAll(r.Stderr, msgs) || len(lines(r.Stderr)) != 1 {
		t.Errorf("create: %v\nwant one line with %q", r, msgs)
	}
	if after := dirNames(h.Root); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("refused create left %v under --root", after)
	}
	if ds := cgroupDirs(b.Cgroup); len(ds) > 0 {
		t.Errorf("refused create left cgroups %v", ds)
	}
	if update == "" {
		return
	}
	rec := jsonString(recorded(t, h, id))
	u := h.RTo(RunOpts{Stdin: update}, "update", "-r", "-", id)
	if u.Code == 0 || !containsAll(u.Stderr, msgs) || strings.Contains(u.Stderr, "restoring") {
		t.Errorf("update %s: %v\nwant a failure with %q", update, u, msgs)
	}
	if after := jsonString(recorded(t, h, id)); after != rec {
		t.Errorf("refused update changed the record:\n%s\n%s", rec, after)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestResourcesBlockIOThrottle: the four throttles of a disk go to the v1
// blkio.throttle.* files (one "MAJ:MIN RATE" line each) or to one v2
// io.max line; update changes one and lifts another (rate 0); a device
// the kernel refuses changes nothing.
func TestResourcesBlockIOThrottle(t *testing.T) {
	t.Parallel()
	d := testDisk(t)
	h := newH(t)
	b := h.Bundle(args("sleep", "1000"), func(s *specs.Spec) {
		resources(s).BlockIO = &specs.LinuxBlockIO{
			ThrottleReadBpsDevice: d.throttle(1 << 20), ThrottleWriteBpsDevice: d.throttle(2 << 20),
			ThrottleReadIOPSDevice: d.throttle(1000), ThrottleWriteIOPSDevice: d.throttle(2000),
		}
	})
	id, _ := h.StartDetached(b)
	n := d.num()
	check := func(when string, v1 [4]string, v2 string) {
		t.Helper()
		if unifiedHost() {
			if got := deviceLine(t, cgFile(b, "", "", "io.max"), n); got != v2 {
				t.Errorf("%s: io.max line %q, want %q", when, got, v2)
			}
			return
		}
		for i, f := range []string{"read_bps", "write_bps", "read_iops", "write_iops"} {
			want := ""
			if v1[i] != "" {
				want = n + " " + v1[i]
			}
			if got := deviceLine(t, cgFile(b, "blkio", "blkio.throttle."+f+"_device", ""), n); got != want {
				t.Errorf("%s: blkio.throttle.%s_device line %q, want %q", when, f, got, want)
			}
		}
	}
	check("after create", [4]string{"1048576", "2097152", "1000", "2000"}, n+" rbps=1048576 wbps=2097152 riops=1000 wiops=2000")

	h.MustRTo(RunOpts{Stdin: fmt.Sprintf(`{"blockIO":{"throttleReadBpsDevice":[{"major":%d,"minor":%d,"rate":4194304}],
		"throttleWriteIOPSDevice":[{"major":%[1]d,"minor":%[2]d,"rate":0}]}}`, d.major, d.minor)}, "update", "-r", "-", id)
	check("after update", [4]string{"4194304", "2097152", "1000", ""}, n+" rbps=4194304 wbps=2097152 riops=1000 wiops=max")
	if rec := recorded(t, h, id).BlockIO; rec == nil || len(rec.ThrottleReadBpsDevice) != 1 || rec.ThrottleReadBpsDevice[0].Rate != 4<<20 ||
		len(rec.ThrottleWriteIOPSDevice) != 1 || rec.ThrottleWriteIOPSDevice[0].Rate != 0 || len(rec.ThrottleWriteBpsDevice) != 1 {
		t.Errorf("recorded blockIO: %s", jsonString(rec))
	}

	// 0:0 is no disk: the kernel refuses it, and the whole update is undone.
	rec := jsonString(recorded(t, h, id))
	r := h.RTo(RunOpts{Stdin: `{"blockIO":{"throttleReadBpsDevice":[{"major":0,"minor":0,"rate":5}],"throttleWriteBpsDevice":[{"major":` +
		fmt.Sprint(d.major) + `,"minor":` + fmt.Sprint(d.minor) + `,"rate":12345}]}}`}, "update", "-r", "-", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux.resources.blockIO.throttleReadBpsDevice[1]: ") ||
		!strings.Contains(r.Stderr, "0:0 is not a whole-disk block device") || strings.Contains(r.Stderr, "restoring") {
		t.Errorf("update with device 0:0: %v", r)
	}
	check("after a refused update", [4]string{"4194304", "2097152", "1000", ""}, n+" rbps=4194304 wbps=2097152 riops=1000 wiops=max")
	if after := jsonString(recorded(t, h, id)); after != rec {
		t.Errorf("refused update changed the record:\n%s\n%s", rec, after)
	}
}

// TestResourcesThrottleSlowsWrites: a write throttle set at create holds
// direct writes inside the container to it (3 MiB at 1 MiB/s); update
// with rate 0 lifts it.
func TestResourcesThrottleSlowsWrites(t *testing.T) {
	t.Parallel()
	d := scratchDisk(t)
	h := newH(t)
	b := h.Bundle(sh(probeScript), writable, func(s *specs.Spec) {
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/dev/scratch", Type: "b", Major: d.major, Minor: d.minor})
		resources(s).BlockIO = &specs.LinuxBlockIO{ThrottleWriteBpsDevice: d.throttle(1 << 20)}
	})
	id, _ := h.StartDetached(b)
	timed := func() time.Duration {
		start := time.Now()
		out := probe(t, b, `dd if=/dev/zero of=/dev/scratch bs=64k count=48 oflag=direct 2>&1 && echo dd=ok`)
		if !strings.Contains(out, "dd=ok") {
			t.Fatalf("dd to %s: %s", d.path, out)
		}
		return time.Since(start)
	}
	limited := timed()
	if limited < 2*time.Second {
		t.Errorf("3 MiB at 1 MiB/s took %v", limited)
	}
	h.MustRTo(RunOpts{Stdin: fmt.Sprintf(`{"blockIO":{"throttleWriteBpsDevice":[{"major":%d,"minor":%d,"rate":0}]}}`, d.major, d.minor)},
		"update", "-r", "-", id)
	if free := timed(); free > limited/2 {
		t.Errorf("after lifting the throttle: %v (limited: %v)", free, limited)
	} else {
		t.Logf("3 MiB of direct writes to %s: %v at 1 MiB/s, %v free", d.path, limited, free)
	}
}

// TestResourcesWeightDevice: a per-device weight goes to
// blkio.bfq.weight_device (v1 without CFQ) or io.bfq.weight (v2) when the
// disk uses bfq (the loop device here; the VM's disk if bfq is loaded);
// for a disk on another scheduler the kernel refuses it and the error
// says why.
func TestResourcesWeightDevice(t *testing.T) {
	t.Parallel()
	d := scratchDisk(t)
	if os.Getenv("RT_TEST_IO_DEVICE") == "" && d.scheduler() != "bfq" {
		// Our own loop device: give it bfq.
		sched := fmt.Sprintf("/sys/dev/block/%s/queue/scheduler", d.num())
		if err := os.WriteFile(sched, []byte("bfq"), 0); err != nil {
			t.Logf("no bfq for %s: %v", d.path, err)
		}
	}
	h := newH(t)
	wd := func(w uint16) []specs.LinuxWeightDevice {
		return []specs.LinuxWeightDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: d.major, Minor: d.minor}, Weight: u16(w)}}
	}
	mut := func(s *specs.Spec) { resources(s).BlockIO = &specs.LinuxBlockIO{WeightDevice: wd(444)} }
	if d.scheduler() != "bfq" {
		t.Logf("%s uses %q, not bfq", d.path, d.scheduler())
		refusedAlike(t, h, mut, "", "", "linux.resources.blockIO.weightDevice[0].weight: ",
			"(per-device weights need the bfq I/O scheduler on "+d.num())
		return
	}
	b := h.Bundle(args("sleep", "1000"), mut)
	id, _ := h.StartDetached(b)
	file := cgFile(b, "blkio", "blkio.bfq.weight_device", "io.bfq.weight")
	if !unifiedHost() && fileExists(cgFile(b, "blkio", "blkio.weight_device", "")) {
		file = cgFile(b, "blkio", "blkio.weight_device", "") // CFQ
	}
	if got := deviceLine(t, file, d.num()); got != d.num()+" 444" {
		t.Errorf("%s: line %q, want %q", file, got, d.num()+" 444")
	}
	t.Logf("%s on bfq: %s", d.path, file)
	h.MustRTo(RunOpts{Stdin: fmt.Sprintf(`{"blockIO":{"weightDevice":[{"major":%d,"minor":%d,"weight":222}]}}`, d.major, d.minor)},
		"update", "-r", "-", id)
	if got := deviceLine(t, file, d.num()); got != d.num()+" 222" {
		t.Errorf("after update: %s line %q", file, got)
	}
}
