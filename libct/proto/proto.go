package proto

import (
	"encoding/json"

	"github.com/rt-oci/rt/libct/seccomp"
)

// Bootstrap is the first message, host → init. Descriptors sent with it, in
// order: the exec fifo (read end), then the console socket when Console.
type Bootstrap struct {
	Mode   string `json:"mode"` // ModeCreate or ModeExec
	ID     string `json:"id"`
	Bundle string `json:"bundle"`
	Rootfs string `json:"rootfs"`
	// Config is config.json as the host read and validated it.
	Config  json.RawMessage `json:"config"`
	NoPivot bool            `json:"noPivot,omitempty"`
	// Console: process.terminal; the second descriptor sent with the
	// bootstrap is the socket the pty master goes to.
	Console bool `json:"console,omitempty"`
	// PreserveFds: descriptors 3..3+N-1 stay open across the exec.
	PreserveFds int `json:"preserveFds,omitempty"`
	// CgroupPaths are the container's cgroup directories on the host, by
	// controller, for the "cgroup" mount type; CgroupV2 tells the layout.
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	CgroupV2    bool              `json:"cgroupV2,omitempty"`
	// UnshareCgroupNS asks the init to make its cgroup namespace itself,
	// after the host side has put it in its cgroups (cgroup v1).
	UnshareCgroupNS bool `json:"unshareCgroupNS,omitempty"`
	// Process is the process of an exec (ModeExec), as process.json.
	Process json.RawMessage `json:"process,omitempty"`
	// Seccomp is linux.seccomp compiled by the host; the init loads it.
	Seccomp *seccomp.Program `json:"seccomp,omitempty"`
	// Chroot (exec into a container without its own mount namespace):
	// the first descriptor is the container's root; the init chroots
	// there before anything else.
	Chroot bool `json:"chroot,omitempty"`
	// IDMapped: detached idmapped mounts the host made for mounts[]
	// (libct/idmap.go); Fd is the position among the bootstrap's
	// descriptors.
	IDMapped []IDMapped `json:"idmapped,omitempty"`
	// Copy-on-write root (--cow-rootfs, org.rt.rootfs.cow; docs/overlay.md):
	// CowRootfs puts an overlay over Rootfs, root.path as its read-only
	// lower layer, before any mount. The upper layer is a tmpfs of CowSize
	// ("" as large as RAM), or, when CowDir is set, that host directory (under
	// the state dir, made and recorded by the host side).
	CowRootfs bool   `json:"cowRootfs,omitempty"`
	CowSize   string `json:"cowSize,omitempty"`
	CowDir    string `json:"cowDir,omitempty"`
	// SessionKeyring is the name of the container's session keyring,
	// which the process joins (the first one makes it); "" keeps the
	// caller's (--no-new-keyring).
	SessionKeyring string `json:"sessionKeyring,omitempty"`
	// SharedRoot: the container has no mount namespace and its config
	// mounts things: the init binds the rootfs at this directory (in the
	// state dir) and builds the root there (libct/hostroot.go).
	SharedRoot string `json:"sharedRoot,omitempty"`
}

// IDMapped is one idmapped bind mount, ready to attach.
type IDMapped struct {
	Mount int `json:"mount"` // index in mounts[]
	Fd    int `json:"fd"`    // position among the bootstrap's descriptors
}

// Bootstrap modes.
const (
	// ModeCreate: set up a new container around the init, wait on the
	// exec fifo (first descriptor), exec config.json's process.
	ModeCreate = "create"
	// ModeExec: the process was started inside a running container's
	// namespaces and cgroups; become Process and exec it. Success shows
	// as EOF on the socket (it is close-on-exec), failure as TypeError.
	ModeExec = "exec"
)

// Message types.
const (
	TypeReady = "ready" // init → host: set up; waiting on the exec fifo
	TypeError = "error" // init → host: setup failed; Error says why, init exits
	// TypeHooks, init → host: mounts are done, pivot_root is next; run the
	// prestart and createRuntime hooks. The host answers TypeHooksDone.
	TypeHooks = "hooks"
	// TypeHooksDone, host → init: Error is set if a hook failed; State is
	// the state JSON for the createContainer and startContainer hooks.
	TypeHooksDone = "hooksDone"
	// TypeSeccompListener, init → host: the seccomp notify listener is
	// the descriptor of this message; the host passes it on to
	// linux.seccomp.listenerPath. No answer.
	TypeSeccompListener = "seccompListener"
)

// Msg is a message after the bootstrap, either way.
type Msg struct {
	Type  string          `json:"type"`
	Error string          `json:"error,omitempty"`
	State json.RawMessage `json:"state,omitempty"`
}
