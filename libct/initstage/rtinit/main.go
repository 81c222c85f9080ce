// GOMAXPROCS is not derived from cgroup limits: that costs file reads at
// every start and, in the init, would read the container's cgroup.

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command rtinit is the container init alone: the init stage of rt without
// the CLI, so the process that waits in every container is small. `make`
// builds it and embeds it in rt (libct/initexe); a plain `go build` of rt
// runs its own binary as the init instead.
package main

import (
	"fmt"
	"os"

	"github.com/rt-oci/rt/libct/initstage"
)

func main() {
	if !initstage.IsInit() {
		fmt.Fprintln(os.Stderr, "rt-init: internal program of rt, started by rt create")
		os.Exit(2)
	}
	initstage.Main()
}
