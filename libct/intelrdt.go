package libct

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/state"
)

// linux.intelRdt: the init joins a resctrl group (its PID goes to the
// group's "tasks" file). The group is linux.intelRdt.closID, or the
// container ID without one. With schemata (l3CacheSchema, memBwSchema,
// schemata) rt makes the group if it does not exist and writes them; an
// existing group must already hold them. A closID without schemata
// names a group that must exist. rt removes only a group it made, at
// delete. Untested here: the development machines have no resctrl.

// resctrlRoot returns where the resctrl filesystem is mounted.
func resctrlRoot() (string, error) {
	ms, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("resctrl"))
	if err != nil {
		return "", fmt.Errorf("linux.intelRdt: read mountinfo: %w", err)
	}
	if len(ms) == 0 {
		return "", errors.New("linux.intelRdt: no resctrl filesystem is mounted on this host " +
			"(it needs Intel RDT or AMD QoS hardware and `mount -t resctrl resctrl /sys/fs/resctrl`); remove linux.intelRdt")
	}
	return ms[0].Mountpoint, nil
}

// checkIntelRdt refuses linux.intelRdt before anything is made when the
// host cannot do it.
func checkIntelRdt(r *specs.LinuxIntelRdt) error {
	if r == nil {
		return nil
	}
	if r.EnableMonitoring {
		return errors.New("linux.intelRdt.enableMonitoring: not supported yet")
	}
	if r.MemBwSchema != "" && (!strings.HasPrefix(r.MemBwSchema, "MB:") || strings.Contains(r.MemBwSchema, "\n")) {
		return fmt.Errorf("linux.intelRdt.memBwSchema: %q must be one line starting with MB:", r.MemBwSchema)
	}
	_, err := resctrlRoot()
	return err
}

// schemataLines are the lines linux.intelRdt asks for, in write order:
// l3CacheSchema (without its MB: lines when memBwSchema is set), then
// memBwSchema, then schemata.
func schemataLines(r *specs.LinuxIntelRdt) []string {
	var out []string
	for _, l := range strings.Split(r.L3CacheSchema, "\n") {
		if l = strings.TrimSpace(l); l != "" && !(r.MemBwSchema != "" && strings.HasPrefix(l, "MB:")) {
			out = append(out, l)
		}
	}
	if r.MemBwSchema != "" {
		out = append(out, r.MemBwSchema)
	}
	for _, s := range r.Schemata {
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// applyIntelRdt puts the init (pid) into its resctrl group, making and
// recording the group first if needed.
func applyIntelRdt(h *state.Handle, st *state.State, r *specs.LinuxIntelRdt, pid int) error {
	if r == nil {
		return nil
	}
	root, err := resctrlRoot()
	if err != nil {
		return err
	}
	name := r.ClosID
	if name == "" {
		name = st.ID
	}
	dir := filepath.Join(root, name)
	lines := schemataLines(r)
	_, statErr := os.Stat(dir)
	switch {
	case statErr == nil && len(lines) > 0:
		have, err := os.ReadFile(filepath.Join(dir, "schemata"))
		if err != nil {
			return fmt.Errorf("linux.intelRdt: %w", err)
		}
		if err := schemataMatch(string(have), lines); err != nil {
			return fmt.Errorf("linux.intelRdt: group %s exists with other schemata: %w", dir, err)
		}
	case statErr == nil:
	case r.ClosID != "" && len(lines) == 0:
		return fmt.Errorf("linux.intelRdt.closID: no resctrl group %s (without schemata it must exist)", dir)
	default:
		st.Resctrl, st.ResctrlMade = dir, true
		if err := h.Save(st); err != nil {
			return err
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("linux.intelRdt: make resctrl group: %w", err)
		}
		for _, l := range lines {
			if err := os.WriteFile(filepath.Join(dir, "schemata"), []byte(l+"\n"), 0); err != nil {
				return fmt.Errorf("linux.intelRdt: write schemata %q: %w (see %s)", l, err, filepath.Join(root, "info", "last_cmd_status"))
			}
		}
	}
	if st.Resctrl == "" {
		st.Resctrl = dir
		if err := h.Save(st); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "tasks"), []byte(strconv.Itoa(pid)), 0); err != nil {
		return fmt.Errorf("linux.intelRdt: join resctrl group %s: %w", dir, err)
	}
	return nil
}

// schemataMatch checks that every wanted line is in the group's schemata
// file (which lists every resource, so it may hold more).
func schemataMatch(have string, want []string) error {
	got := map[string]bool{}
	for _, l := range strings.Split(have, "\n") {
		got[strings.ReplaceAll(strings.TrimSpace(l), " ", "")] = true
	}
	for _, w := range want {
		if !got[strings.ReplaceAll(w, " ", "")] {
			return fmt.Errorf("line %q is not in it", w)
		}
	}
	return nil
}

// removeIntelRdt removes the resctrl group rt made (its tasks go back to
// the default group); best effort.
func removeIntelRdt(st *state.State) {
	if st.ResctrlMade && st.Resctrl != "" {
		os.Remove(st.Resctrl)
	}
}
