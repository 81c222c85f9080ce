package initexe

import "github.com/rt-oci/rt/nsenter"

// Open returns a close-on-exec descriptor of the init executable.
func Open() (int, error) {
	if len(embedded) > 0 {
		return nsenter.SealedBytes("rt-init", embedded)
	}
	return nsenter.SealedSelf()
}

// Embedded reports whether a separate init program is built in.
func Embedded() bool { return len(embedded) > 0 }
