package cgroups

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Update writes r into the live cgroup of a running (or paused) container,
// like Set, with two differences that matter for `rt update`:
//
//   - Devices are written only when r.Devices is non-nil, after everything
//     else (on v2 that replaces the eBPF program atomically; a nil list
//     leaves the attached program alone).
//   - It is all or nothing: before it first writes a control file it reads
//     the file's value, and if any write fails it writes the old values
//     back, newest first, so a refused value does not leave the cgroup half
//     updated. (Device rules on v1 are restored from devices.list.)
//
// The caller passes complete sections (all of memory, all of cpu), merged
// with what was set before, because some values are written relative to
// others (v1 memory+swap order, v2 swap = memsw - limit, cpu.max).
func Update(m Manager, r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	rest := *r
	rest.Devices = nil
	u := startUndo()
	err := m.Set(&rest)
	if err == nil && r.Devices != nil {
		err = m.Set(&specs.LinuxResources{Devices: r.Devices})
	}
	stopUndo()
	if err != nil {
		if uerr := u.run(); uerr != nil {
			return fmt.Errorf("%w (and restoring the previous values failed: %v)", err, uerr)
		}
	}
	return err
}

// The undo log of the Update in progress (nil outside Update). Writes go
// through writeFile, which calls noteWrite first.
var (
	undoMu  sync.Mutex
	undoLog *undoRecord
)

type undoRecord struct {
	seen  map[string]bool
	steps []func() error // in write order; run backwards
}

func startUndo() *undoRecord {
	undoMu.Lock()
	defer undoMu.Unlock()
	undoLog = &undoRecord{seen: map[string]bool{}}
	return undoLog
}

func stopUndo() {
	undoMu.Lock()
	defer undoMu.Unlock()
	undoLog = nil
}

// noteWrite records how to undo a write of val to dir/name, once per file.
// The caller calls the returned func if the write failed: a line for a new
// device that the kernel refused needs no undo (and the undo would fail
// the same way).
func noteWrite(dir, name, val string) (failed func()) {
	undoMu.Lock()
	defer undoMu.Unlock()
	if undoLog == nil {
		return func() {}
	}
	return undoLog.note(dir, name, val)
}

func (u *undoRecord) note(dir, name, val string) (failed func()) {
	failed = func() {}
	key := dir + "/" + name
	if name == "devices.allow" || name == "devices.deny" {
		key = dir + "/devices.list"
	}
	if reset, ok := keyedReset[name]; ok {
		// Each line names a device (or interface); one that had no line
		// before is reset.
		dev, _, _ := strings.Cut(val, " ")
		weights := name == "io.weight" || name == "io.bfq.weight"
		if dk := key + "\x00" + dev; !u.seen[dk] && (!weights || strings.Contains(dev, ":")) {
			u.seen[dk] = true
			if old, err := readFile(dir, name); err == nil && !hasLinePrefix(old, dev+" ") {
				refused := false
				failed = func() {
					undoMu.Lock()
					refused = true
					undoMu.Unlock()
				}
				u.steps = append(u.steps, func() error {
					if refused {
						return nil
					}
					return writeFile(dir, name, dev+" "+reset)
				})
			}
		}
	}
	if u.seen[key] {
		return failed
	}
	u.seen[key] = true
	switch name {
	case "devices.allow", "devices.deny":
		list, err := readFile(dir, "devices.list")
		if err != nil {
			return failed
		}
		u.steps = append(u.steps, func() error {
			if err := writeFile(dir, "devices.deny", "a"); err != nil {
				return err
			}
			for _, rule := range strings.Split(list, "\n") {
				if rule == "" {
					continue
				}
				if err := writeFile(dir, "devices.allow", rule); err != nil {
					return err
				}
			}
			return nil
		})
	case "memory.oom_control":
		old, err := readFile(dir, name)
		if err != nil {
			return failed
		}
		m, _ := parseKeyed(old)
		v := "0"
		if m["oom_kill_disable"] == 1 {
			v = "1"
		}
		u.steps = append(u.steps, func() error { return writeFile(dir, name, v) })
	default:
		old, err := readFile(dir, name)
		if err != nil || old == "" {
			return failed // a missing file fails the write too; "" cannot be written back
		}
		u.steps = append(u.steps, func() error {
			for _, line := range strings.Split(old, "\n") {
				if err := writeFile(dir, name, line); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return failed
}

// keyedReset: the control files that hold one line per device (io.weight
// and io.bfq.weight also a "default" line), and what undoes a line for a
// device that had none.
var keyedReset = map[string]string{
	"io.max":                           "rbps=max wbps=max riops=max wiops=max",
	"io.weight":                        "default",
	"io.bfq.weight":                    "default",
	"blkio.weight_device":              "0",
	"blkio.leaf_weight_device":         "0",
	"blkio.bfq.weight_device":          "default",
	"blkio.throttle.read_bps_device":   "0",
	"blkio.throttle.write_bps_device":  "0",
	"blkio.throttle.read_iops_device":  "0",
	"blkio.throttle.write_iops_device": "0",
	"rdma.max":                         "hca_handle=max hca_object=max",
}

func hasLinePrefix(s, prefix string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

// run writes the old values back, newest first, and keeps going after an
// error.
func (u *undoRecord) run() error {
	var errs []error
	for i := len(u.steps) - 1; i >= 0; i-- {
		if err := u.steps[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
