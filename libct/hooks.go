package libct

import (
	"encoding/json"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/rt-oci/rt/libct/hooks"
	"github.com/rt-oci/rt/libct/state"
)

// hookState is the state JSON a hook reads on stdin.
func hookState(st *state.State, status string) []byte {
	b, _ := json.Marshal(specs.State{
		Version: specs.Version, ID: st.ID, Status: specs.ContainerState(status),
		Pid: st.Pid, Bundle: st.Bundle, Annotations: st.Annotations,
	})
	return b
}

// runCreateHooks runs prestart (deprecated, same moment) and createRuntime
// in the runtime's namespaces, while the init waits before pivot_root.
func runCreateHooks(st *state.State) error {
	h := st.Hooks
	if h == nil {
		return nil
	}
	b := hookState(st, StatusCreating)
	if err := hooks.Run("prestart", h.Prestart, b); err != nil {
		return err
	}
	return hooks.Run("createRuntime", h.CreateRuntime, b)
}

// runPoststart runs the poststart hooks; a failure fails start.
func runPoststart(st *state.State) error {
	if st.Hooks == nil {
		return nil
	}
	return hooks.Run("poststart", st.Hooks.Poststart, hookState(st, StatusRunning))
}

// runPoststop runs the poststop hooks at delete; failures are logged only.
func runPoststop(st *state.State) {
	if st.Hooks == nil || len(st.Hooks.Poststop) == 0 {
		return
	}
	// Every poststop hook runs; a failure is only a warning.
	b := hookState(st, StatusStopped)
	for i, h := range st.Hooks.Poststop {
		if err := hooks.RunOne(h, b); err != nil {
			logrus.Warnf("hooks.poststop[%d] %s: %v", i, h.Path, err)
		}
	}
}
