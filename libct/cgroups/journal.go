package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// Missing returns the directories of paths that do not exist yet, with
// their missing ancestors, outermost first: what Create is about to make,
// so a journal can record it before it is made.
func Missing(paths map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var chain []string
		for d := filepath.Clean(paths[k]); d != "/" && d != "."; d = filepath.Dir(d) {
			if _, err := os.Stat(d); err == nil {
				break
			}
			chain = append(chain, d)
		}
		for i := len(chain) - 1; i >= 0; i-- {
			if !seen[chain[i]] {
				seen[chain[i]] = true
				out = append(out, chain[i])
			}
		}
	}
	return out
}

// RemoveEmpty removes dirs (as returned by Missing) deepest first, leaving
// any that are gone already or still in use (another container may share
// a parent).
func RemoveEmpty(dirs []string) error {
	sorted := append([]string(nil), dirs...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	var errs []error
	for _, d := range sorted {
		err := rmdirFn(d)
		if err == nil || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EBUSY) ||
			errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
			continue
		}
		errs = append(errs, &os.PathError{Op: "rmdir", Path: d, Err: err})
	}
	return errors.Join(errs...)
}

// Unlisted returns the directories m's Create made that are not in
// listed (the journal's Missing result): an ancestor that existed when
// the journal was written and that a concurrent delete removed before
// Create made it again. Nobody's record lists it, so the caller hands it
// to whatever removes shared parents (libct's @cgroup-parents).
func Unlisted(m Manager, listed []string) []string {
	var made []string
	switch x := m.(type) {
	case *v1Manager:
		made = x.made
	case *v2Manager:
		made = x.made
	}
	in := map[string]bool{}
	for _, d := range listed {
		in[d] = true
	}
	var out []string
	for _, d := range made {
		if !in[d] {
			out = append(out, d)
		}
	}
	return out
}
