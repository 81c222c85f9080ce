package console

import (
	"io"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"
)

// Relay copies between the caller's stdio and a container's pty master
// (a foreground `rt run` of a terminal container). When stdin is a
// terminal it is put in raw mode and its size follows SIGWINCH. Stop
// restores the terminal and waits briefly for the output to drain.
type Relay struct {
	master  *os.File
	saved   *unix.Termios
	outDone chan struct{}
	winch   chan os.Signal
}

// StartRelay begins relaying.
func StartRelay(master *os.File) *Relay {
	r := &Relay{master: master, outDone: make(chan struct{})}
	if t, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		saved := *t
		r.saved = &saved
		raw := *t
		raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		raw.Oflag &^= unix.OPOST
		raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		raw.Cflag &^= unix.CSIZE | unix.PARENB
		raw.Cflag |= unix.CS8
		raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
		unix.IoctlSetTermios(0, unix.TCSETS, &raw)
		r.resize()
		r.winch = make(chan os.Signal, 1)
		signal.Notify(r.winch, unix.SIGWINCH)
		go func() {
			for range r.winch {
				r.resize()
			}
		}()
	}
	go func() { io.Copy(master, os.Stdin) }()
	go func() {
		io.Copy(os.Stdout, master) // ends with EIO once the container's side is gone
		close(r.outDone)
	}()
	return r
}

func (r *Relay) resize() {
	if ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(int(r.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// Stop waits up to a second for the remaining output and restores stdin.
func (r *Relay) Stop() {
	select {
	case <-r.outDone:
	case <-time.After(time.Second):
	}
	if r.winch != nil {
		signal.Stop(r.winch)
		close(r.winch)
	}
	if r.saved != nil {
		unix.IoctlSetTermios(0, unix.TCSETS, r.saved)
	}
	r.master.Close()
}
