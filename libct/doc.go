// Package libct is the host side of a container's life: create (validate,
// journal, cgroup, fifo, spawn the init through nsenter and bootstrap it),
// start, state, kill and delete. Each command opens the container's state
// directory through libct/state; the code that runs inside the container
// is libct/initstage.
package libct
