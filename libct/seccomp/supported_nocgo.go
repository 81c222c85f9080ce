//go:build !cgo

package seccomp

// Supported tells whether this build can compile profiles (libseccomp).
const Supported = false
