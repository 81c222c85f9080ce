package libct

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/nsenter"
)

// timeNSPrep handles a new time namespace (CLONE_NEWTIME in a.Clone),
// which clone3 can't make: its offsets freeze once a process is inside.
// It takes CLONE_NEWTIME out of a and returns the step that, on the
// spawning thread (spawnWithAttrs runs it on a fresh locked one, thrown
// away after), unshares a time namespace for that thread's children and
// writes linux.timeOffsets into it; the init (and on the join path the
// intermediate) is then born in it, and no later child of rt is.
func timeNSPrep(a *nsenter.Attr, offsets map[string]specs.LinuxTimeOffset) func() error {
	if a.Clone&unix.CLONE_NEWTIME == 0 {
		return nil
	}
	a.Clone &^= unix.CLONE_NEWTIME
	a.NoSharedMemory = true
	return func() error {
		if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
			return fmt.Errorf("linux.namespaces: time namespace: %w", err)
		}
		return writeTimeOffsets(offsets)
	}
}

// writeTimeOffsets writes the offsets into the calling thread's time
// namespace for children, in one write.
func writeTimeOffsets(offsets map[string]specs.LinuxTimeOffset) error {
	if len(offsets) == 0 {
		return nil
	}
	clocks := make([]string, 0, len(offsets))
	for k := range offsets {
		clocks = append(clocks, k)
	}
	sort.Strings(clocks)
	var b strings.Builder
	for _, k := range clocks {
		fmt.Fprintf(&b, "%s %d %d\n", k, offsets[k].Secs, offsets[k].Nanosecs)
	}
	// Per thread: /proc/TID (task/TID has no timens_offsets).
	if err := writeProc(fmt.Sprintf("/proc/%d/timens_offsets", unix.Gettid()), b.String()); err != nil {
		return fmt.Errorf("linux.timeOffsets %q: %w", b.String(), err)
	}
	return nil
}

func timeOffsets(s *specs.Spec) map[string]specs.LinuxTimeOffset {
	if s.Linux == nil {
		return nil
	}
	return s.Linux.TimeOffsets
}
