package cgroups

// The bpf(2) calls for device programs, without cgo or an eBPF library.
// The attribute structs mirror the parts of union bpf_attr (and struct
// bpf_prog_info) that are used; the kernel treats missing trailing fields
// as zero. Pointers in them are u64 values, so every buffer they point to
// is pinned (kept at its heap address) for the call.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// devProgName is the name rt gives its device programs (at most 15
// bytes). An update detaches the attached programs of this name, and only
// those.
const devProgName = "rt_devices"

// devProgLicense is the license of the program: it calls no helper, so
// GPL compatibility does not matter.
var devProgLicense = "Apache-2.0"

type bpfProgLoadAttr struct {
	progType           uint32
	insnCnt            uint32
	insns              uint64
	license            uint64
	logLevel           uint32
	logSize            uint32
	logBuf             uint64
	kernVersion        uint32
	progFlags          uint32
	progName           [unix.BPF_OBJ_NAME_LEN]byte
	progIfindex        uint32
	expectedAttachType uint32
}

type bpfProgAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

type bpfProgQueryAttr struct {
	targetFd    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCnt     uint32
	_           uint32
}

type bpfGetFdByIDAttr struct {
	id        uint32
	nextID    uint32
	openFlags uint32
}

type bpfObjInfoAttr struct {
	bpfFd   uint32
	infoLen uint32
	info    uint64
}

// bpfProgInfo is the start of struct bpf_prog_info, up to the name.
type bpfProgInfo struct {
	typ             uint32
	id              uint32
	tag             [unix.BPF_TAG_SIZE]byte
	jitedProgLen    uint32
	xlatedProgLen   uint32
	jitedProgInsns  uint64
	xlatedProgInsns uint64
	loadTime        uint64
	createdByUID    uint32
	nrMapIDs        uint32
	mapIDs          uint64
	name            [unix.BPF_OBJ_NAME_LEN]byte
}

// bpf calls bpf(2), retrying when interrupted.
func bpf(cmd uintptr, attr unsafe.Pointer, size uintptr) (int, error) {
	for {
		r, _, errno := unix.Syscall(unix.SYS_BPF, cmd, uintptr(attr), size)
		switch errno {
		case 0:
			return int(r), nil
		case unix.EINTR, unix.EAGAIN:
			continue
		}
		return -1, errno
	}
}

// pin pins p (a pointer to a buffer) and returns its address for an attr.
func pin(pn *runtime.Pinner, p unsafe.Pointer) uint64 {
	pn.Pin(p)
	return uint64(uintptr(p))
}

// loadDeviceProgram loads prog and returns its fd. When the verifier
// refuses it, the error ends with the verifier's log.
func loadDeviceProgram(prog []bpfInsn) (int, error) {
	if len(prog) == 0 {
		return -1, errors.New("bpf: empty program")
	}
	fd, err := progLoad(prog, devProgName, nil)
	if errors.Is(err, unix.EPERM) && raiseMemlock() {
		// Kernels before 5.11 charge programs to RLIMIT_MEMLOCK.
		fd, err = progLoad(prog, devProgName, nil)
	}
	if err == nil {
		return fd, nil
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EACCES) {
		log := make([]byte, 64<<10)
		if _, err2 := progLoad(prog, devProgName, log); err2 != nil {
			if i := bytes.IndexByte(log, 0); i >= 0 {
				log = log[:i]
			}
			// The verifier says why at the end.
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			if len(lines) > 20 {
				lines = lines[len(lines)-20:]
			}
			if l := strings.Join(lines, "\n"); l != "" {
				return -1, fmt.Errorf("bpf(BPF_PROG_LOAD): %w; verifier log (end):\n%s", err, l)
			}
		}
	}
	return -1, fmt.Errorf("bpf(BPF_PROG_LOAD): %w", err)
}

// progLoad loads a device program named name (at most 15 bytes), with the
// verifier's log in log if it is not empty.
func progLoad(prog []bpfInsn, name string, log []byte) (int, error) {
	var pn runtime.Pinner
	defer pn.Unpin()
	license := append([]byte(devProgLicense), 0)
	attr := bpfProgLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    pin(&pn, unsafe.Pointer(&prog[0])),
		license:  pin(&pn, unsafe.Pointer(&license[0])),
	}
	copy(attr.progName[:len(attr.progName)-1], name)
	if len(log) > 0 {
		attr.logLevel = 1
		attr.logSize = uint32(len(log))
		attr.logBuf = pin(&pn, unsafe.Pointer(&log[0]))
	}
	return bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)) // O_CLOEXEC
}

// raiseMemlock lifts RLIMIT_MEMLOCK as far as allowed and reports whether
// it changed. It is only tried after a load failed (old kernels), so that
// rt and what it starts keep the limit they were given otherwise.
func raiseMemlock() bool {
	var l unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &l) != nil {
		return false
	}
	want := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if unix.Setrlimit(unix.RLIMIT_MEMLOCK, &want) == nil {
		return true
	}
	if l.Cur == l.Max {
		return false
	}
	want = unix.Rlimit{Cur: l.Max, Max: l.Max}
	return unix.Setrlimit(unix.RLIMIT_MEMLOCK, &want) == nil
}

// queryDevicePrograms returns the ids of the device programs attached to
// the cgroup itself (not the ones inherited from its parents).
func queryDevicePrograms(cgfd int) ([]uint32, error) {
	n := 16
	for range 8 {
		ids := make([]uint32, n)
		var pn runtime.Pinner
		attr := bpfProgQueryAttr{
			targetFd:   uint32(cgfd),
			attachType: unix.BPF_CGROUP_DEVICE,
			progIDs:    pin(&pn, unsafe.Pointer(&ids[0])),
			progCnt:    uint32(len(ids)),
		}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		pn.Unpin()
		switch {
		case errors.Is(err, unix.ENOSPC):
			n = max(int(attr.progCnt), 2*n) // attr.progCnt is the number attached
			continue
		case err != nil:
			return nil, fmt.Errorf("bpf(BPF_PROG_QUERY): %w", err)
		}
		return ids[:min(int(attr.progCnt), len(ids))], nil
	}
	return nil, errors.New("bpf(BPF_PROG_QUERY): the list of programs keeps growing")
}

// progFdByID opens the program with this id.
func progFdByID(id uint32) (int, error) {
	attr := bpfGetFdByIDAttr{id: id}
	fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err != nil {
		return -1, fmt.Errorf("bpf(BPF_PROG_GET_FD_BY_ID %d): %w", id, err)
	}
	return fd, nil
}

// progInfo returns the type, id and name of a program.
func progInfo(fd int) (typ, id uint32, name string, err error) {
	var pn runtime.Pinner
	defer pn.Unpin()
	info := new(bpfProgInfo)
	attr := bpfObjInfoAttr{
		bpfFd:   uint32(fd),
		infoLen: uint32(unsafe.Sizeof(*info)),
		info:    pin(&pn, unsafe.Pointer(info)),
	}
	if _, err := bpf(unix.BPF_OBJ_GET_INFO_BY_FD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return 0, 0, "", fmt.Errorf("bpf(BPF_OBJ_GET_INFO_BY_FD): %w", err)
	}
	name = string(info.name[:])
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return info.typ, info.id, name, nil
}

func progAttach(cgfd, progfd int) error {
	attr := bpfProgAttachAttr{
		targetFd:    uint32(cgfd),
		attachBpfFd: uint32(progfd),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI): %w", err)
	}
	return nil
}

func progDetach(cgfd, progfd int) error {
	attr := bpfProgAttachAttr{
		targetFd:    uint32(cgfd),
		attachBpfFd: uint32(progfd),
		attachType:  unix.BPF_CGROUP_DEVICE,
	}
	if _, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE): %w", err)
	}
	return nil
}

// openCgroupDir opens dir for bpf(2) (an O_PATH fd is refused there).
func openCgroupDir(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
}

// attachDeviceProgram loads prog, attaches it to the cgroup dir, and then
// detaches the device programs rt attached there before.
func attachDeviceProgram(dir string, prog []bpfInsn) error {
	cgfd, err := openCgroupDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(cgfd)
	old, err := queryDevicePrograms(cgfd)
	if err != nil {
		return err
	}
	progfd, err := loadDeviceProgram(prog)
	if err != nil {
		return err
	}
	defer unix.Close(progfd)
	if err := progAttach(cgfd, progfd); err != nil {
		return err
	}
	var errs []error
	for _, id := range old {
		if err := detachIfOurs(cgfd, id); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("the new device program is attached, but an old one is still there: %w", err)
	}
	return nil
}

// detachIfOurs detaches program id from the cgroup if it is rt's device
// program. A program that is gone already, or that we may not see (an LSM
// can refuse it), is left alone.
func detachIfOurs(cgfd int, id uint32) error {
	fd, err := progFdByID(id)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return nil
	} else if err != nil {
		return err
	}
	defer unix.Close(fd)
	typ, _, name, err := progInfo(fd)
	if err != nil {
		return err
	}
	if typ != unix.BPF_PROG_TYPE_CGROUP_DEVICE || name != devProgName {
		return nil
	}
	err = progDetach(cgfd, fd)
	if errors.Is(err, unix.ENOENT) {
		return nil // someone detached it meanwhile
	}
	return err
}

// inUserNS reports whether rt runs in a user namespace other than the
// initial one.
func inUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}
