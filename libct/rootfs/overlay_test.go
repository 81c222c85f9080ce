package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/spec"
)

func TestJoinLowerdir(t *testing.T) {
	if got := joinLowerdir([]string{"/a", `/b:c`, `/d\e`}); got != `/a:/b\:c:/d\\e` {
		t.Fatalf("joinLowerdir: %q", got)
	}
}

func TestOverlayFlags(t *testing.T) {
	o, err := spec.ParseMountOptions([]string{"ro", "nosuid", "nodev", "noexec", "noatime", "sync", "silent"})
	if err != nil {
		t.Fatal(err)
	}
	attrs, sb := overlayFlags(o.Flags)
	want := unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOATIME
	if attrs != want || strings.Join(sb, ",") != "ro,sync" {
		t.Fatalf("overlayFlags: attrs %#x sb %v; want %#x [ro sync]", attrs, sb, want)
	}
}

// inMountNS runs f on a thread of its own in a new private mount
// namespace; the thread exits afterwards, and with it the namespace and
// every mount f made.
func inMountNS(t *testing.T, f func() error) error {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			done <- err
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			done <- err
			return
		}
		done <- f()
	}()
	return <-done
}

type errSkip struct{ err error }

func (e errSkip) Error() string { return e.err.Error() }

// treeSum lists every path under dir with its mode and content.
func treeSum(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(p + " " + fi.Mode().String())
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(p)
			b.Write(data)
		}
		b.WriteByte('\n')
		return nil
	})
	return b.String()
}

// The copy-on-write root in each of its forms: writes and deletions show
// through the overlay on root.path, root.path itself never changes, and
// the overlay's root keeps root.path's mode.
func TestCowRootModes(t *testing.T) {
	for _, mode := range []string{"detached", "attached", "disk"} {
		t.Run(mode, func(t *testing.T) {
			base := t.TempDir()
			rootfs := filepath.Join(base, "rootfs")
			os.MkdirAll(filepath.Join(rootfs, "etc"), 0o750)
			os.Chmod(rootfs, 0o751)
			os.WriteFile(filepath.Join(rootfs, "etc", "keep"), []byte("lower"), 0o644)
			os.WriteFile(filepath.Join(rootfs, "etc", "gone"), []byte("lower"), 0o644)
			before := treeSum(t, rootfs)
			c := &Config{Rootfs: rootfs}
			if mode == "disk" {
				c.CowDir = filepath.Join(base, "cow")
				os.Mkdir(c.CowDir, 0o700)
			}
			var seen string
			err := inMountNS(t, func() error {
				var st unix.Stat_t
				if err := unix.Stat(rootfs, &st); err != nil {
					return err
				}
				var err error
				switch mode {
				case "detached":
					err = cowInTmpfs(c, &st, true)
					if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
						return errSkip{err}
					}
				case "attached":
					err = cowInTmpfs(c, &st, false)
				default:
					err = mountCowRoot(c)
				}
				if err != nil {
					return err
				}
				os.WriteFile(filepath.Join(rootfs, "etc", "keep"), []byte("upper"), 0o644)
				os.WriteFile(filepath.Join(rootfs, "new"), []byte("new"), 0o644)
				if err := os.Remove(filepath.Join(rootfs, "etc", "gone")); err != nil {
					return err
				}
				keep, _ := os.ReadFile(filepath.Join(rootfs, "etc", "keep"))
				_, gone := os.Stat(filepath.Join(rootfs, "etc", "gone"))
				fi, _ := os.Stat(rootfs)
				seen = string(keep) + " " + fi.Mode().Perm().String() + " " + strconv.FormatBool(errors.Is(gone, os.ErrNotExist))
				return nil
			})
			var skip errSkip
			if errors.As(err, &skip) {
				t.Skipf("this kernel takes no layers by descriptor on a detached mount (rt falls back to the attached form): %v", skip.err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if seen != "upper -rwxr-x--x true" {
				t.Errorf("inside: %q, want the write, root.path's mode 751 and the deletion", seen)
			}
			if after := treeSum(t, rootfs); after != before {
				t.Errorf("root.path changed:\nbefore\n%s\nafter\n%s", before, after)
			}
			if mode == "disk" {
				if b, _ := os.ReadFile(filepath.Join(c.CowDir, "upper", "new")); string(b) != "new" {
					t.Errorf("on-disk upper layer lacks the new file")
				}
				var st unix.Stat_t
				if unix.Lstat(filepath.Join(c.CowDir, "upper", "etc", "gone"), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
					t.Errorf("on-disk upper layer lacks the whiteout of etc/gone")
				}
			}
		})
	}
}

func TestOverlayMountErrorsNameTheOption(t *testing.T) {
	base := t.TempDir()
	rootfs := filepath.Join(base, "rootfs")
	for _, d := range []string{"rootfs", "l1", "up", "wk"} {
		os.Mkdir(filepath.Join(base, d), 0o755)
	}
	c := &Config{Rootfs: rootfs, Bundle: base}
	shm, err := os.MkdirTemp("/dev/shm", "rt-unit-")
	if err != nil {
		t.Skip(err)
	}
	defer os.RemoveAll(shm)
	// Before Linux 6.5 overlayfs judges its options only as a whole, and
	// says why in the kernel log.
	bogus := "option bogus=1: overlay: Unknown parameter 'bogus'"
	if !overlayNative() {
		bogus = "create overlay: invalid argument (the kernel log, dmesg, says why)"
	}
	for _, tc := range []struct {
		opts []string
		want string
	}{
		{[]string{"lowerdir=l1:missing"}, "option lowerdir=" + filepath.Join(base, "missing") + ": stat "},
		{[]string{"lowerdir=l1", "upperdir=up", "workdir=wk", "bogus=1"}, bogus},
		{[]string{"lowerdir=l1", "upperdir=up", "workdir=" + shm}, "must be on the same mount"},
	} {
		err := inMountNS(t, func() error {
			root, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer root.Close()
			m := specs.Mount{Destination: "/ov", Type: "overlay", Options: tc.opts}
			opts, _ := spec.ParseMountOptions(m.Options)
			return overlayMount(root, c, m, "/ov", opts)
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.opts, err, tc.want)
		}
		if _, err := os.Stat(filepath.Join(rootfs, "ov")); err == nil {
			t.Errorf("%q: the destination was made although the mount failed", tc.opts)
		}
	}
}
