package slack

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Runtime is the timer slack given to the runtime's threads.
const Runtime = 500_000 // ns

// RelaxOthers sets the timer slack of every other thread of this process
// (the runtime's, started before main) to ns, through the host's /proc.
// Without CAP_SYS_NICE it changes nothing; errors are ignored either way.
// Only for rt's host side: the container init must not write to a /proc
// the container may control.
func RelaxOthers(ns int) {
	d, err := os.Open("/proc/self/task")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	self := strconv.Itoa(unix.Gettid())
	val := []byte(strconv.Itoa(ns))
	for _, tid := range names {
		if tid == self {
			continue
		}
		fd, err := unix.Open("/proc/"+tid+"/timerslack_ns", unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		unix.Write(fd, val)
		unix.Close(fd)
	}
}
