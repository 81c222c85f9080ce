//go:build cgo

package seccomp

import (
	"fmt"
	"os"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// struct seccomp_notif and struct seccomp_notif_resp (linux/seccomp.h).
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// TestLoadNotify: a SCMP_ACT_NOTIFY profile loads with a listener; the
// child hands the fd over SCM_RIGHTS (as rt's init will), and the test,
// acting as the agent, receives the notification with
// SECCOMP_IOCTL_NOTIF_RECV and answers it; the child sees the answer.
func TestLoadNotify(t *testing.T) {
	for _, flags := range [][]specs.LinuxSeccompFlag{nil, {specs.LinuxSeccompFlagWaitKillableRecv}} {
		t.Run(fmt.Sprint(flags), func(t *testing.T) {
			p := mustCompile(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				ListenerPath:  "/run/agent.sock",
				Flags:         flags,
				Syscalls:      []specs.LinuxSyscall{rule(specs.ActNotify, nil, "getppid")},
			})
			if !p.Notify {
				t.Fatal("Program.Notify not set")
			}
			if len(flags) > 0 && p.Flags != unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV {
				t.Fatalf("flags %#x", p.Flags)
			}
			sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			mine, theirs := os.NewFile(uintptr(sp[0]), "agent"), os.NewFile(uintptr(sp[1]), "init")
			defer mine.Close()
			cmd, stdout, stderr := startChild(t, childReq{
				Program:      p,
				SendListener: true,
				Calls:        []call{{Name: "getppid", Nr: unix.SYS_GETPPID, Args: [6]uint64{0xdead}}},
			}, theirs)
			theirs.Close()

			listener, err := recvFd(sp[0])
			if err != nil {
				finishChild(t, cmd, stdout, stderr)
				t.Fatalf("receiving the listener: %v (stdout %q, stderr %q)", err, stdout, stderr)
			}
			defer unix.Close(listener)

			// A signal (the child's Go runtime preempts with SIGURG) can
			// interrupt the waiting call; it restarts as a new notification
			// and answering the old one gives ENOENT. Agents retry; so do we.
			for attempt := 0; ; attempt++ {
				var req seccompNotif
				if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
					finishChild(t, cmd, stdout, stderr)
					t.Fatalf("SECCOMP_IOCTL_NOTIF_RECV: %v", e)
				}
				if req.Nr != unix.SYS_GETPPID || req.Arch != unix.AUDIT_ARCH_X86_64 || req.Args[0] != 0xdead {
					t.Errorf("notification nr %d arch %#x arg0 %#x", req.Nr, req.Arch, req.Args[0])
				}
				if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", cmd.Process.Pid, req.Pid)); err != nil {
					t.Errorf("notification from %d, not a thread of the child %d", req.Pid, cmd.Process.Pid)
				}
				resp := seccompNotifResp{ID: req.ID, Val: 4242}
				_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
				if e == unix.ENOENT && attempt < 200 {
					continue
				}
				if e != 0 {
					finishChild(t, cmd, stdout, stderr)
					t.Fatalf("SECCOMP_IOCTL_NOTIF_SEND: %v", e)
				}
				break
			}
			o := finishChild(t, cmd, stdout, stderr)
			o.mustLoad(t)
			if r := o.results["getppid"]; r.Errno != 0 || r.Ret != 4242 {
				t.Errorf("getppid = %d, %v; want the agent's 4242", r.Ret, r.Errno)
			}
		})
	}
}

// recvFd receives one fd sent with SCM_RIGHTS on sock.
func recvFd(sock int) (int, error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return -1, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("no fd received (%d control messages, %v)", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return -1, fmt.Errorf("no fd received: %v", err)
	}
	return fds[0], nil
}
