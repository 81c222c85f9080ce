package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/spec"
)

// Overlay mounts (mounts[i].type "overlay") are made with the new mount
// API: fsopen, one fsconfig per option, fsmount, then move_mount onto the
// destination resolved inside the rootfs. Setting the options one by one
// lets an error name the option the kernel refused, with the kernel's own
// message from the filesystem context's log.

// fsContext is a filesystem being configured (an fsopen descriptor).
type fsContext struct {
	fd     int
	fstype string
}

// fsError is a refusal by the kernel of one step of making a filesystem.
type fsError struct {
	What string // the option ("upperdir=/x") or step ("create")
	Log  string // the kernel's messages, if any
	Err  error
}

func (e *fsError) Error() string {
	if e.Log != "" {
		return fmt.Sprintf("%s: %s: %v", e.What, e.Log, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.What, e.Err)
}

func (e *fsError) Unwrap() error { return e.Err }

// unknownParam reports a kernel that does not know the option at all.
func unknownParam(err error) bool {
	var fe *fsError
	return errors.As(err, &fe) && errors.Is(fe.Err, unix.EINVAL) && strings.Contains(fe.Log, "nknown parameter")
}

func newFS(fstype string) (*fsContext, error) {
	fd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	return &fsContext{fd: fd, fstype: fstype}, nil
}

func (f *fsContext) close() { unix.Close(f.fd) }

// log drains the context's message log ("e overlayfs: ...", "w ...").
func (f *fsContext) log() string {
	var msgs []string
	buf := make([]byte, 1024)
	for {
		n, err := unix.Read(f.fd, buf)
		if err != nil || n <= 0 {
			break
		}
		m := strings.TrimSpace(string(buf[:n]))
		if len(m) > 2 && m[1] == ' ' {
			m = m[2:]
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

func (f *fsContext) check(what string, err error) error {
	if err == nil {
		return nil
	}
	return &fsError{What: what, Log: f.log(), Err: err}
}

func (f *fsContext) set(key, value string) error {
	f.log()
	return f.check("option "+key+"="+value, unix.FsconfigSetString(f.fd, key, value))
}

func (f *fsContext) flag(key string) error {
	f.log()
	return f.check("option "+key, unix.FsconfigSetFlag(f.fd, key))
}

func (f *fsContext) setFd(key string, fd int, name string) error {
	f.log()
	return f.check("option "+key+"="+name, unix.FsconfigSetFd(f.fd, key, fd))
}

// mount creates the superblock and returns a detached mount of it.
func (f *fsContext) mount(attrs int) (*os.File, error) {
	f.log()
	if err := f.check("create "+f.fstype, unix.FsconfigCreate(f.fd)); err != nil {
		return nil, err
	}
	fd, err := unix.Fsmount(f.fd, unix.FSMOUNT_CLOEXEC, attrs)
	if err := f.check("fsmount "+f.fstype, err); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.fstype), nil
}

// moveTo attaches the detached mount mnt onto target (an O_PATH handle).
func moveTo(mnt, target *os.File) error {
	if err := unix.MoveMount(int(mnt.Fd()), "", int(target.Fd()), "",
		unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// overlayNative reports whether overlayfs takes the new mount API's
// options one by one (Linux 6.5+), judging each and resolving its paths at
// fsconfig time. Older kernels give it a legacy context that accepts any
// option and parses the whole string, paths included, at create; their
// reasons for a refusal go to the kernel log only.
var overlayNative = sync.OnceValue(func() bool {
	fd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.FsconfigSetString(fd, "rt-probe", "1") == unix.EINVAL
})

// setLowers sets the lower layers, uppermost first, and the data-only
// layers: one lowerdir+/datadir+ each (Linux 6.8+), else one lowerdir
// string ("\" escapes ":" and "\").
func setLowers(f *fsContext, lower, data []string) error {
	if !overlayNative() {
		return f.set("lowerdir", legacyLowerdir(lower, data))
	}
	err := f.set("lowerdir+", lower[0])
	if unknownParam(err) {
		return f.set("lowerdir", legacyLowerdir(lower, data))
	}
	if err != nil {
		return err
	}
	for _, l := range lower[1:] {
		if err := f.set("lowerdir+", l); err != nil {
			return err
		}
	}
	for _, d := range data {
		if err := f.set("datadir+", d); err != nil {
			return err
		}
	}
	return nil
}

func legacyLowerdir(lower, data []string) string {
	v := joinLowerdir(lower)
	if len(data) > 0 {
		v += "::" + joinLowerdir(data)
	}
	return v
}

func joinLowerdir(dirs []string) string {
	esc := strings.NewReplacer(`\`, `\\`, `:`, `\:`)
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = esc.Replace(d)
	}
	return strings.Join(out, ":")
}

// overlayFlags splits MS_* flags into fsmount attributes (per mount) and
// superblock flags, set by name with fsconfig. MS_SILENT only quiets the
// kernel log and is dropped; "acl" and "iversion" are refused by
// validation (overlayfs takes neither).
func overlayFlags(fl uintptr) (attrs int, sb []string) {
	attrs = fsmountAttrs(fl)
	for _, m := range []struct {
		ms   uintptr
		name string
	}{
		{unix.MS_RDONLY, "ro"},
		{unix.MS_SYNCHRONOUS, "sync"},
		{unix.MS_DIRSYNC, "dirsync"},
		{unix.MS_LAZYTIME, "lazytime"},
		{unix.MS_MANDLOCK, "mand"},
	} {
		if fl&m.ms != 0 {
			sb = append(sb, m.name)
		}
	}
	return attrs, sb
}

// overlayMount performs a mounts[i] of type "overlay". Layer paths are
// host paths (like bind sources); relative ones are taken from the bundle.
// The destination is resolved inside the rootfs, and made only once the
// kernel accepted the overlay.
func overlayMount(root *os.File, c *Config, m specs.Mount, dest string, opts spec.MountOptions) error {
	o, err := spec.ParseOverlay(m.Options)
	if err != nil {
		return fmt.Errorf("options: %w", err)
	}
	fs, err := newFS("overlay")
	if err != nil {
		return err
	}
	defer fs.close()
	src := m.Source
	if src == "" {
		src = "overlay"
	}
	if err := fs.set("source", src); err != nil {
		return err
	}
	attrs, sb := overlayFlags(opts.Flags)
	for _, name := range sb {
		if err := fs.flag(name); err != nil {
			return err
		}
	}
	// Checked again here (validation did too): a kernel with a legacy
	// overlay context would only say "invalid argument".
	for _, l := range o.Layers() {
		p := spec.ResolveLayer(c.Bundle, l[1])
		if st, err := os.Stat(p); err != nil || !st.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			}
			return fmt.Errorf("option %s=%s: %w", l[0], p, err)
		}
	}
	resolve := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = spec.ResolveLayer(c.Bundle, p)
		}
		return out
	}
	if err := setLowers(fs, resolve(o.Lower), resolve(o.Data)); err != nil {
		return err
	}
	if o.Upper != "" {
		if err := fs.set("upperdir", spec.ResolveLayer(c.Bundle, o.Upper)); err != nil {
			return err
		}
		if err := fs.set("workdir", spec.ResolveLayer(c.Bundle, o.Work)); err != nil {
			return err
		}
	}
	for _, p := range o.Params {
		if p.Flag {
			err = fs.flag(p.Key)
		} else {
			err = fs.set(p.Key, p.Value)
		}
		if err != nil {
			return err
		}
	}
	mnt, err := fs.mount(attrs)
	if err != nil {
		return explainCreate(err, c.Bundle, o)
	}
	defer mnt.Close()
	target, err := mkdirIn(root, dest, 0o755)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := moveTo(mnt, target); err != nil {
		return err
	}
	return afterMount(root, dest, opts)
}

// explainCreate adds what rt can see to a refusal of the overlay as a
// whole, which some kernels explain only in the kernel log.
func explainCreate(err error, bundle string, o *spec.Overlay) error {
	var fe *fsError
	if !errors.As(err, &fe) || fe.Log != "" {
		return err
	}
	if o.Upper != "" {
		upper, work := spec.ResolveLayer(bundle, o.Upper), spec.ResolveLayer(bundle, o.Work)
		var su, sw unix.Statx_t
		if unix.Statx(unix.AT_FDCWD, upper, 0, unix.STATX_MNT_ID, &su) == nil &&
			unix.Statx(unix.AT_FDCWD, work, 0, unix.STATX_MNT_ID, &sw) == nil && su.Mnt_id != sw.Mnt_id {
			return fmt.Errorf("%w: upperdir %s and workdir %s must be on the same mount", err, upper, work)
		}
	}
	return fmt.Errorf("%w (the kernel log, dmesg, says why)", err)
}
