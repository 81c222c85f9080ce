//go:build !cgo

package seccomp

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// errNoCgo is what a build without cgo answers for any profile.
var errNoCgo = errors.New("linux.seccomp: this rt was built without cgo/libseccomp")

// Compile needs libseccomp: without cgo it refuses every profile.
func Compile(s *specs.LinuxSeccomp) (*Program, []string, error) {
	return nil, nil, errNoCgo
}

// libVersion keys the cache; a build without cgo never fills it.
func libVersion() string { return "no libseccomp" }
