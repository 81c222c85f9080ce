package libct

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// unsupported refuses config fields this build does not implement yet,
// rather than silently running a container weaker than asked for.
func unsupported(s *specs.Spec) error {
	if s.Process != nil && s.Process.Terminal {
		return errors.New("process.terminal: terminals (--console-socket) are not supported yet; set it to false")
	}
	if s.Linux == nil {
		return nil
	}
	if s.Linux.Seccomp != nil {
		return errors.New("linux.seccomp: not supported yet by this build")
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace || ns.Type == specs.TimeNamespace {
			return errors.New("linux.namespaces: " + string(ns.Type) + " namespaces are not supported yet")
		}
	}
	return nil
}
