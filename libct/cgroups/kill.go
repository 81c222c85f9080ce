package cgroups

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Kill sends SIGKILL to every process in the cgroup, sub-cgroups included.
// On cgroup v2 it writes "1" to cgroup.kill (Linux 5.14+): the kernel kills
// the whole subtree at once, processes that fork meanwhile included. On v1
// (or an older v2 kernel) it signals each PID the cgroup lists, and lists
// again while new PIDs turn up (a fork racing the kill), a few times. It does
// not wait for the processes to be gone (Destroy retries while the cgroup is
// busy).
func Kill(m Manager) error {
	if v2, ok := m.(*v2Manager); ok {
		err := writeFile(v2.dir, "cgroup.kill", "1")
		switch {
		case err == nil, !dirExists(v2.dir):
			return nil
		case !errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("cgroups: kill: %w", err)
		}
		// No cgroup.kill (kernel before 5.14): signal one by one.
	}
	signalled := map[int]bool{}
	for round := 0; round < 10; round++ {
		pids, err := m.Pids()
		if err != nil {
			if !m.Exists() {
				return nil
			}
			return fmt.Errorf("cgroups: kill: %w", err)
		}
		fresh := 0
		for _, p := range pids {
			if !signalled[p] {
				signalled[p] = true
				fresh++
				_ = unix.Kill(p, unix.SIGKILL)
			}
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}
