package proto

import (
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/fastjson"
)

// MaxMsg bounds one message (a config.json is limited to less).
const MaxMsg = 32 << 20

// Conn frames JSON messages (4-byte big-endian length, then the JSON) over a
// unix stream socket; descriptors ride on the first byte of a message.
type Conn struct{ fd int }

// NewConn wraps a connected unix socket descriptor.
func NewConn(fd int) *Conn { return &Conn{fd: fd} }

// Fd returns the socket descriptor.
func (c *Conn) Fd() int { return c.fd }

// Close closes the socket; closing it again does nothing (the number
// may belong to another descriptor by then).
func (c *Conn) Close() error {
	if c.fd < 0 {
		return nil
	}
	fd := c.fd
	c.fd = -1
	return unix.Close(fd)
}

// Pair makes a connected pair; both ends are close-on-exec.
func Pair() (*Conn, *Conn, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("init socketpair: %w", err)
	}
	return NewConn(fds[0]), NewConn(fds[1]), nil
}

// Send writes v as one message, with fds attached.
func (c *Conn) Send(v any, fds ...int) error {
	b, err := fastjson.Marshal(v)
	if err != nil {
		return err
	}
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for len(buf) > 0 {
		n, err := unix.SendmsgN(c.fd, buf, oob, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("init socket: send: %w", err)
		}
		buf, oob = buf[n:], nil
	}
	return nil
}

// Recv reads one message into v and returns the descriptors that came
// with it (close-on-exec). io.EOF means the peer closed before a message.
func (c *Conn) Recv(v any) ([]int, error) {
	var hdr [4]byte
	fds, err := c.read(hdr[:], true)
	if err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxMsg {
		closeAll(fds)
		return nil, fmt.Errorf("init socket: message of %d bytes is too large", n)
	}
	body := make([]byte, n)
	if _, err := c.read(body, false); err != nil {
		closeAll(fds)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if err := fastjson.Unmarshal(body, v); err != nil {
		closeAll(fds)
		return nil, fmt.Errorf("init socket: bad message: %w", err)
	}
	return fds, nil
}

func (c *Conn) read(b []byte, first bool) ([]int, error) {
	var fds []int
	oob := make([]byte, unix.CmsgSpace(4*8))
	got := 0
	for got < len(b) {
		n, oobn, _, _, err := unix.Recvmsg(c.fd, b[got:], oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			closeAll(fds)
			return nil, fmt.Errorf("init socket: receive: %w", err)
		}
		if oobn > 0 {
			msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
			if perr == nil {
				for _, m := range msgs {
					if r, err := unix.ParseUnixRights(&m); err == nil {
						fds = append(fds, r...)
					}
				}
			}
		}
		if n == 0 {
			closeAll(fds)
			if got == 0 && first {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		}
		got += n
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
