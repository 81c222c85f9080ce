package spec

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	tests := []struct {
		name string
		opts []string
		want MountOptions
	}{
		{"none", nil, MountOptions{}},
		{"tmpfs dev", []string{"nosuid", "strictatime", "mode=755", "size=65536k"}, MountOptions{
			Flags: unix.MS_NOSUID | unix.MS_STRICTATIME, Data: "mode=755,size=65536k"}},
		{"devpts", []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}, MountOptions{
			Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"}},
		{"cgroup", []string{"nosuid", "noexec", "nodev", "relatime", "ro"}, MountOptions{
			Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RELATIME | unix.MS_RDONLY}},
		{"bind", []string{"bind", "ro"}, MountOptions{Flags: unix.MS_BIND | unix.MS_RDONLY, Bind: true}},
		{"rbind", []string{"rbind", "rprivate"}, MountOptions{
			Flags: unix.MS_BIND | unix.MS_REC, Propagation: []uintptr{unix.MS_PRIVATE | unix.MS_REC},
			Bind: true, Recursive: true}},
		{"rw after ro", []string{"ro", "rw"}, MountOptions{ClearFlags: unix.MS_RDONLY}},
		{"ro after rw", []string{"rw", "ro"}, MountOptions{Flags: unix.MS_RDONLY}},
		{"clears", []string{"suid", "dev", "exec", "atime", "diratime", "async", "loud", "nomand", "noiversion",
			"nolazytime", "norelatime", "nostrictatime", "noacl", "symfollow"}, MountOptions{
			ClearFlags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOATIME | unix.MS_NODIRATIME |
				unix.MS_SYNCHRONOUS | unix.MS_SILENT | unix.MS_MANDLOCK | unix.MS_I_VERSION | unix.MS_LAZYTIME |
				unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_POSIXACL | unix.MS_NOSYMFOLLOW}},
		{"sets", []string{"sync", "dirsync", "mand", "iversion", "lazytime", "silent", "noatime", "nodiratime",
			"remount", "acl", "nosymfollow", "defaults"}, MountOptions{
			Flags: unix.MS_SYNCHRONOUS | unix.MS_DIRSYNC | unix.MS_MANDLOCK | unix.MS_I_VERSION | unix.MS_LAZYTIME |
				unix.MS_SILENT | unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_REMOUNT | unix.MS_POSIXACL |
				unix.MS_NOSYMFOLLOW}},
		{"propagation order", []string{"shared", "slave", "private", "unbindable", "rshared", "rslave", "runbindable"},
			MountOptions{Propagation: []uintptr{unix.MS_SHARED, unix.MS_SLAVE, unix.MS_PRIVATE, unix.MS_UNBINDABLE,
				unix.MS_SHARED | unix.MS_REC, unix.MS_SLAVE | unix.MS_REC, unix.MS_UNBINDABLE | unix.MS_REC}}},
		{"rec attrs", []string{"rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"}, MountOptions{
			RecAttrSet: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV |
				unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"rec clears", []string{"rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"}, MountOptions{
			RecAttrClr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV |
				unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"rec atime", []string{"rnoatime"}, MountOptions{RecAttrSet: unix.MOUNT_ATTR_NOATIME, RecAttrClr: unix.MOUNT_ATTR__ATIME}},
		{"rec strictatime", []string{"rstrictatime"}, MountOptions{RecAttrSet: unix.MOUNT_ATTR_STRICTATIME, RecAttrClr: unix.MOUNT_ATTR__ATIME}},
		{"rec relatime", []string{"rrelatime"}, MountOptions{RecAttrClr: unix.MOUNT_ATTR__ATIME}},
		{"rec ro then rw", []string{"rro", "rrw"}, MountOptions{RecAttrClr: unix.MOUNT_ATTR_RDONLY}},
		{"ratime", []string{"ratime", "rnostrictatime", "rnorelatime"}, MountOptions{
			RecAttrClr: unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_STRICTATIME}},
		{"idmap", []string{"bind", "idmap"}, MountOptions{Flags: unix.MS_BIND, Bind: true, IDMap: true}},
		{"ridmap", []string{"rbind", "ridmap"}, MountOptions{Flags: unix.MS_BIND | unix.MS_REC, Bind: true, Recursive: true,
			IDMap: true, RecursiveIDMap: true}},
		{"tmpcopyup", []string{"tmpcopyup", "mode=1777"}, MountOptions{TmpCopyUp: true, Data: "mode=1777"}},
		{"empty option ignored", []string{"", "size=1k", ""}, MountOptions{Data: "size=1k"}},
		{"data order", []string{"lowerdir=/a:/b", "ro", "upperdir=/u", "workdir=/w"}, MountOptions{
			Flags: unix.MS_RDONLY, Data: "lowerdir=/a:/b,upperdir=/u,workdir=/w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMountOptions(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseMountOptions(%q)\n got %+v\nwant %+v", tt.opts, got, tt.want)
			}
		})
	}
	if _, err := ParseMountOptions([]string{"mode=7\x00"}); err == nil {
		t.Error("NUL byte accepted")
	}
}

func TestPropagation(t *testing.T) {
	for name, want := range map[string]uintptr{
		"": 0, "private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
		"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
		"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
		"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
	} {
		got, err := Propagation(name)
		if err != nil || got != want {
			t.Errorf("Propagation(%q) = %#x, %v; want %#x", name, got, err, want)
		}
	}
	if _, err := Propagation("rbind"); err == nil {
		t.Error(`Propagation("rbind") accepted`)
	}
}
