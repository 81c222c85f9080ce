package initstage

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/rt-oci/rt/libct/proto"
)

func init() {
	// Everything per-thread (capset, no_new_privs, setuid on this thread,
	// the exec) must happen on one OS thread: the main one.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.LockOSThread()
		// Nobody may ptrace or process_vm_writev the init while it holds
		// rt's privileges (CVE-2016-9962); the exec of the workload makes
		// the process dumpable again as usual.
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	}
}

// IsInit reports whether this process was started as the container init.
func IsInit() bool { return len(os.Args) > 2 && os.Args[1] == "init" }

// Main runs the init stage and never returns.
func Main() {
	fd, err := strconv.Atoi(os.Args[2])
	if err != nil || fd < 3 {
		fmt.Fprintln(os.Stderr, "rt init: internal command, started by rt create")
		os.Exit(2)
	}
	unix.CloseOnExec(fd)
	conn := proto.NewConn(fd)
	var b proto.Bootstrap
	fds, err := conn.Recv(&b)
	if err != nil {
		os.Exit(2)
	}
	err = run(conn, &b, fds)
	// run returns only on failure.
	conn.Send(proto.Msg{Type: proto.TypeError, Error: err.Error()})
	os.Exit(1)
}
