package libct

import (
	"time"

	"golang.org/x/sys/unix"
)

// killReap SIGKILLs a child of ours (through its pidfd when there is one)
// and reaps it.
func killReap(pid, pidfd int) {
	if pidfd >= 0 {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
	} else {
		unix.Kill(pid, unix.SIGKILL)
	}
	wait(pid)
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
