package libct

import (
	"encoding/json"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/state"
)

// parentsFile, under the state root, lists parent cgroup directories rt
// made for containers (their cgroupsPath's missing ancestors) that a
// delete could not remove because another container still used them.
// Only the create that made a parent records it, so without this list the
// parent outlived its last container. Every delete retries the list.
const parentsFile = "@cgroup-parents"

// sweepParents removes the listed parents that are empty now, adds the
// parents of this delete that are still in use, and rewrites the list.
// The state root's own flock serialises it between rt processes.
func sweepParents(root string, dirs []string) {
	left := existing(dirs)
	if _, err := os.Stat(filepath.Join(root, parentsFile)); err != nil && len(left) == 0 {
		return // the common case: nothing pending
	}
	l, ok := lockParents(root)
	if !ok {
		return
	}
	defer l.close()
	all := l.with(left)
	if len(left) > 0 {
		// Listed before they are tried: another container's delete
		// that empties one of them meanwhile and finds no list (it
		// checks without the lock) leaves it to this removal, which then
		// comes after its own; one that finds the list waits for the lock
		// and retries it.
		l.save(all)
	}
	cgroups.RemoveEmpty(all)
	l.save(existing(all))
}

// listParents adds dirs to the list of shared parents (sweepParents
// removes them once empty).
func listParents(root string, dirs []string) {
	if l, ok := lockParents(root); ok {
		l.save(l.with(dirs))
		l.close()
	}
}

// parentsList is the list, read under the state root's flock.
type parentsList struct {
	fd   int
	path string
	list []string
}

func lockParents(root string) (*parentsList, bool) {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, false
	}
	l := &parentsList{fd: fd, path: filepath.Join(root, parentsFile)}
	if b, err := os.ReadFile(l.path); err == nil {
		json.Unmarshal(b, &l.list)
	}
	return l, true
}

func (l *parentsList) close() { unix.Close(l.fd) }

// with returns the list and dirs, without duplicates, in order.
func (l *parentsList) with(dirs []string) []string {
	seen := map[string]bool{}
	var all []string
	for _, d := range append(append([]string(nil), l.list...), dirs...) {
		if !seen[d] {
			seen[d] = true
			all = append(all, d)
		}
	}
	return all
}

// save writes list, or removes the file when it is empty.
func (l *parentsList) save(list []string) {
	if len(list) == 0 {
		os.Remove(l.path)
		return
	}
	if b, err := json.Marshal(list); err == nil {
		state.WriteFileAtomic(l.path, b, 0o600)
	}
}

// existing returns the dirs that exist.
func existing(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			out = append(out, d)
		}
	}
	return out
}
