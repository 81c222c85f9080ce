package security

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/spec"
)

// Caps is a resolved capability configuration: one bit mask per set.
type Caps struct {
	Bounding, Effective, Permitted, Inheritable, Ambient uint64
}

// ResolveCaps turns the names of process.capabilities into masks, naming
// the field of an unknown capability. A missing field means no
// capabilities.
func ResolveCaps(c *specs.LinuxCapabilities) (*Caps, error) {
	if c == nil {
		return &Caps{}, nil // none at all, as runc
	}
	r := &Caps{}
	sets := []struct {
		name  string
		names []string
		dst   *uint64
	}{
		{"bounding", c.Bounding, &r.Bounding},
		{"effective", c.Effective, &r.Effective},
		{"permitted", c.Permitted, &r.Permitted},
		{"inheritable", c.Inheritable, &r.Inheritable},
		{"ambient", c.Ambient, &r.Ambient},
	}
	for _, s := range sets {
		for i, n := range s.names {
			v, ok := spec.CapValue(strings.ToUpper(n))
			if !ok {
				return nil, fmt.Errorf("process.capabilities.%s[%d]: unknown capability %q", s.name, i, n)
			}
			*s.dst |= 1 << uint(v)
		}
	}
	return r, nil
}

// LastCap is the highest capability the kernel knows, probed with
// PR_CAPBSET_READ (EINVAL past the last one). Never read from
// /proc/sys/kernel/cap_last_cap: in the init that is the container's /proc,
// which an image or a container can fake to keep the bounding set full.
// Valid numbers form a prefix of 0..63, so a binary search takes six
// probes instead of one per capability.
func LastCap() int {
	lo, hi := 0, 63
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(mid), 0, 0, 0); err == nil {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// DropBounding removes every capability not in c.Bounding from the
// bounding set of the calling thread. Needs CAP_SETPCAP, so it runs before
// the user switch.
func (c *Caps) DropBounding() error {
	last := LastCap()
	for i := 0; i <= last; i++ {
		if c.Bounding&(1<<uint(i)) != 0 {
			continue
		}
		if err := dropBound(i); err != nil && err != unix.EINVAL {
			return fmt.Errorf("process.capabilities.bounding: drop capability %d: %w", i, err)
		}
	}
	return nil
}

// dropBound drops one capability from the bounding set of the calling
// thread, the one that execs. (The Go runtime's other threads keep theirs
// until the exec ends them; the init is non-dumpable, so nothing can
// borrow them meanwhile. Doing it on every thread with AllThreadsSyscall
// stops the world once per capability: ~4 ms.)
func dropBound(c int) error {
	return unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0)
}

// Apply sets the effective, permitted and inheritable sets of the calling
// thread, then raises the ambient ones.
func (c *Caps) Apply() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := 0; i < 2; i++ {
		data[i].Effective = uint32(c.Effective >> (32 * i))
		data[i].Permitted = uint32(c.Permitted >> (32 * i))
		data[i].Inheritable = uint32(c.Inheritable >> (32 * i))
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("process.capabilities: capset (effective %#x, permitted %#x, inheritable %#x): %w; rt's own bounding set may lack one of them",
			c.Effective, c.Permitted, c.Inheritable, err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("process.capabilities.ambient: clear: %w", err)
	}
	// Like runc, an ambient capability that is not both permitted and
	// inheritable is skipped (the kernel would refuse it), not an error:
	// `runc spec` configs carry such entries.
	raise := c.Ambient & c.Permitted & c.Inheritable
	for i := 0; i < 64; i++ {
		if raise&(1<<uint(i)) == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(i), 0, 0); err != nil {
			return fmt.Errorf("process.capabilities.ambient: raise capability %d: %w", i, err)
		}
	}
	return nil
}

// NoNewPrivs sets no_new_privs on the calling thread.
func NoNewPrivs() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("process.noNewPrivileges: %w", err)
	}
	return nil
}

// RaisePermitted makes every permitted capability of the calling thread
// effective (after a user switch with keep-caps only the permitted set
// survives). Used to load a seccomp filter, which needs CAP_SYS_ADMIN
// without no_new_privs, before the final sets are applied.
func RaisePermitted() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	for i := range data {
		data[i].Effective = data[i].Permitted
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}
