package nsenter

import (
	"fmt"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// UserNS makes a user namespace whose ID maps writeMaps writes (given the
// PID of a process inside it) and returns an open descriptor of it, for
// idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP). The process that holds
// it while the maps are written is a raw child that only waits, and is
// gone when UserNS returns.
func UserNS(writeMaps func(pid int) error) (int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return -1, err
	}
	defer unix.Close(p[0])
	syscall.ForkLock.Lock()
	pid, errno := rawUserNSChild(p[0], p[1])
	syscall.ForkLock.Unlock()
	release := func() {
		if p[1] >= 0 {
			unix.Close(p[1]) // EOF: the child exits
			p[1] = -1
		}
		var ws unix.WaitStatus
		for {
			if _, err := unix.Wait4(pid, &ws, 0, nil); err != unix.EINTR {
				return
			}
		}
	}
	if errno != 0 {
		unix.Close(p[1])
		return -1, fmt.Errorf("nsenter: clone a user namespace: %w", errno)
	}
	defer release()
	if err := writeMaps(pid); err != nil {
		return -1, err
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("nsenter: open the new user namespace: %w", err)
	}
	return fd, nil
}
