package libct

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A minimal rtnetlink client for linux.netDevices (libct/netdev.go):
// link down/up, move+rename into a network namespace, address dump and
// add. Requests are acknowledged one at a time.

type rtnl struct {
	fd  int
	seq uint32
}

// rtnlOpen opens a route netlink socket in rt's own network namespace.
func rtnlOpen() (*rtnl, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return &rtnl{fd: fd}, nil
}

// rtnlOpenIn opens a route netlink socket in the network namespace nsfd:
// a socket stays in the namespace it was made in. The thread that makes
// it enters nsfd and goes back; if it cannot, it is left locked and ends.
func rtnlOpenIn(nsfd int) (*rtnl, error) {
	type result struct {
		s   *rtnl
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, fmt.Errorf("open own network namespace: %w", err)}
			return
		}
		defer unix.Close(self)
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, fmt.Errorf("enter the container's network namespace: %w", err)}
			return
		}
		s, err := rtnlOpen()
		if unix.Setns(self, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{s, err}
	}()
	r := <-done
	return r.s, r.err
}

func (s *rtnl) Close() { unix.Close(s.fd) }

// attr is one rtattr.
type attr struct {
	typ  uint16
	data []byte
}

func rtaAlign(n int) int { return (n + 3) &^ 3 }

// request sends one message and waits for its acknowledgement; with
// dump it collects the answers instead.
func (s *rtnl) request(typ, flags uint16, body []byte, attrs []attr) ([]syscall.NetlinkMessage, error) {
	s.seq++
	msg := make([]byte, unix.NLMSG_HDRLEN, 256)
	msg = append(msg, body...)
	for _, a := range attrs {
		l := unix.SizeofRtAttr + len(a.data)
		h := make([]byte, rtaAlign(l))
		binary.NativeEndian.PutUint16(h[0:], uint16(l))
		binary.NativeEndian.PutUint16(h[2:], a.typ)
		copy(h[unix.SizeofRtAttr:], a.data)
		msg = append(msg, h...)
	}
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], s.seq)
	if err := unix.Sendto(s.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	var out []syscall.NetlinkMessage
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Header.Seq != s.seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return nil, errors.New("netlink: short error message")
				}
				if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
					return nil, syscall.Errno(-e)
				}
				return out, nil
			default:
				// buf is read into again: keep a copy.
				m.Data = append([]byte(nil), m.Data...)
				out = append(out, m)
			}
		}
	}
}

// rtattrs splits b into attributes; it stops at a malformed one.
func rtattrs(b []byte) []attr {
	var out []attr
	for len(b) >= unix.SizeofRtAttr {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		if l < unix.SizeofRtAttr || l > len(b) {
			break
		}
		out = append(out, attr{binary.NativeEndian.Uint16(b[2:]), b[unix.SizeofRtAttr:l]})
		if n := rtaAlign(l); n < len(b) {
			b = b[n:]
		} else {
			break
		}
	}
	return out
}

func ifinfo(index int32, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	b[0] = unix.AF_UNSPEC
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], flags)
	binary.NativeEndian.PutUint32(b[12:], change)
	return b
}

func cstr(s string) []byte { return append([]byte(s), 0) }

func u32(v uint32) []byte {
	b := make([]byte, 4)
	binary.NativeEndian.PutUint32(b, v)
	return b
}

// setUp sets the link up or down.
func (s *rtnl) setUp(index int32, up bool) error {
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	_, err := s.request(unix.RTM_NEWLINK, 0, ifinfo(index, flags, unix.IFF_UP), nil)
	return err
}

// moveTo moves the link into the network namespace nsfd and names it
// name there, in one request (no clash with a host name on the way).
func (s *rtnl) moveTo(index int32, name string, nsfd int) error {
	_, err := s.request(unix.RTM_NEWLINK, 0, ifinfo(index, 0, 0), []attr{
		{unix.IFLA_IFNAME, cstr(name)},
		{unix.IFLA_NET_NS_FD, u32(uint32(nsfd))},
	})
	return err
}

// link looks a link up by index (when > 0) or by name; it returns its
// index and name.
func (s *rtnl) link(index int32, name string) (int32, string, error) {
	var attrs []attr
	if index <= 0 {
		attrs = []attr{{unix.IFLA_IFNAME, cstr(name)}}
	}
	msgs, err := s.request(unix.RTM_GETLINK, 0, ifinfo(index, 0, 0), attrs)
	if err != nil {
		return 0, "", err
	}
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWLINK || len(m.Data) < unix.SizeofIfInfomsg {
			continue
		}
		idx := int32(binary.NativeEndian.Uint32(m.Data[4:]))
		for _, a := range rtattrs(m.Data[unix.SizeofIfInfomsg:]) {
			if a.typ&^unix.NLA_F_NESTED == unix.IFLA_IFNAME {
				return idx, unix.ByteSliceToString(a.data), nil
			}
		}
	}
	return 0, "", unix.ENODEV
}

// ifAddr is an address of a link.
type ifAddr struct {
	family    uint8
	prefixLen uint8
	ip        netip.Addr
}

// keptAddrs lists the addresses of link index that move with it: the
// permanent ones of global scope (runtime-spec, RFC 3549 2.3.3.2).
func (s *rtnl) keptAddrs(index int32) ([]ifAddr, error) {
	body := make([]byte, unix.SizeofIfAddrmsg)
	body[0] = unix.AF_UNSPEC
	msgs, err := s.request(unix.RTM_GETADDR, unix.NLM_F_DUMP, body, nil)
	if err != nil {
		return nil, err
	}
	var out []ifAddr
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWADDR || len(m.Data) < unix.SizeofIfAddrmsg {
			continue
		}
		am := (*unix.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
		if int32(am.Index) != index || am.Scope != unix.RT_SCOPE_UNIVERSE {
			continue
		}
		flags := uint32(am.Flags)
		var ip netip.Addr
		for _, a := range rtattrs(m.Data[unix.SizeofIfAddrmsg:]) {
			switch a.typ {
			case unix.IFA_FLAGS:
				if len(a.data) >= 4 {
					flags = binary.NativeEndian.Uint32(a.data)
				}
			case unix.IFA_LOCAL:
				ip, _ = netip.AddrFromSlice(a.data)
			case unix.IFA_ADDRESS:
				if !ip.IsValid() {
					ip, _ = netip.AddrFromSlice(a.data)
				}
			}
		}
		if flags&unix.IFA_F_PERMANENT == 0 || !ip.IsValid() {
			continue
		}
		out = append(out, ifAddr{family: am.Family, prefixLen: am.Prefixlen, ip: ip})
	}
	return out, nil
}

// addAddr adds a to link index.
func (s *rtnl) addAddr(index int32, a ifAddr) error {
	body := make([]byte, unix.SizeofIfAddrmsg)
	body[0], body[1] = a.family, a.prefixLen
	body[3] = unix.RT_SCOPE_UNIVERSE
	binary.NativeEndian.PutUint32(body[4:], uint32(index))
	attrs := []attr{{unix.IFA_ADDRESS, a.ip.AsSlice()}}
	if a.family == unix.AF_INET {
		attrs = append(attrs, attr{unix.IFA_LOCAL, a.ip.AsSlice()})
	}
	_, err := s.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body, attrs)
	return err
}
