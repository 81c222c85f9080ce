//go:build !cgo && !rt_embed_seccomp

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

// Cached is Compile: without a compiler there is nothing to cache. (The
// cache is left out of builds without cgo, so the init, built without cgo,
// links no hashing for it.)
func Cached(dir string, s *specs.LinuxSeccomp) (*Program, []string, error) {
	return nil, nil, errNoCgo
}
