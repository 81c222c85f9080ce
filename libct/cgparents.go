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
	var left []string
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			left = append(left, d)
		}
	}
	path := filepath.Join(root, parentsFile)
	if _, err := os.Stat(path); err != nil && len(left) == 0 {
		return // the common case: nothing pending
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return
	}
	var list []string
	if b, err := os.ReadFile(path); err == nil {
		json.Unmarshal(b, &list)
	}
	seen := map[string]bool{}
	var all []string
	for _, d := range append(list, left...) {
		if !seen[d] {
			seen[d] = true
			all = append(all, d)
		}
	}
	if len(left) > 0 {
		// Listed before they are tried: another container's delete
		// that empties one of them meanwhile and finds no list (it
		// checks without the lock) leaves it to this removal, which then
		// comes after its own; one that finds the list waits for the lock
		// and retries it.
		if b, err := json.Marshal(all); err == nil {
			state.WriteFileAtomic(path, b, 0o600)
		}
	}
	cgroups.RemoveEmpty(all)
	var keep []string
	for _, d := range all {
		if _, err := os.Stat(d); err == nil {
			keep = append(keep, d)
		}
	}
	if len(keep) == 0 {
		os.Remove(path)
		return
	}
	if b, err := json.Marshal(keep); err == nil {
		state.WriteFileAtomic(path, b, 0o600)
	}
}

// listParents adds dirs to the list of shared parents (sweepParents
// removes them once empty).
func listParents(root string, dirs []string) {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return
	}
	path := filepath.Join(root, parentsFile)
	var list []string
	if b, err := os.ReadFile(path); err == nil {
		json.Unmarshal(b, &list)
	}
	seen := map[string]bool{}
	for _, d := range list {
		seen[d] = true
	}
	for _, d := range dirs {
		if !seen[d] {
			seen[d] = true
			list = append(list, d)
		}
	}
	if b, err := json.Marshal(list); err == nil {
		state.WriteFileAtomic(path, b, 0o600)
	}
}
