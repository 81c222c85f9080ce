// Command rt is a daemonless OCI container runtime.
package main

import (
	"os"

	"github.com/rt-oci/rt/libct/cli"
	"github.com/rt-oci/rt/libct/initstage"
)

func main() {
	// The container init is rt re-exec'd from its sealed copy; it never
	// reaches the CLI.
	if initstage.IsInit() {
		initstage.Main()
	}
	cli.Main(os.Args)
}
