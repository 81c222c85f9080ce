//go:build !cgo && !rt_embed_seccomp

package seccomp

// Supported tells whether this build can compile profiles (libseccomp).
const Supported = false
