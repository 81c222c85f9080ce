package libct

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/nsenter"
)

// spawnIn starts the init. With a new time namespace (clone has
// CLONE_NEWTIME) it can't come from clone3 alone: a time namespace's
// offsets are frozen once a process is in it. So a thread of its own
// unshares a time namespace for its children, writes linux.timeOffsets
// into it, and spawns there; the init (and, on the join path, the
// intermediate) is born in it. That thread is never unlocked, so it ends
// with its goroutine and no later child of rt lands in the namespace.
func spawnIn(a *nsenter.Attr, offsets map[string]specs.LinuxTimeOffset) (*nsenter.Process, error) {
	if a.Clone&unix.CLONE_NEWTIME == 0 {
		return nsenter.Spawn(a)
	}
	attr := *a
	attr.Clone &^= unix.CLONE_NEWTIME
	type result struct {
		p   *nsenter.Process
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
			done <- result{err: fmt.Errorf("linux.namespaces: time namespace: %w", err)}
			return
		}
		if err := writeTimeOffsets(offsets); err != nil {
			done <- result{err: err}
			return
		}
		p, err := nsenter.Spawn(&attr)
		done <- result{p, err}
	}()
	r := <-done
	return r.p, r.err
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
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/timens_offsets", unix.Gettid()), os.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.timeOffsets: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		return fmt.Errorf("linux.timeOffsets: write %q: %w", b.String(), err)
	}
	return nil
}

func timeOffsets(s *specs.Spec) map[string]specs.LinuxTimeOffset {
	if s.Linux == nil {
		return nil
	}
	return s.Linux.TimeOffsets
}
