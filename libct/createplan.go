package libct

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/seccomp"
	"github.com/rt-oci/rt/libct/security"
	"github.com/rt-oci/rt/libct/state"
	"github.com/rt-oci/rt/spec"
)

// createPlan is what create knows before it makes anything: the bundle,
// loaded and validated, and what is derived from it.
type createPlan struct {
	bundle string
	s      *specs.Spec
	raw    []byte // config.json as read, copied beside the record
	maps   *idMaps
	filter *seccomp.Program
	cow    spec.Cow
	ns     *nsPlan // the caller closes it
	cgCfg  cgroups.Config
	cg     cgroups.Manager
}

// planCreate loads and checks the bundle of o and plans the container.
// Its only side effects are the opened namespace paths (in ns) and a
// seccomp cache entry.
func planCreate(o *CreateOpts) (*createPlan, error) {
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, fmt.Errorf("--bundle: %w", err)
	}
	s, raw, err := spec.LoadRaw(bundle)
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(s, bundle); err != nil {
		return nil, err
	}
	if s.Process == nil {
		return nil, errors.New("process: missing, required for create")
	}
	if err := unsupported(s); err != nil {
		return nil, err
	}
	// An unprivileged caller: what it can't do is refused now, and the ID
	// maps are planned (rootless.go, userns.go).
	if err := checkRootless(s, o.Root); err != nil {
		return nil, err
	}
	maps, err := planIDMaps(s)
	if err != nil {
		return nil, err
	}
	if err := security.CheckLSM(s.Process, "process"); err != nil {
		return nil, err
	}
	filter, err := compileSeccomp(o.Root, s)
	if err != nil {
		return nil, err
	}
	// Copy-on-write root: --cow-rootfs or the org.rt.rootfs.cow* annotations.
	cow, err := spec.CowRootfs(s, o.CowRootfs)
	if err != nil {
		return nil, err
	}
	if s.Process.Terminal && o.ConsoleSocket == "" && !o.relayTerminal {
		return nil, errors.New("process.terminal: true needs --console-socket (or a foreground rt run)")
	}
	plan, err := planNamespaces(s)
	if err != nil {
		return nil, err
	}
	cgCfg := cgroups.Config{ID: o.ID, Systemd: o.Systemd, Rootless: rootlessCgroups(o.Rootless)}
	if s.Linux != nil {
		cgCfg.Path = s.Linux.CgroupsPath
		cgCfg.Resources = s.Linux.Resources
	}
	cg, err := cgroups.New(cgCfg)
	if err != nil {
		plan.close()
		return nil, err
	}
	return &createPlan{bundle: bundle, s: s, raw: raw, maps: maps, filter: filter, cow: cow, ns: plan, cgCfg: cgCfg, cg: cg}, nil
}

// newRecord is the first journal entry of a create: phase creating, its
// creator, and everything create is about to make, before any of it
// exists: the cgroup directories and the fifo (undo tolerates the ones
// that never got made).
func newRecord(o *CreateOpts, s *specs.Spec, bundle string, cg cgroups.Manager) *state.State {
	st := &state.State{
		OCIVersion:  specs.Version,
		ID:          o.ID,
		Bundle:      bundle,
		Rootfs:      spec.RootfsPath(s, bundle),
		Phase:       state.PhaseCreating,
		Created:     time.Now().UTC(),
		Annotations: s.Annotations,
		Owner:       os.Getpid(),
		OwnerUID:    os.Geteuid(),
		CgroupPaths: cg.Paths(),
		Hooks:       s.Hooks,
	}
	st.OwnerStart, _ = state.StartTime(st.Owner)
	if !o.NoNewKeyring {
		st.Keyring = keyringName(o.ID)
	}
	st.CgroupCreated = true
	st.CgroupDirs = cgroups.Missing(st.CgroupPaths)
	st.Fifo = true
	return st
}
