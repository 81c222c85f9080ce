// Package state owns a container's directory under the state root:
// <root>/<id>/state.json (written atomically: temp file, rename; no fsync,
// see WriteFileAtomic), the lock that serialises commands on one ID (a new
// directory appears already locked: newdir.go), the exec fifo, container ID
// validation and process identity (PID plus start time, so a reused PID is
// never mistaken for the container's init).
//
// state.json doubles as create's journal: every host-side resource is
// recorded in it before it is made, so `delete --force` can undo exactly
// what a crashed create left.
package state
