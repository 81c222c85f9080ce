//go:build !cgo && !rt_embed_seccomp

package seccomp

import (
	"errors"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCompileWithoutCgo: a build without libseccomp refuses profiles with
// a clear error, and so does the cache, leaving no file behind.
func TestCompileWithoutCgo(t *testing.T) {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	if _, _, err := Compile(s); !errors.Is(err, errNoCgo) || err.Error() != "linux.seccomp: this rt was built without cgo/libseccomp" {
		t.Errorf("Compile: %v", err)
	}
	dir := t.TempDir()
	if _, _, err := Cached(dir, s); !errors.Is(err, errNoCgo) {
		t.Errorf("Cached: %v", err)
	}
}
