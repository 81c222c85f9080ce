package libct

import (
	"github.com/rt-oci/rt/libct/console"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/state"
)

// Run creates and starts a container. Detached, it returns at once (the
// init is reparented when rt exits). In the foreground it forwards signals
// to the init, waits for it, deletes the container and returns the exit
// status (128+N for a signal).
func Run(o *CreateOpts, detach bool) (int, error) {
	var sigs chan os.Signal
	if !detach {
		// Catch signals from now on so none is lost between start and wait.
		sigs = make(chan os.Signal, 128)
		signal.Notify(sigs, forwarded...)
		defer signal.Stop(sigs)
	}
	o.relayTerminal = !detach
	c, err := Create(o)
	if err != nil {
		return -1, err
	}
	var relay *console.Relay
	if c.Master != nil {
		relay = console.StartRelay(c.Master)
	}
	if err := Start(o.Root, o.ID); err != nil {
		if relay != nil {
			relay.Stop()
		}
		forceDelete(o.Root, o.ID)
		return -1, err
	}
	if detach {
		unix.Close(c.Pidfd)
		return 0, nil
	}
	done := make(chan int, 1)
	go func() { done <- wait(c.Pid) }()
	for {
		select {
		case code := <-done:
			signal.Stop(sigs)
			if relay != nil {
				relay.Stop()
			}
			if c.Pidfd >= 0 {
				unix.Close(c.Pidfd)
			}
			if err := Delete(o.Root, o.ID, true); err != nil {
				return code, err
			}
			return code, nil
		case s := <-sigs:
			sig, ok := s.(unix.Signal)
			if !ok || sig == unix.SIGCHLD || sig == unix.SIGURG || sig == unix.SIGPIPE {
				continue
			}
			if c.Pidfd >= 0 {
				unix.PidfdSendSignal(c.Pidfd, sig, nil, 0)
			} else {
				state.Signal(c.Pid, c.State.PidStart, sig)
			}
		}
	}
}

// forwarded are the signals a foreground run passes on to the container.
var forwarded = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGWINCH, unix.SIGCONT, unix.SIGALRM, unix.SIGVTALRM, unix.SIGPWR, unix.SIGTRAP,
}

func wait(pid int) int {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 255
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func forceDelete(root, id string) { Delete(root, id, true) }
