// Package hooks runs OCI hooks: each hook's path with its args and env
// exactly as configured, the container state JSON on stdin, and its
// timeout honoured. Errors name the hook (`hooks.prestart[0]`) and carry
// the hook's stderr.
package hooks
