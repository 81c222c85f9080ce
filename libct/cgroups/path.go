package cgroups

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// fieldPath names linux.cgroupsPath in errors.
const fieldPath = "linux.cgroupsPath"

// cleanPath cleans p like runc's utils.CleanPath: ".." can never climb above
// "/" (absolute) or above the start (relative); relative stays relative.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	p = filepath.Clean(p)
	if !filepath.IsAbs(p) {
		p = filepath.Clean("/" + p)
		p, _ = filepath.Rel("/", p) // cannot fail: both are absolute
	}
	return p
}

// innerPath returns the cleaned cgroup path of c: absolute, or relative to
// the caller's cgroup. It rejects a path that names a hierarchy root or the
// caller's own cgroup.
func innerPath(c Config) (string, error) {
	p := c.Path
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("%s: %q contains a NUL byte", fieldPath, p)
	}
	if p == "" {
		// runc's cgroupfs default: "<id>" relative to the caller's cgroup.
		if err := checkID(c.ID); err != nil {
			return "", fmt.Errorf("%s: empty, and the container ID cannot name a cgroup: %w", fieldPath, err)
		}
		p = c.ID
	}
	inner := cleanPath(p)
	switch inner {
	case "/":
		return "", fmt.Errorf("%s: %q is the root of the cgroup hierarchy", fieldPath, c.Path)
	case ".":
		return "", fmt.Errorf("%s: %q is the caller's own cgroup", fieldPath, c.Path)
	}
	return inner, nil
}

func checkID(id string) error {
	switch {
	case id == "":
		return errors.New("no container ID")
	case id == "." || id == "..":
		return fmt.Errorf("invalid ID %q", id)
	case strings.ContainsAny(id, "/\x00"):
		return fmt.Errorf("invalid ID %q", id)
	}
	return nil
}

// cgroupDir joins inner to the mountpoint (absolute inner) or to base, the
// caller's cgroup directory (relative inner), and refuses a result that is
// the mountpoint itself, i.e. a hierarchy root.
func cgroupDir(mnt mount, base, inner string) (string, error) {
	var dir string
	if filepath.IsAbs(inner) {
		dir = filepath.Join(mnt.mountpoint, inner)
	} else {
		dir = filepath.Join(base, inner)
	}
	if err := checkInside(mnt.mountpoint, dir); err != nil {
		return "", fmt.Errorf("%s: %q resolves to %s, the root of the cgroup hierarchy: %w", fieldPath, inner, dir, err)
	}
	return dir, nil
}
