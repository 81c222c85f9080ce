package libct

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/console"
	"github.com/rt-oci/rt/libct/proto"
	"github.com/rt-oci/rt/libct/security"
	"github.com/rt-oci/rt/libct/state"
	"github.com/rt-oci/rt/nsenter"
	"github.com/rt-oci/rt/spec"
)

// ExecOpts are the arguments of `rt exec`.
type ExecOpts struct {
	Root    string
	ID      string
	Process *specs.Process // the complete process to run
	// ConsoleSocket receives the pty master when Process.Terminal is set;
	// without it a foreground exec relays the terminal itself.
	ConsoleSocket string
	Detach        bool
	PidFile       string
	PidfdSocket   string
	PreserveFds   int
}

// Exec runs a new process in a created or running container: in all its
// namespaces and cgroups. Detached, it returns once the process has
// exec'd; in the foreground it waits and returns the exit status.
func Exec(o *ExecOpts) (int, error) {
	if err := spec.ValidateProcess(o.Process, "process"); err != nil {
		return -1, err
	}
	p := o.Process
	if err := security.CheckLSM(p, "process"); err != nil {
		return -1, err
	}
	if p.Terminal && o.ConsoleSocket == "" && o.Detach {
		return -1, errors.New("--tty: a detached exec needs --console-socket")
	}
	var sigs chan os.Signal
	if !o.Detach {
		sigs = make(chan os.Signal, 128)
		signal.Notify(sigs, forwarded...)
		defer signal.Stop(sigs)
	}
	x, err := startExec(o)
	if err != nil {
		return -1, err
	}
	if o.Detach {
		unix.Close(x.pidfd)
		return 0, nil
	}
	var relay *console.Relay
	if x.master != nil {
		relay = console.StartRelay(x.master)
	}
	code := waitForeground(x.pid, x.pidfd, sigs, relay)
	unix.Close(x.pidfd)
	return code, nil
}

// execSetupTimeout bounds the time from the clone of an exec's process to
// its exec of the workload.
const execSetupTimeout = 60 * time.Second

type execProc struct {
	pid, pidfd int
	master     *os.File // terminal relayed by a foreground exec
}

// startExec starts the process and returns once it has exec'd. The
// container's record stays locked meanwhile, so it can't be deleted
// half-way.
func startExec(o *ExecOpts) (_ *execProc, err error) {
	h, st, err := open(o.Root, o.ID)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	switch s := Status(st); s {
	case StatusCreated, StatusRunning:
	case StatusPaused:
		return nil, fmt.Errorf("cannot exec in container %q: it is paused (rt resume first)", o.ID)
	default:
		return nil, fmt.Errorf("cannot exec in container %q: %w (status %s)", o.ID, ErrNotRunning, s)
	}
	cfg, err := readConfig(h, o.ID)
	if err != nil {
		return nil, err
	}
	// The container's seccomp profile applies to every process in it.
	filter, err := compileSeccomp(o.Root, cfg)
	if err != nil {
		return nil, err
	}
	initFd, err := unix.PidfdOpen(st.Pid, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot exec in container %q: %w", o.ID, ErrNotRunning)
	}
	defer unix.Close(initFd)
	// The pidfd pins the process; the start time proves it is still the
	// container's init and not a reused PID.
	if t, err := state.StartTime(st.Pid); err != nil || t != st.PidStart {
		return nil, fmt.Errorf("cannot exec in container %q: %w", o.ID, ErrNotRunning)
	}
	// The init's root, for a container without a mount namespace of its
	// own (only chrooted); opened before initNamespaces' liveness probe.
	rootFd, err := unix.Open("/proc/"+strconv.Itoa(st.Pid)+"/root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot exec in container %q: %w", o.ID, ErrNotRunning)
	}
	defer unix.Close(rootFd)
	joins, err := initNamespaces(st.Pid, initFd)
	if err != nil {
		return nil, fmt.Errorf("cannot exec in container %q: %w", o.ID, err)
	}
	defer func() {
		for _, j := range joins {
			unix.Close(j.Fd)
		}
	}()
	chroot := true
	for _, j := range joins {
		if j.Type == unix.CLONE_NEWNS {
			chroot = false // joining the mount namespace gives its root
		}
	}
	var cg cgroups.Manager
	cgfd := -1
	if len(st.CgroupPaths) > 0 {
		if cg, err = cgroups.Load(st.CgroupPaths); err != nil {
			return nil, err
		}
		// v2: CLONE_INTO_CGROUP, unless the process joins a cgroup
		// namespace: the clone is then checked against that namespace,
		// which does not hold rt's own cgroup (ENOENT with nsdelegate),
		// and cg.Apply below moves it instead.
		if cgroups.Unified(cg) && !joinsCgroupNS(joins) {
			if cgfd, err = cg.CgroupFd(); err != nil {
				return nil, err
			}
			defer unix.Close(cgfd)
		}
	}
	exe, parent, child, inherit, err := initChannel(o.Root, o.PreserveFds, -1)
	if err != nil {
		return nil, err
	}
	defer unix.Close(exe)
	defer parent.Close()
	crashPoint(stepExecSpawn)
	// personality, memory policy and execCPUAffinity.initial come from
	// the spawning thread (procattrs.go).
	np, err := spawnWithAttrs(cfg.Linux, o.Process.ExecCPUAffinity, nil, func() (*nsenter.Process, error) {
		return nsenter.Spawn(&nsenter.Attr{
			ExeFd:         exe,
			Argv:          []string{"rt", "init", strconv.Itoa(child.Fd())},
			Env:           []string{"GOMAXPROCS=1"},
			Inherit:       inherit,
			Join:          joins,
			CgroupFd:      cgfd,
			LateExecCheck: true,
			CloseInChild:  []int{h.LockFd()},
			// In the container's cgroup (and maybe its pid namespace)
			// before its exec: a stalled child must not stall rt.
			NoSharedMemory: true,
		})
	})
	child.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot exec in container %q: %w", o.ID, err)
	}
	x := &execProc{pid: np.Pid, pidfd: np.Pidfd}
	defer func() {
		if err != nil && x.pid > 0 {
			killReap(x.pid, x.pidfd)
			if x.pidfd >= 0 {
				unix.Close(x.pidfd)
			}
			if x.master != nil {
				x.master.Close()
			}
		}
	}()
	if x.pidfd < 0 {
		return nil, errors.New("exec: no pidfd for the new process (kernel too old?)")
	}
	crashPoint(stepExecCgroup)
	if cg != nil && cgfd < 0 {
		// cgroup v1 (or a joined cgroup namespace): join the container's
		// cgroups before anything runs.
		if err = cg.Apply(x.pid); err != nil {
			return nil, err
		}
	}
	// process.execCPUAffinity.final, now that it is in the cgroups.
	if err = setFinalAffinity(x.pid, o.Process.ExecCPUAffinity); err != nil {
		return nil, err
	}
	// The process is in the container's namespaces and cgroups: a delete
	// from now on ends it with the rest. The record needs no lock any
	// more, and the container must not be able to hold it (by stopping
	// the new process before its exec).
	h.Close()
	// Nor can it make rt wait forever: past the deadline the new process
	// is killed, which ends every wait below.
	watchdog := time.AfterFunc(execSetupTimeout, func() {
		unix.PidfdSendSignal(x.pidfd, unix.SIGKILL, nil, 0)
	})
	defer watchdog.Stop()
	if p := o.Process; p.OOMScoreAdj != nil {
		if err = setOOMScoreAdj(x.pid, *p.OOMScoreAdj); err != nil {
			return nil, err
		}
	}
	if err = np.WaitExec(); err != nil {
		x.pid, x.pidfd = 0, -1
		return nil, err
	}
	crashPoint(stepExecBootstrap)
	raw, err := json.Marshal(o.Process)
	if err != nil {
		return nil, err
	}
	b := &proto.Bootstrap{Mode: proto.ModeExec, ID: o.ID, Process: raw, PreserveFds: o.PreserveFds, Seccomp: filter, SessionKeyring: st.Keyring}
	var sendFds []int
	if chroot {
		b.Chroot = true
		sendFds = append(sendFds, rootFd)
	}
	relaySock := -1
	if o.Process.Terminal {
		var closeConsole func()
		if relaySock, closeConsole, err = consoleFor(o.ConsoleSocket, b, &sendFds); err != nil {
			return nil, err
		}
		defer closeConsole()
	}
	if err = parent.Send(b, sendFds...); err != nil {
		return nil, err
	}
	if relaySock >= 0 {
		// The master comes before the exec.
		if x.master, err = console.Receive(relaySock); err != nil {
			return nil, err
		}
	}
	var m proto.Msg
	fds, rerr := parent.Recv(&m)
	if rerr == nil && m.Type == proto.TypeSeccompListener && len(fds) == 1 {
		err = passListener(cfg.Linux.Seccomp, fds[0], x.pid, st, Status(st))
		closeFds(fds)
		if err != nil {
			return nil, err
		}
		m = proto.Msg{}
		fds, rerr = parent.Recv(&m)
	}
	closeFds(fds)
	if rerr != io.EOF {
		if rerr == nil && m.Type == proto.TypeError {
			err = errors.New(m.Error)
		} else if rerr == nil {
			err = fmt.Errorf("exec: unexpected message %q from the new process", m.Type)
		} else {
			err = rerr
		}
		return nil, err
	}
	// EOF: the socket closed at exec. A process that died instead shows
	// up here too; its exit status is what the caller gets.
	if o.PidFile != "" {
		if err = writePidFile(o.PidFile, x.pid); err != nil {
			return nil, err
		}
	}
	if o.PidfdSocket != "" {
		if err = sendPidfd(o.PidfdSocket, x.pidfd); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// nsNames are the /proc/PID/ns entries of the namespace types, in the
// order they are joined.
var nsNames = map[specs.LinuxNamespaceType]string{
	specs.UserNamespace: "user", specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts",
	specs.NetworkNamespace: "net", specs.PIDNamespace: "pid", specs.CgroupNamespace: "cgroup",
	specs.TimeNamespace: "time", specs.MountNamespace: "mnt",
}

// initNamespaces opens the namespaces of the container's init that differ
// from rt's own, in join order. initFd (a pidfd of the init) proves the
// /proc entries were the init's: it must still be alive afterwards.
func initNamespaces(pid, initFd int) ([]nsenter.Join, error) {
	var joins []nsenter.Join
	fail := func(err error) ([]nsenter.Join, error) {
		for _, j := range joins {
			unix.Close(j.Fd)
		}
		return nil, err
	}
	for _, t := range joinOrder {
		name := nsNames[t]
		path := "/proc/" + strconv.Itoa(pid) + "/ns/" + name
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) && t == specs.TimeNamespace {
				continue // kernel without time namespaces
			}
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
				return fail(ErrNotRunning) // the init is exiting
			}
			return fail(fmt.Errorf("open %s: %w", path, err))
		}
		var theirs, ours unix.Stat_t
		if err := unix.Fstat(fd, &theirs); err != nil {
			unix.Close(fd)
			return fail(err)
		}
		if err := unix.Stat("/proc/self/ns/"+name, &ours); err == nil && ours.Ino == theirs.Ino && ours.Dev == theirs.Dev {
			unix.Close(fd)
			continue
		}
		joins = append(joins, nsenter.Join{Type: nsFlags[t], Fd: fd, Path: path})
	}
	if err := unix.PidfdSendSignal(initFd, 0, nil, 0); err != nil {
		return fail(ErrNotRunning)
	}
	return joins, nil
}

// sendPidfd sends a pidfd over the unix socket at path (--pidfd-socket).
func sendPidfd(path string, pidfd int) error {
	sock, err := console.Dial(path)
	if err != nil {
		return fmt.Errorf("--pidfd-socket: %w", err)
	}
	defer unix.Close(sock)
	if err := unix.Sendmsg(sock, []byte("pidfd"), unix.UnixRights(pidfd), nil, 0); err != nil {
		return fmt.Errorf("--pidfd-socket: send: %w", err)
	}
	return nil
}

// Config returns the config.json a container was created with (the copy
// in its state directory).
func Config(root, id string) (*specs.Spec, error) {
	h, err := state.Store{Root: root}.Open(id)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	return readConfig(h, id)
}

func readConfig(h *state.Handle, id string) (*specs.Spec, error) {
	b, err := os.ReadFile(h.ConfigPath())
	if err != nil {
		return nil, fmt.Errorf("container %q: its config.json copy: %w", id, err)
	}
	s := &specs.Spec{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("container %q: its config.json copy: %w", id, err)
	}
	return s, nil
}
