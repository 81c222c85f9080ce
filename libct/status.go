package libct

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/state"
)

// OCI statuses.
const (
	StatusCreating = "creating"
	StatusCreated  = "created"
	StatusRunning  = "running"
	StatusStopped  = "stopped"
	StatusPaused   = "paused"
)

// Status derives the OCI status from the record and the init process.
func Status(st *state.State) string {
	if st.Pid == 0 {
		if st.Phase == state.PhaseCreating && st.Owner > 0 && state.Alive(st.Owner, st.OwnerStart) {
			return StatusCreating
		}
		return StatusStopped
	}
	if !state.Alive(st.Pid, st.PidStart) {
		return StatusStopped
	}
	switch st.Phase {
	case state.PhaseCreating:
		if st.Owner > 0 && state.Alive(st.Owner, st.OwnerStart) {
			return StatusCreating
		}
		// A foreground run killed after releasing the init (run never
		// saves phase created): the workload runs.
		if !initStageRunning(st.Pid) {
			return StatusRunning
		}
		// Its create died before the init was ready (the init exits as
		// soon as it sees its socket closed), or a run died before
		// releasing it: a broken container.
		return StatusStopped
	case state.PhaseCreated:
		// A start killed between releasing the init and recording it
		// leaves phase created on a running workload: the init's command
		// line tells (rt's init stage runs as "rt init N").
		if !initStageRunning(st.Pid) {
			return StatusRunning
		}
		return StatusCreated
	}
	if st.Paused && st.CgroupPaths != nil {
		if cg, err := cgroups.Load(st.CgroupPaths); err == nil && cgroups.Frozen(cg) {
			return StatusPaused
		}
	}
	return StatusRunning
}

// OCIState is the JSON `rt state` prints: the runtime-spec state plus
// runc's extra fields.
type OCIState struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// GetState reads a container's state without taking its lock (state.json
// is replaced atomically).
func GetState(root, id string) (*OCIState, error) {
	if err := state.ValidateID(id); err != nil {
		return nil, err
	}
	st, err := loadUnlocked(root, id)
	if err != nil {
		return nil, err
	}
	return ociState(st), nil
}

// loadUnlocked reads a container's record without its lock (state.json
// is replaced atomically).
func loadUnlocked(root, id string) (*state.State, error) {
	if err := state.ValidateID(id); err != nil {
		return nil, err
	}
	store := state.Store{Root: root}
	if _, err := os.Stat(store.Dir(id)); err != nil {
		return nil, notExist(id)
	}
	return (&state.Handle{ID: id, Dir: store.Dir(id)}).Load()
}

func ociState(st *state.State) *OCIState {
	status := Status(st)
	pid := st.Pid
	if status == StatusStopped {
		pid = 0
	}
	return &OCIState{
		OCIVersion: st.OCIVersion, ID: st.ID, Status: status, Pid: pid,
		Bundle: st.Bundle, Rootfs: st.Rootfs, Created: st.Created, Owner: ownerName(st.OwnerUID),
		Annotations: st.Annotations,
	}
}

// List returns the states of every container under root.
func List(root string) ([]*OCIState, error) {
	ids, err := state.Store{Root: root}.List()
	if err != nil {
		return nil, err
	}
	var out []*OCIState
	for _, id := range ids {
		s, err := GetState(root, id)
		if err != nil {
			// An unreadable record is still listed, so it can be found
			// and deleted with --force.
			s = &OCIState{ID: id, Status: StatusStopped}
		}
		out = append(out, s)
	}
	return out, nil
}

// ownerName is the host user name of uid (as runc's "owner"), or the
// number when /etc/passwd has no entry.
func ownerName(uid int) string {
	b, err := os.ReadFile("/etc/passwd")
	if err == nil {
		want := strconv.Itoa(uid)
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Split(line, ":"); len(f) > 2 && f[2] == want {
				return f[0]
			}
		}
	}
	return "#" + strconv.Itoa(uid)
}

// initStageRunning reports whether pid still runs rt's init stage (not
// yet the workload). Unreadable counts as yes.
func initStageRunning(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return true
	}
	return strings.HasPrefix(string(b), "rt\x00init\x00")
}
