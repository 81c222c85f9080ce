package libct

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/console"
	"github.com/rt-oci/rt/libct/proto"
	"github.com/rt-oci/rt/libct/rootfs"
	"github.com/rt-oci/rt/libct/state"
	"github.com/rt-oci/rt/nsenter"
)

// CreateOpts are the arguments of `rt create` (and of `rt run`).
type CreateOpts struct {
	Root        string // state root (--root)
	ID          string
	Bundle      string
	PidFile     string
	NoPivot     bool
	PreserveFds int
	Systemd     bool
	// ConsoleSocket receives the pty master of a process.terminal
	// container (SCM_RIGHTS), as with runc.
	ConsoleSocket string
	// PidfdSocket receives a pidfd of the init (SCM_RIGHTS), as with runc.
	PidfdSocket string
	// relayTerminal: a foreground run without --console-socket keeps the
	// master itself (Container.Master) to relay the terminal.
	relayTerminal bool
	// startHeld: Run starts the container right away; Create hands it the
	// record still locked (Container.held) and does not save the created
	// phase, which only lasts until that start.
	startHeld bool
	// CowRootfs (--cow-rootfs): root.path is the read-only lower layer of
	// an overlay made by the init (docs/overlay.md).
	CowRootfs bool
	// NoNewKeyring (--no-new-keyring): the container shares the caller's
	// session keyring instead of joining its own (libct/initstage/keyring.go).
	NoNewKeyring bool
	// Rootless is the global --rootless: "auto" (or ""), "true" or
	// "false"; it decides how cgroup permission problems are handled
	// (rootless.go).
	Rootless string
}

// Container is a created container, as far as the creating process knows.
type Container struct {
	ID    string
	Pid   int
	Pidfd int
	State *state.State
	// Master is the pty master of a terminal container whose run relays
	// the terminal itself.
	Master *os.File
	// held is the locked record, with CreateOpts.startHeld; the caller
	// closes it.
	held *state.Handle
}

// Create validates the bundle, records and makes the container's host
// resources, and starts its init, which waits for Start. On any error
// everything made so far is undone.
func Create(o *CreateOpts) (c *Container, err error) {
	if err := state.ValidateID(o.ID); err != nil {
		return nil, err
	}
	// The init executable does not depend on the bundle: opened while
	// config.json is read and checked.
	pre := prefetchInit(o.Root)
	defer pre.discard()
	cp, err := planCreate(o)
	if err != nil {
		return nil, err
	}
	defer cp.ns.close()
	bundle, s, raw, plan, cgCfg, cg := cp.bundle, cp.s, cp.raw, cp.ns, cp.cgCfg, cp.cg
	maps, filter, cow := cp.maps, cp.filter, cp.cow
	exe, parent, child, inherit, err := initChannel(o.Root, o.PreserveFds, pre.take())
	if err != nil {
		return nil, err
	}
	defer unix.Close(exe)
	defer parent.Close()
	defer child.Close()
	// CLONE_INTO_CGROUP (v2, the cgroup namespace not joined; see exec.go)
	// needs the cgroup, so the record, before the spawn. Otherwise the
	// init starts first: its exec and Go start-up take milliseconds, in
	// which rt records and makes the rest. Until the bootstrap the init
	// only waits for it and exits on EOF when rt dies, so a crash leaves
	// no process behind; the journal lists it just before the bootstrap.
	v2 := cgroups.Unified(cg)
	intoCgroup := v2 && !joinsCgroupNS(plan.join)
	var p *nsenter.Process
	var initPid, pidfd = 0, -1
	// killInit ends an init that has not got its bootstrap, on every
	// error path, whether or not the record exists yet.
	killInit := func() {
		if initPid > 0 {
			killReap(initPid, pidfd)
			initPid = 0
		}
		if pidfd >= 0 {
			unix.Close(pidfd)
			pidfd = -1
		}
		if p != nil {
			p.Release()
		}
	}
	defer func() {
		if err != nil {
			killInit()
		}
	}()
	var h *state.Handle
	if !intoCgroup {
		if p, err = spawnInit(s, plan, maps, exe, child, inherit, -1); err != nil {
			return nil, err
		}
		initPid, pidfd = p.Pid, p.Pidfd
	}

	store := state.Store{Root: o.Root}
	h, err = store.Create(o.ID)
	if errors.Is(err, state.ErrExist) && reclaimCrashed(store, o.ID) {
		h, err = store.Create(o.ID)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if c == nil || c.held == nil {
			h.Close()
		}
	}()
	if err = crashPoint(stepRecord); err != nil {
		h.Remove()
		return nil, err
	}
	st := newRecord(o, s, bundle, cg)
	if err = journalSharedRoot(h, st, s); err != nil {
		h.Remove()
		return nil, err
	}
	cgDone := make(chan error, 1)
	cgPending := false
	waitCgroup := func() error {
		if cgPending {
			cgPending = false
			return <-cgDone
		}
		return nil
	}
	defer func() {
		if err == nil {
			return
		}
		waitCgroup()
		// linux.netDevices go back to the host, the resctrl group goes.
		releaseHostResources(st)
		killInit()
		cg.Destroy()
		cgroups.RemoveEmpty(st.CgroupDirs)
		// A shared parent made again after a concurrent delete removed it
		// (not in the journal) goes the way of shared parents.
		if extra := cgroups.Unlisted(cg, st.CgroupDirs); len(extra) > 0 {
			sweepParents(o.Root, extra)
		}
		h.Remove()
	}()
	if err = h.Save(st); err != nil {
		return nil, err
	}
	if cow.OnDisk {
		// Copy-on-write root with org.rt.rootfs.cow.dir=state: its upper
		// layer goes under the state dir (removed with it); journal first.
		st.CowDir = filepath.Join(h.Dir, "cow")
		if err = h.Save(st); err == nil {
			err = os.Mkdir(st.CowDir, 0o700)
		}
		if err != nil {
			return nil, err
		}
	}
	if err = crashPoint(stepCgroup); err != nil {
		return nil, err
	}
	// Making cgroups is slow kernel work; it runs in the background.
	cgPending = true
	go func() { cgDone <- cg.Create() }()
	if intoCgroup {
		if err = waitCgroup(); err != nil {
			return nil, err
		}
		var cgfd int
		if cgfd, err = cg.CgroupFd(); err != nil {
			return nil, err
		}
		p, err = spawnInit(s, plan, maps, exe, child, inherit, cgfd)
		unix.Close(cgfd)
		if err != nil {
			return nil, err
		}
		initPid, pidfd = p.Pid, p.Pidfd
	}
	child.Close()
	// While the init starts (its Go runtime takes milliseconds): the copy
	// of config.json for later commands and the exec fifo, which only
	// the bootstrap needs.
	if err = state.WriteFileAtomic(h.ConfigPath(), raw, 0o600); err != nil {
		return nil, err
	}
	if err = crashPoint(stepFifo); err != nil {
		return nil, err
	}
	if err = unix.Mkfifo(h.FifoPath(), 0o600); err != nil {
		return nil, fmt.Errorf("exec fifo: %w", err)
	}
	fifo, err := unix.Open(h.FifoPath(), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("exec fifo: %w", err)
	}
	defer unix.Close(fifo)
	// Until the bootstrap is sent the init only waits for it and dies if
	// rt does (EOF on its socket), so it is recorded just before that;
	// meanwhile it execs, and /proc/PID/stat would block on that exec.
	if err = waitCgroup(); err != nil {
		return nil, err
	}
	// A shared parent a concurrent delete removed after the journal was
	// written was made again: listed with the shared parents, or nobody
	// would remove it.
	if extra := cgroups.Unlisted(cg, st.CgroupDirs); len(extra) > 0 {
		listParents(o.Root, extra)
	}
	if err = cg.Apply(p.Pid); err != nil {
		return nil, err
	}
	// Memory, cpu and device limits hold during setup already; pids.limit
	// waits until the (multi-threaded) init stage is done.
	early, late := splitResources(deviceRulesFor(s, cgCfg.Rootless))
	if err = cg.Set(early); err != nil {
		return nil, err
	}
	if s.Process.OOMScoreAdj != nil {
		if err = setOOMScoreAdj(p.Pid, *s.Process.OOMScoreAdj); err != nil {
			return nil, err
		}
	}
	if err = p.WaitExec(); err != nil {
		// The child is gone and reaped.
		initPid, pidfd = 0, -1
		return nil, err
	}
	st.Pid = p.Pid
	st.PidStart, _ = state.StartTime(p.Pid)
	if err = h.Save(st); err != nil {
		return nil, err
	}
	// linux.intelRdt, linux.netDevices: host resources around the init,
	// journaled in st before they are made (libct/netdev.go).
	if err = attachHostResources(h, st, s, p.Pid); err != nil {
		return nil, err
	}
	if err = crashPoint(stepBootstrap); err != nil {
		return nil, err
	}
	b := &proto.Bootstrap{
		Mode: proto.ModeCreate, ID: o.ID, Bundle: bundle, Rootfs: st.Rootfs, Config: raw,
		NoPivot: o.NoPivot, PreserveFds: o.PreserveFds, CgroupPaths: bootstrapCgroups(st.CgroupPaths), CgroupV2: v2 || cgroups.IsV2(),
		UnshareCgroupNS: !intoCgroup && plan.clone&unix.CLONE_NEWCGROUP != 0, Seccomp: filter,
		// Copy-on-write root (docs/overlay.md).
		CowRootfs: cow.Enabled, CowSize: cow.Size, CowDir: st.CowDir,
		SessionKeyring: st.Keyring, SharedRoot: st.SharedRoot,
	}
	sendFds := []int{fifo}
	var relaySock int = -1
	if s.Process.Terminal {
		var closeConsole func()
		if relaySock, closeConsole, err = consoleFor(o.ConsoleSocket, b, &sendFds); err != nil {
			return nil, err
		}
		defer closeConsole()
	}
	// Idmapped bind mounts are made here and attached by the init.
	idFds, idList, err := idmappedMounts(s, bundle, p.Pid)
	if err != nil {
		return nil, err
	}
	defer closeFds(idFds)
	for _, m := range idList {
		b.IDMapped = append(b.IDMapped, proto.IDMapped{Mount: m.Mount, Fd: len(sendFds) + m.Fd})
	}
	sendFds = append(sendFds, idFds...)
	if err = parent.Send(b, sendFds...); err != nil {
		return nil, fmt.Errorf("container init exited before its setup (%s): %w%s", exitReason(initPid), err, memoryHint(s))
	}
	if err = awaitReady(parent, st, initPid, s); err != nil {
		return nil, err
	}
	if cow.Enabled {
		// Never let a container run on the shared root.path by mistake.
		if err = rootfs.CheckCowRoot(initPid); err != nil {
			return nil, err
		}
	}
	if late != nil {
		if err = cg.Set(late); err != nil {
			return nil, err
		}
	}
	if o.PidFile != "" {
		if err = writePidFile(o.PidFile, p.Pid); err != nil {
			return nil, err
		}
	}
	if o.PidfdSocket != "" {
		if err = sendPidfd(o.PidfdSocket, pidfd); err != nil {
			return nil, err
		}
	}
	if err = crashPoint(stepCreated); err != nil {
		return nil, err
	}
	st.Phase = state.PhaseCreated
	if !o.startHeld {
		if err = h.Save(st); err != nil {
			return nil, err
		}
	}
	var master *os.File
	if relaySock >= 0 {
		// The init sent the master before it reported ready.
		if master, err = console.Receive(relaySock); err != nil {
			return nil, err
		}
	}
	c = &Container{ID: o.ID, Pid: p.Pid, Pidfd: pidfd, State: st, Master: master}
	if o.startHeld {
		// Run's start follows at once: the record (on disk still in phase
		// creating) stays locked until then. A crash in between leaves a
		// record that reads stopped and goes with delete.
		c.held = h
	}
	return c, nil
}

// reclaimCrashed undoes the record of a create that died (phase creating,
// creator gone), so its ID can be used again. A container that was
// created, ran or stopped normally keeps its ID until delete, as in runc.
func reclaimCrashed(store state.Store, id string) bool {
	peek := &state.Handle{ID: id, Dir: store.Dir(id)}
	if st, err := peek.Load(); err != nil || st.Phase != state.PhaseCreating ||
		(st.Owner > 0 && state.Alive(st.Owner, st.OwnerStart)) {
		return false
	}
	h, err := store.Open(id)
	if err != nil {
		return false
	}
	defer h.Close()
	st, err := h.Load()
	if err != nil || st.Phase != state.PhaseCreating || Status(st) != StatusStopped {
		return false
	}
	return destroy(h, st) == nil
}

// setOOMScoreAdj writes process.oomScoreAdj for the init from the host,
// through the host's /proc (the container's /proc is not trusted).
func setOOMScoreAdj(pid, v int) error {
	if err := writeProc("/proc/"+strconv.Itoa(pid)+"/oom_score_adj", strconv.Itoa(v)); err != nil {
		hint := ""
		if v < 0 {
			hint = " (lowering it needs CAP_SYS_RESOURCE)"
		}
		return fmt.Errorf("process.oomScoreAdj %d: %w%s", v, err, hint)
	}
	return nil
}

func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	if err := state.WriteFileAtomic(abs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("--pid-file: %w", err)
	}
	return nil
}

// exitReason reaps a dead child init and describes how it ended.
func exitReason(pid int) string {
	var ws unix.WaitStatus
	wpid, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	if err != nil || wpid != pid {
		return "no status"
	}
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ws.ExitStatus())
}
