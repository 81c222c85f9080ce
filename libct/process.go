package libct

import (
	"time"

	"golang.org/x/sys/unix"
)

// killWait SIGKILLs a process (through its pidfd when there is one) and
// waits until it is gone; reap tells whether it is our child to reap.
func killWait(pid, pidfd int, reap bool) {
	if pidfd >= 0 {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
	} else {
		unix.Kill(pid, unix.SIGKILL)
	}
	if reap {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err != unix.EINTR {
				return
			}
		}
	}
	waitGone(pid, pidfd, 10*time.Second)
}

// waitGone waits until a process that is not our child has exited.
func waitGone(pid, pidfd int, timeout time.Duration) {
	if pidfd >= 0 {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, int(timeout/time.Millisecond))
			if err != unix.EINTR {
				return
			}
		}
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if unix.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
