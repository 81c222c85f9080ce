package libct

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/console"
)

// Run creates and starts a container. Detached, it returns at once (the
// init is reparented when rt exits). In the foreground it forwards signals
// to the init, waits for it, deletes the container unless keep, and
// returns the exit status (128+N for a signal).
func Run(o *CreateOpts, detach, keep bool) (int, error) {
	var sigs chan os.Signal
	notified := make(chan struct{})
	if detach {
		close(notified)
	} else {
		// Catch signals before start so none is lost between start and
		// wait. signal.Notify costs a round trip to the runtime's signal
		// thread per signal (1-2 ms in all): it runs while create does.
		sigs = make(chan os.Signal, 128)
		go func() {
			signal.Notify(sigs, forwarded...)
			close(notified)
		}()
		defer func() {
			<-notified
			signal.Stop(sigs)
		}()
	}
	o.relayTerminal = !detach
	o.startHeld = true
	c, err := Create(o)
	if err != nil {
		return -1, err
	}
	<-notified
	var relay *console.Relay
	if c.Master != nil {
		relay = console.StartRelay(c.Master)
	}
	// Created and started under one lock: no re-read of the record.
	err = start(c.held, c.State)
	c.held.Close()
	if err != nil {
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
	code := waitForeground(c.Pid, c.Pidfd, sigs, relay)
	if c.Pidfd >= 0 {
		unix.Close(c.Pidfd)
	}
	if keep {
		return code, nil
	}
	if err := Delete(o.Root, o.ID, true); err != nil {
		return code, err
	}
	return code, nil
}

// waitForeground waits for our child pid, passing on the signals that
// arrive on sigs, and returns its exit status (128+N for a signal). The
// terminal relay, if any, is stopped once the process is gone.
func waitForeground(pid, pidfd int, sigs chan os.Signal, relay *console.Relay) int {
	done := make(chan int, 1)
	go func() { done <- wait(pid) }()
	for {
		select {
		case code := <-done:
			signal.Stop(sigs)
			if relay != nil {
				relay.Stop()
			}
			return code
		case s := <-sigs:
			sig, ok := s.(unix.Signal)
			if !ok || sig == unix.SIGCHLD || sig == unix.SIGURG || sig == unix.SIGPIPE {
				continue
			}
			// Our unreaped child: its PID can't be reused meanwhile.
			if pidfd >= 0 {
				unix.PidfdSendSignal(pidfd, sig, nil, 0)
			} else {
				unix.Kill(pid, sig)
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
