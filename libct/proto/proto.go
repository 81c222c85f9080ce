package proto

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bootstrap is the first message, host → init. Descriptors sent with it, in
// order: the exec fifo (read end, create mode only).
type Bootstrap struct {
	Mode    string      `json:"mode"` // "create" (exec comes with the exec work)
	ID      string      `json:"id"`
	Bundle  string      `json:"bundle"`
	Rootfs  string      `json:"rootfs"`
	Spec    *specs.Spec `json:"spec"`
	NoPivot bool        `json:"noPivot,omitempty"`
	// CgroupPaths are the container's cgroup directories on the host, by
	// controller, for the "cgroup" mount type; CgroupV2 tells the layout.
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	CgroupV2    bool              `json:"cgroupV2,omitempty"`
	// UnshareCgroupNS asks the init to make its cgroup namespace itself,
	// after the host side has put it in its cgroups (cgroup v1).
	UnshareCgroupNS bool `json:"unshareCgroupNS,omitempty"`
}

// Message types, init → host.
const (
	TypeReady = "ready" // set up; waiting on the exec fifo
	TypeError = "error" // setup failed; Error says why, init exits
)

// Msg is a message from the init to the host side.
type Msg struct {
	Type  string `json:"type"`
	Error string `json:"error,omitempty"`
}
