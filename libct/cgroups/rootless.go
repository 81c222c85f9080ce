package cgroups

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Rootless containers (Config.Rootless): rt runs as a user who may write
// no cgroup but the ones delegated to it (a v1 directory chown'd to the
// user, a delegated v2 subtree). Like runc, rt then uses the cgroups the
// user may create and join and leaves out the others, as long as nothing
// needs them:
//
//   - a hierarchy (v1) or the cgroup (v2) the user can't use is left out
//     of Paths; if a resource in linux.resources needs it, New fails
//     naming that field;
//   - with an explicit linux.cgroupsPath, at least one hierarchy must be
//     usable (the user asked for that cgroup), else New fails naming
//     linux.cgroupsPath;
//   - device rules are never written (the caller leaves them out: the
//     devices controller and cgroup v2 device programs need
//     CAP_SYS_ADMIN), as runc ignores them rootless.
//
// With nothing usable, New returns a Manager that holds no cgroup: its
// Paths are empty and the container runs in the caller's cgroups.
//
// What "usable" means: the cgroup directory exists and the user may write
// its cgroup.procs, or the user may create it (write and search on its
// deepest existing ancestor). On v2, moving a process also needs write
// access to cgroup.procs of the common ancestor of the caller's cgroup and
// the target (the kernel's delegation rule).

// errNoPermission is wrapped when a rootless caller can't use a cgroup.
var errNoPermission = errors.New("not writable by this user")

// rootlessV1 leaves out of m the hierarchies the caller can't use.
func rootlessV1(m *v1Manager, c Config) (Manager, error) {
	dirs, ctrlOf := m.dirs()
	denied := map[string]error{} // controller → why
	var first error
	for _, dir := range dirs {
		err := usable(m.mounts[ctrlOf[dir]].mountpoint, dir, "")
		if err == nil {
			continue
		}
		if first == nil {
			first = err
		}
		for ctrl, d := range m.paths {
			if d == dir {
				denied[ctrl] = err
				delete(m.paths, ctrl)
				delete(m.mounts, ctrl)
			}
		}
	}
	if len(denied) == 0 {
		return m, nil
	}
	res := withoutDevices(c.Resources)
	for _, s := range v1Setters {
		why, ok := denied[s.ctrl]
		if !ok {
			continue
		}
		if f := s.want(res); f != "" {
			return nil, rootlessNeeds(f, why)
		}
	}
	if len(m.paths) > 0 {
		return m, nil
	}
	if c.Path != "" {
		return nil, rootlessPath(c.Path, first, len(dirs))
	}
	return none{}, nil
}

// rootlessV2 returns m if the caller can use its cgroup, else a Manager
// without a cgroup (or an error when something needs one).
func rootlessV2(h *hostInfo, m *v2Manager, c Config) (Manager, error) {
	own := ""
	if d, err := h.ownDir("", m.mnt); err == nil {
		own = d
	}
	err := usable(m.mnt.mountpoint, m.dir, own)
	if err == nil {
		return m, nil
	}
	res := withoutDevices(c.Resources)
	for _, s := range v2Setters {
		if f := s.want(res); f != "" {
			return nil, rootlessNeeds(f, err)
		}
	}
	if len(res.Unified) > 0 {
		return nil, rootlessNeeds("linux.resources.unified", err)
	}
	if c.Path != "" {
		return nil, rootlessPath(c.Path, err, 1)
	}
	return none{}, nil
}

// withoutDevices is r without its device rules (never written rootless).
func withoutDevices(r *specs.LinuxResources) *specs.LinuxResources {
	if r == nil {
		return &specs.LinuxResources{}
	}
	c := *r
	c.Devices = nil
	return &c
}

func rootlessNeeds(field string, why error) error {
	return fmt.Errorf("%s: rt runs rootless (as %s) and can't use the cgroup this needs: %w; "+
		"delegate a cgroup to the user (chown it to them) and point linux.cgroupsPath into it, or remove the limit",
		field, whoami(), why)
}

func rootlessPath(path string, why error, n int) error {
	more := ""
	if n > 1 {
		more = fmt.Sprintf(" (nor in the other %d hierarchies)", n-1)
	}
	return fmt.Errorf("%s: %q: rt runs rootless (as %s) and may not create or join it: %w%s; "+
		"delegate it to the user (chown it to them) or leave linux.cgroupsPath empty to run without a cgroup",
		fieldPath, path, whoami(), why, more)
}

func whoami() string {
	uid := os.Geteuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("user %s, uid %d", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// usable checks that the caller may create dir (below top) or join it if it
// exists. own, on v2, is the caller's cgroup: moving a process out of it
// needs cgroup.procs of the common ancestor to be writable too.
func usable(top, dir, own string) error {
	if err := usableDir(top, dir); err != nil {
		return err
	}
	if own == "" {
		return nil
	}
	anc := commonAncestor(own, dir)
	if !strings.HasPrefix(anc+"/", top+"/") {
		return fmt.Errorf("move into %s: it shares no cgroup with ours (%s): %w", dir, own, errNoPermission)
	}
	if err := canWrite(filepath.Join(anc, "cgroup.procs")); err != nil {
		return fmt.Errorf("move into %s from %s: %w", dir, own, err)
	}
	return nil
}

func usableDir(top, dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory", dir)
		}
		if err := canWrite(filepath.Join(dir, "cgroup.procs")); err != nil {
			return fmt.Errorf("join %s: %w", dir, err)
		}
		return nil
	}
	for d := filepath.Dir(dir); strings.HasPrefix(d+"/", top+"/"); d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			if err := canAccess(d, unix.W_OK|unix.X_OK); err != nil {
				return fmt.Errorf("create %s: %w", dir, err)
			}
			return nil
		}
		if d == top {
			break
		}
	}
	return fmt.Errorf("%s: no existing parent below %s", dir, top)
}

func canWrite(p string) error { return canAccess(p, unix.W_OK) }

// accessFn asks the kernel whether the effective IDs may access p (a
// test seam: tests run as root, who may access everything).
var accessFn = func(p string, mode uint32) error {
	return unix.Faccessat(unix.AT_FDCWD, p, mode, unix.AT_EACCESS)
}

// canAccess checks access to p.
func canAccess(p string, mode uint32) error {
	if err := accessFn(p, mode); err != nil {
		return fmt.Errorf("%s: %w (%w)", p, errNoPermission, err)
	}
	return nil
}

// commonAncestor returns the longest common directory of a and b.
func commonAncestor(a, b string) string {
	as, bs := strings.Split(filepath.Clean(a), "/"), strings.Split(filepath.Clean(b), "/")
	n := 0
	for n < len(as) && n < len(bs) && as[n] == bs[n] {
		n++
	}
	if n <= 1 {
		return "/"
	}
	return strings.Join(as[:n], "/")
}

// none is the Manager of a rootless container that has no cgroup of its
// own: it runs in its creator's cgroups, and nothing is made or removed.
type none struct{}

var errNoCgroup = errors.New("the container has no cgroup of its own (rootless without a delegated cgroup)")

func (none) Paths() map[string]string        { return nil }
func (none) Create() error                   { return nil }
func (none) Apply(int) error                 { return nil }
func (none) Set(*specs.LinuxResources) error { return nil }
func (none) Destroy() error                  { return nil }
func (none) Pids() ([]int, error)            { return nil, errNoCgroup }
func (none) Freeze() error                   { return errNoCgroup }
func (none) Thaw() error                     { return errNoCgroup }
func (none) Exists() bool                    { return false }
func (none) CgroupFd() (int, error)          { return -1, nil }
