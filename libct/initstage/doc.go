// Package initstage is the code that runs inside the container: `rt init`,
// exec'd by the raw child of nsenter.Spawn in the container's namespaces
// (and cgroup). It receives the bootstrap message on its socket, builds the
// root filesystem, sets sysctls, hostname, rlimits, the user, capabilities
// and no_new_privs on the locked main thread, reports "ready", waits for
// `rt start` on the exec fifo, closes every stray descriptor and execs the
// workload. A failure is sent back as an error message; nothing is retried.
package initstage
