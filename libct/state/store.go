package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/fastjson"
)

// Phase is what rt last recorded about a container. The status that
// `state` prints is derived from it and from the init process.
type Phase string

const (
	PhaseCreating Phase = "creating" // create is (or was, if its owner died) in progress
	PhaseCreated  Phase = "created"  // the init waits on the exec fifo
	PhaseStarted  Phase = "started"  // start released the init
)

// State is <root>/<id>/state.json. It is also create's journal: fields that
// name host resources are filled in before the resource is made.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Phase       Phase             `json:"phase"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`

	// The creating rt process, so a record whose creator died can be told
	// from one being made right now.
	Owner      int    `json:"owner"`
	OwnerStart uint64 `json:"ownerStart"`
	OwnerUID   int    `json:"ownerUID"`

	// The container's init.
	Pid      int    `json:"pid"`
	PidStart uint64 `json:"pidStart"`

	// Journal of host resources.
	CgroupPaths   map[string]string `json:"cgroupPaths,omitempty"`
	CgroupCreated bool              `json:"cgroupCreated,omitempty"`
	// CgroupDirs are the directories rt is about to make (or made), with
	// parents, outermost first; delete removes those left empty.
	CgroupDirs []string `json:"cgroupDirs,omitempty"`
	Fifo       bool     `json:"fifo,omitempty"`
	// Paused: pause froze the cgroup (status asks the freezer only then).
	Paused bool `json:"paused,omitempty"`

	// The hooks later commands run (poststart, poststop). The whole
	// validated config is kept beside, in config.json (ConfigPath).
	Hooks *specs.Hooks `json:"hooks,omitempty"`

	// CowDir holds the upper layer of a copy-on-write root kept on disk
	// (org.rt.rootfs.cow.dir=state), inside the state dir: recorded before
	// it is made, removed with the state dir.
	CowDir string `json:"cowDir,omitempty"`

	// NetDevices: linux.netDevices moved into the container's network
	// namespace, host name -> name inside (libct/netdev.go); recorded
	// before they move. Resctrl: the resctrl group of linux.intelRdt and
	// whether rt made it (libct/intelrdt.go); recorded before it is made.
	NetDevices  map[string]string `json:"netDevices,omitempty"`
	Resctrl     string            `json:"resctrl,omitempty"`
	ResctrlMade bool              `json:"resctrlMade,omitempty"`

	// SharedRoot: the container has no mount namespace; its init binds
	// the rootfs at this directory of the state dir, in rt's own mount
	// namespace, and builds the root there (libct/hostroot.go). Delete
	// detaches it before the state dir goes.
	SharedRoot string `json:"sharedRoot,omitempty"`

	// Keyring: the name of the container's session keyring, with a random
	// part so that no other container can guess it and join it (it is
	// only in this 0700 directory); "" with --no-new-keyring (the caller's
	// is kept). Exec joins it too (libct/initstage/keyring.go).
	Keyring string `json:"keyring,omitempty"`
}

// ErrNotExist is returned for an ID with no state directory. Its text
// contains "does not exist", which containerd matches.
var ErrNotExist = errors.New("does not exist")

// ErrExist is returned by Create for an ID already in use.
var ErrExist = errors.New("already exists")

// Store is a state root (--root).
type Store struct{ Root string }

// Dir is the state directory of id.
func (s Store) Dir(id string) string { return filepath.Join(s.Root, id) }

// Handle is a locked container directory.
type Handle struct {
	ID  string
	Dir string
	fd  int
}

// Create makes the directory of a new container, exclusively, and locks
// it. No other command ever sees the directory unlocked: it is made and
// locked under a private name, then renamed into place (newdir.go). One
// seen unlocked and without state.json would read as the debris of a
// crashed create, and a concurrent create of the same ID would reclaim it.
func (s Store) Create(id string) (*Handle, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.Root, 0o700); err != nil {
		return nil, fmt.Errorf("state root %s: %w", s.Root, err)
	}
	return s.createLocked(id)
}

// Open locks the directory of an existing container.
func (s Store) Open(id string) (*Handle, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	return lock(id, s.Dir(id))
}

func lock(id, dir string) (*Handle, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		if err == unix.ENOENT || err == unix.ENOTDIR {
			return nil, fmt.Errorf("container %q %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("open state dir %s: %w", dir, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock state dir %s: %w", dir, err)
	}
	// The directory may have been removed (delete) or replaced while we waited.
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Lstat(dir, &b) != nil || a.Ino != b.Ino || a.Dev != b.Dev {
		unix.Close(fd)
		return nil, fmt.Errorf("container %q %w", id, ErrNotExist)
	}
	return &Handle{ID: id, Dir: dir, fd: fd}, nil
}

// Close releases the lock.
// LockFd is the descriptor holding the lock, for a child to close:
// a forked copy would keep the lock.
func (h *Handle) LockFd() int { return h.fd }

func (h *Handle) Close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
}

// Load reads state.json. A directory without one (a create that died right
// after making it) gives a State in PhaseCreating with no owner.
func (h *Handle) Load() (*State, error) {
	b, err := os.ReadFile(filepath.Join(h.Dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return &State{ID: h.ID, Phase: PhaseCreating}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state of %q: %w", h.ID, err)
	}
	st := &State{}
	if err := fastjson.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("state of %q is corrupt (%s): %w", h.ID, filepath.Join(h.Dir, "state.json"), err)
	}
	// A record must name its own directory: `{}`, `null` or a copied
	// record would otherwise be listed and shown under another ID.
	if st.ID != h.ID {
		return nil, fmt.Errorf("state of %q is corrupt (%s): it names container %q", h.ID, filepath.Join(h.Dir, "state.json"), truncate(st.ID))
	}
	return st, nil
}

// Save writes state.json atomically.
func (h *Handle) Save(st *State) error {
	b, err := fastjson.Marshal(st)
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(h.Dir, "state.json"), b, 0o600)
}

// Remove deletes the container directory. The lock stays held until Close.
// It never descends into a mount: an entry that is still a mount point
// (a shared root that could not be detached) stops it with an error.
func (h *Handle) Remove() error {
	ents, _ := os.ReadDir(h.Dir)
	for _, e := range ents {
		if e.IsDir() && IsMountRoot(unix.AT_FDCWD, filepath.Join(h.Dir, e.Name())) {
			return fmt.Errorf("remove %s: %s is still a mount point", h.Dir, e.Name())
		}
	}
	return os.RemoveAll(h.Dir)
}

// IsMountRoot reports whether path, relative to dirfd ("" for dirfd
// itself) and not followed if a symlink, is the root of a mount.
func IsMountRoot(dirfd int, path string) bool {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if path == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	var x unix.Statx_t
	err := unix.Statx(dirfd, path, flags, unix.STATX_BASIC_STATS, &x)
	return err == nil && x.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 && x.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// ConfigPath is the copy of the container's config.json, as validated.
func (h *Handle) ConfigPath() string { return filepath.Join(h.Dir, "config.json") }

// FifoPath is the exec fifo that start writes to.
func (h *Handle) FifoPath() string { return filepath.Join(h.Dir, "exec.fifo") }

// List returns the IDs under the root, sorted.
func (s Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && ValidateID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// WriteFileAtomic writes b to a temp file beside path and renames it over
// path, so readers see the old or the new content, never a part, even if
// the writer is killed. There is no fsync: the state root is runtime state
// (normally a tmpfs, gone at reboot), and page-cache contents survive the
// death of the writing process, which is the crash rt guards against.
func WriteFileAtomic(path string, b []byte, mode os.FileMode) error {
	dir, base := filepath.Split(path)
	// Plain system calls, not os.CreateTemp: an *os.File costs a poller
	// registration attempt and a finalizer, and the mode is given at
	// creation (fchmod only if the umask took bits of it).
	var tmp string
	fd := -1
	var err error
	for i := 0; i < 100; i++ {
		tmp = dir + "." + base + ".tmp" + strconv.FormatUint(tmpSeq.Add(1)^uint64(time.Now().UnixNano()), 36)
		fd, err = unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(mode.Perm()))
		if err != unix.EEXIST && err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, &os.PathError{Op: "create", Path: tmp, Err: err})
	}
	for n := 0; n < len(b) && err == nil; {
		var m int
		m, err = unix.Write(fd, b[n:])
		if err == unix.EINTR {
			err = nil
			continue
		}
		n += m
	}
	if err == nil {
		var st unix.Stat_t
		if err = unix.Fstat(fd, &st); err == nil && os.FileMode(st.Mode).Perm() != mode.Perm() {
			err = unix.Fchmod(fd, uint32(mode.Perm()))
		}
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Rename(tmp, path)
	}
	if err != nil {
		unix.Unlink(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// tmpSeq makes WriteFileAtomic's temp names unique within the process.
var tmpSeq atomic.Uint64
