package libct

import (
	"fmt"
	"sort"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/state"
)

// linux.netDevices (runtime-spec 1.2): create moves each named host
// interface into the container's new network namespace, renamed as
// asked, with its permanent global addresses, and sets it up. The
// record (state.NetDevices) is written before anything moves.
//
// Afterwards the devices belong to the namespace, as the runtime-spec
// wants: rt does not move them out before delete; when the namespace
// dies with the container, the kernel moves physical devices back to the
// host (under their container name) and destroys virtual ones (veth,
// dummy, macvlan...). Only a create that never finished (a crash, then
// delete or a new create of the ID) is undone by moving the devices
// back under their host names (restoreNetDevices). docs/process-fields.md.

// attachHostResources is called once by create, once the init (pid)
// exists and before it is released: linux.intelRdt, then
// linux.netDevices. Each records what it makes in st before making it.
func attachHostResources(h *state.Handle, st *state.State, s *specs.Spec, pid int) error {
	if s.Linux == nil {
		return nil
	}
	if err := applyIntelRdt(h, st, s.Linux.IntelRdt, pid); err != nil {
		return err
	}
	return moveNetDevices(h, st, s, pid)
}

// releaseHostResources undoes attachHostResources where that is rt's to
// do (see restoreNetDevices, removeIntelRdt): destroy calls it before it
// kills the init.
func releaseHostResources(st *state.State) {
	releaseSharedRoot(st)
	restoreNetDevices(st)
	removeIntelRdt(st)
}

// moveNetDevices is called by create once the init exists, before it is
// released: pid is the init, whose network namespace is the container's.
func moveNetDevices(h *state.Handle, st *state.State, s *specs.Spec, pid int) (err error) {
	if s.Linux == nil || len(s.Linux.NetDevices) == 0 {
		return nil
	}
	devs := s.Linux.NetDevices
	names := make([]string, 0, len(devs))
	for k := range devs {
		names = append(names, k)
	}
	sort.Strings(names)
	host, err := rtnlOpen()
	if err != nil {
		return fmt.Errorf("linux.netDevices: %w", err)
	}
	defer host.Close()
	// Every host device must be there before any moves.
	index := map[string]int32{}
	for _, n := range names {
		i, _, err := host.link(0, n)
		if err != nil {
			return fmt.Errorf("linux.netDevices[%q]: no such interface on the host: %w", n, err)
		}
		index[n] = i
	}
	nsfd, err := containerNetNS(pid)
	if err != nil {
		return err
	}
	// Held until this rt process deletes the container or exits: a create
	// that fails after this (the init may have exited already) can still
	// give the devices back.
	heldNetNS[st.ID] = nsfd

	st.NetDevices = map[string]string{}
	for _, n := range names {
		st.NetDevices[n] = inside(n, devs[n])
	}
	if err := h.Save(st); err != nil {
		return err
	}
	ct, err := rtnlOpenIn(nsfd)
	if err != nil {
		return fmt.Errorf("linux.netDevices: %w", err)
	}
	defer ct.Close()
	var moved []string
	defer func() {
		if err != nil {
			// Nothing of a failed create stays in its namespace.
			restoreDevices(ct, moved, st.NetDevices)
		}
	}()
	for _, n := range names {
		want := st.NetDevices[n]
		got, err := moveOne(host, ct, nsfd, n, index[n], want)
		if got != "" { // it is in the container now
			moved = append(moved, n)
			st.NetDevices[n] = got
		}
		if err != nil {
			return fmt.Errorf("linux.netDevices[%q]: %w", n, err)
		}
		if got != want { // a %d name, numbered by the kernel
			if err := h.Save(st); err != nil {
				return err
			}
		}
	}
	return nil
}

// inside is the name of host device n in the container.
func inside(n string, d specs.LinuxNetDevice) string {
	if d.Name != "" {
		return d.Name
	}
	return n
}

// containerNetNS opens the network namespace of pid and checks it is not
// rt's own: devices never move into the host's namespace by mistake.
func containerNetNS(pid int) (int, error) {
	p := "/proc/" + strconv.Itoa(pid) + "/ns/net"
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("linux.netDevices: open %s: %w", p, err)
	}
	var theirs, ours unix.Stat_t
	if err := unix.Fstat(fd, &theirs); err == nil {
		err = unix.Stat("/proc/self/ns/net", &ours)
		if err == nil && theirs.Ino == ours.Ino && theirs.Dev == ours.Dev {
			err = fmt.Errorf("the container shares rt's network namespace")
		}
		if err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("linux.netDevices: %w", err)
		}
	}
	return fd, nil
}

// moveOne moves host device n (index idx) into the container as name,
// keeping its permanent global addresses, and sets it up there. It
// returns the device's name in the container.
func moveOne(host, ct *rtnl, nsfd int, n string, idx int32, name string) (string, error) {
	addrs, err := host.keptAddrs(idx)
	if err != nil {
		return "", fmt.Errorf("list addresses: %w", err)
	}
	if err := host.setUp(idx, false); err != nil {
		return "", fmt.Errorf("set down: %w", err)
	}
	if err := host.moveTo(idx, name, nsfd); err != nil {
		host.setUp(idx, true)
		hint := ""
		if err == unix.EEXIST {
			hint = " (that name is taken in the container; end it with %d to let the kernel number it)"
		}
		return "", fmt.Errorf("move into the container's network namespace as %q: %w%s", name, err, hint)
	}
	// The kernel keeps the index unless it is taken there; a name ending
	// in %d was numbered by the kernel.
	nidx, got, err := ct.link(idx, "")
	if err != nil {
		nidx, got, err = ct.link(0, name)
	}
	if err != nil {
		return "", fmt.Errorf("find %q in the container: %w", name, err)
	}
	for _, a := range addrs {
		if err := ct.addAddr(nidx, a); err != nil && err != unix.EEXIST {
			return got, fmt.Errorf("address %s/%d: %w", a.ip, a.prefixLen, err)
		}
	}
	if err := ct.setUp(nidx, true); err != nil {
		return got, fmt.Errorf("set up in the container: %w", err)
	}
	return got, nil
}

// restoreDevices moves the listed devices (host names, mapped to their
// container names in names) from the container's namespace back to rt's,
// under their host names; best effort.
func restoreDevices(ct *rtnl, hostNames []string, names map[string]string) {
	self, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(self)
	for _, n := range hostNames {
		idx, _, err := ct.link(0, names[n])
		if err != nil {
			continue
		}
		ct.setUp(idx, false)
		ct.moveTo(idx, n, self)
	}
}

// heldNetNS: the network namespaces this rt process moved devices into,
// by container ID (see moveNetDevices).
var heldNetNS = map[string]int{}

// restoreNetDevices undoes linux.netDevices of a create that never
// finished (phase creating): the failing create itself, or delete and a
// new create of the ID after a crash, while the init still lives. Either
// calls it (through releaseHostResources) before the init is killed. A
// created, running or stopped container's devices stay with its
// namespace (see above).
func restoreNetDevices(st *state.State) {
	nsfd, held := heldNetNS[st.ID]
	delete(heldNetNS, st.ID)
	if held {
		defer unix.Close(nsfd)
	}
	if len(st.NetDevices) == 0 || st.Phase != state.PhaseCreating {
		return
	}
	if !held {
		if st.Pid <= 0 || !state.Alive(st.Pid, st.PidStart) {
			return
		}
		var err error
		if nsfd, err = containerNetNS(st.Pid); err != nil {
			return
		}
		defer unix.Close(nsfd)
	}
	ct, err := rtnlOpenIn(nsfd)
	if err != nil {
		return
	}
	defer ct.Close()
	names := make([]string, 0, len(st.NetDevices))
	for n := range st.NetDevices {
		names = append(names, n)
	}
	sort.Strings(names)
	restoreDevices(ct, names, st.NetDevices)
}
