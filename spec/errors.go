package spec

import "fmt"

// FieldError is a problem with one config.json field. Its message is
// "<field>: <problem>", e.g. `process.cwd: must be an absolute path: "tmp"`.
type FieldError struct {
	// Field is the config.json path of the offending value, in JSON names
	// with indexes, e.g. "mounts[3].destination" or `linux.sysctl["net.x"]`.
	Field string
	// Msg describes the problem.
	Msg string
	// Err is the underlying error, if any (returned by Unwrap).
	Err error
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr builds a *FieldError with a formatted message. If args contain an
// error for a %w verb, it becomes the FieldError's Err.
func fieldErr(field, format string, args ...any) error {
	wrapped := fmt.Errorf(format, args...)
	fe := &FieldError{Field: field, Msg: wrapped.Error()}
	if u, ok := wrapped.(interface{ Unwrap() error }); ok {
		fe.Err = u.Unwrap()
	}
	return fe
}

// idx formats an indexed field path: idx("mounts", 3) == "mounts[3]".
func idx(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// key formats a map field path: key("linux.sysctl", "a.b") == `linux.sysctl["a.b"]`.
func key(field, k string) string { return fmt.Sprintf("%s[%q]", field, k) }
