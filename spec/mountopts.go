package spec

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// MountOptions is a parsed config.json mounts[i].options list.
type MountOptions struct {
	// Flags are the MS_* flags to set for mount(2).
	Flags uintptr
	// ClearFlags are MS_* flags an option explicitly cleared ("rw", "dev",
	// "suid", "exec", "atime", ...). A remount or bind-remount must drop
	// them from the flags it keeps.
	ClearFlags uintptr
	// Propagation lists propagation changes in the order given, each one
	// of MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE, maybe |MS_REC.
	Propagation []uintptr
	// Data is the filesystem-specific data: every option not in the tables,
	// comma-joined in the order given, e.g. "mode=755,size=65536k".
	Data string
	// RecAttrSet and RecAttrClr are MOUNT_ATTR_* bits for a recursive
	// mount_setattr(2) (the "rro", "rnosuid", ... options). When an atime
	// mode is set, RecAttrClr includes MOUNT_ATTR__ATIME as the kernel
	// requires.
	RecAttrSet, RecAttrClr uint64
	// Bind is true for "bind" and "rbind"; Recursive for "rbind".
	Bind, Recursive bool
	// IDMap records "idmap" or "ridmap" (an idmapped mount, see
	// mounts[i].uidMappings); RecursiveIDMap is also set for "ridmap".
	IDMap, RecursiveIDMap bool
	// TmpCopyUp records "tmpcopyup" (runc/crun extension: copy the
	// directory's original content into a new tmpfs; libct/rootfs/copyup.go).
	TmpCopyUp bool
}

// mountFlag is one entry of the MS_* option table: the option sets flag,
// or clears it when clear is true.
type mountFlag struct {
	clear bool
	flag  uintptr
}

var mountFlags = map[string]mountFlag{
	"acl":           {false, unix.MS_POSIXACL},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"atime":         {true, unix.MS_NOATIME},
	"bind":          {false, unix.MS_BIND},
	"defaults":      {false, 0},
	"dev":           {true, unix.MS_NODEV},
	"diratime":      {true, unix.MS_NODIRATIME},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"exec":          {true, unix.MS_NOEXEC},
	"iversion":      {false, unix.MS_I_VERSION},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"loud":          {true, unix.MS_SILENT},
	"mand":          {false, unix.MS_MANDLOCK},
	"noacl":         {true, unix.MS_POSIXACL},
	"noatime":       {false, unix.MS_NOATIME},
	"nodev":         {false, unix.MS_NODEV},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"noexec":        {false, unix.MS_NOEXEC},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"nomand":        {true, unix.MS_MANDLOCK},
	"norelatime":    {true, unix.MS_RELATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid":        {false, unix.MS_NOSUID},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"relatime":      {false, unix.MS_RELATIME},
	"remount":       {false, unix.MS_REMOUNT},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"silent":        {false, unix.MS_SILENT},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"suid":          {true, unix.MS_NOSUID},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
	"sync":          {false, unix.MS_SYNCHRONOUS},
}

var propagations = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// recAttr is one entry of the recursive mount_setattr(2) table.
type recAttr struct {
	clear bool
	attr  uint64
}

var recAttrs = map[string]recAttr{
	"rro":            {false, unix.MOUNT_ATTR_RDONLY},
	"rrw":            {true, unix.MOUNT_ATTR_RDONLY},
	"rnosuid":        {false, unix.MOUNT_ATTR_NOSUID},
	"rsuid":          {true, unix.MOUNT_ATTR_NOSUID},
	"rnodev":         {false, unix.MOUNT_ATTR_NODEV},
	"rdev":           {true, unix.MOUNT_ATTR_NODEV},
	"rnoexec":        {false, unix.MOUNT_ATTR_NOEXEC},
	"rexec":          {true, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime":    {false, unix.MOUNT_ATTR_NODIRATIME},
	"rdiratime":      {true, unix.MOUNT_ATTR_NODIRATIME},
	"rrelatime":      {false, unix.MOUNT_ATTR_RELATIME},
	"rnorelatime":    {true, unix.MOUNT_ATTR_RELATIME},
	"rnoatime":       {false, unix.MOUNT_ATTR_NOATIME},
	"ratime":         {true, unix.MOUNT_ATTR_NOATIME},
	"rstrictatime":   {false, unix.MOUNT_ATTR_STRICTATIME},
	"rnostrictatime": {true, unix.MOUNT_ATTR_STRICTATIME},
	"rnosymfollow":   {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	"rsymfollow":     {true, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// ParseMountOptions parses fstab-style mount options the way runc does:
// known MS_* options set or clear flags (later options win), propagation
// options are collected in order, r* options build a recursive
// mount_setattr(2) request, "idmap"/"ridmap"/"tmpcopyup" are recorded, and
// anything else is filesystem data. Empty options are ignored; an option
// containing a NUL byte is an error.
func ParseMountOptions(opts []string) (MountOptions, error) {
	var (
		m    MountOptions
		data []string
	)
	for _, o := range opts {
		if o == "" {
			continue
		}
		if strings.IndexByte(o, 0) >= 0 {
			return MountOptions{}, fmt.Errorf("mount option %q contains a NUL byte", o)
		}
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				m.Flags &^= f.flag
				m.ClearFlags |= f.flag
			} else {
				m.Flags |= f.flag
				m.ClearFlags &^= f.flag
			}
			continue
		}
		if p, ok := propagations[o]; ok {
			m.Propagation = append(m.Propagation, p)
			continue
		}
		if a, ok := recAttrs[o]; ok {
			if a.clear {
				m.RecAttrClr |= a.attr
				m.RecAttrSet &^= a.attr
				continue
			}
			m.RecAttrSet |= a.attr
			m.RecAttrClr &^= a.attr
			// mount_setattr(2): an access-time mode in attr_set needs
			// MOUNT_ATTR__ATIME in attr_clr. MOUNT_ATTR_RELATIME is 0.
			if a.attr&unix.MOUNT_ATTR__ATIME == a.attr {
				m.RecAttrClr |= unix.MOUNT_ATTR__ATIME
			}
			continue
		}
		switch o {
		case "idmap":
			m.IDMap = true
		case "ridmap":
			m.IDMap = true
			m.RecursiveIDMap = true
		case "tmpcopyup":
			m.TmpCopyUp = true
		default:
			data = append(data, o)
		}
	}
	m.Data = strings.Join(data, ",")
	m.Bind = m.Flags&unix.MS_BIND != 0
	m.Recursive = m.Bind && m.Flags&unix.MS_REC != 0
	return m, nil
}

// Propagation returns the mount(2) flags for a propagation name as used in
// linux.rootfsPropagation: "" gives 0 (the caller picks its default; runc
// uses MS_SLAVE|MS_REC), otherwise one of private, rprivate, shared,
// rshared, slave, rslave, unbindable, runbindable.
func Propagation(name string) (uintptr, error) {
	if name == "" {
		return 0, nil
	}
	if p, ok := propagations[name]; ok {
		return p, nil
	}
	return 0, fmt.Errorf("unknown propagation %q (want shared, slave, private, unbindable or their r* forms)", name)
}
