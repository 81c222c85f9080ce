// GOMAXPROCS is not derived from cgroup limits: that costs file reads at
// every start and, in the init, would read the container's cgroup.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command rt is a daemonless OCI container runtime.
package main

import (
	"os"

	"github.com/rt-oci/rt/libct/cli"
	"github.com/rt-oci/rt/libct/initstage"
	"github.com/rt-oci/rt/libct/slack"
)

func main() {
	// The container init is rt re-exec'd from its sealed copy; it never
	// reaches the CLI.
	if initstage.IsInit() {
		initstage.Main()
	}
	slack.RelaxOthers(slack.Runtime)
	cli.Main(os.Args)
}
