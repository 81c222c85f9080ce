// Package nsenter is the only place in rt that forks by hand.
//
// Spawn starts a process with a raw clone(2)/clone3(2) from Go, the way the
// standard library's forkAndExecInChild does: between the fork and the exec
// the child runs only raw system calls (no allocation, no Go calls that could
// grow the stack), so it is single-threaded and may setns(2) into any
// namespace, mount and user namespaces included, which a multithreaded Go
// process cannot. The child then execveat(2)s the sealed copy of rt as
// `rt init`, which finishes the container setup in Go.
//
// Two shapes:
//
//   - fast path (nothing to join): one clone3 with every CLONE_NEW* flag,
//     CLONE_PIDFD and, on cgroup v2, CLONE_INTO_CGROUP. The child execs.
//     Without ID maps to wait for it is also CLONE_VM|CLONE_VFORK (vfork.go):
//     it runs on the caller's stack until its exec while the calling thread
//     sleeps, so rt's page tables are not copied and rt takes no
//     copy-on-write faults afterwards.
//   - join path: an intermediate child setns(2)es into the namespaces given
//     by file descriptors, in order, then clones the real init with the new
//     namespace flags and CLONE_PARENT, so the init is the caller's direct
//     child (and joins a pid namespace, which only applies to children).
//     The intermediate reports the init's PID over a pipe and exits.
//
// With a new user namespace the child waits until the caller has written
// its ID maps (Attr.UserMaps); for an unprivileged caller it stays dumpable
// until then (Attr.DumpableForMaps), or the caller could not open its
// /proc/PID/uid_map.
//
// A failure in the raw child (setns, clone, execveat) comes back to Spawn as
// an errno with the step that failed, read from a close-on-exec pipe whose
// EOF means the exec succeeded.
package nsenter
