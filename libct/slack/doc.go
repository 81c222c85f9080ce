// Package slack lets the Go runtime's helper threads sleep less precisely
// in rt's short-lived processes.
//
// While goroutines sit in system calls, the runtime's sysmon thread wakes
// every 20 µs to retake their Ps; rt's CLI does one blocking call after
// another (mkdir and writes in a dozen cgroup hierarchies, clone, waits on
// its init), so sysmon polls at that rate for most of an `rt run`: ~150
// wakeups, each a pair of context switches, on a CPU the init needs.
// Raising the timer slack of every thread but the caller's lets the kernel
// batch those wakeups (a 20 µs sleep then lasts up to ~0.5 ms). Nothing rt
// does depends on sysmon's promptness at that scale.
package slack
