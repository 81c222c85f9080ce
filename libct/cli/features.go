package cli

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/spec"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print the runtime-spec features this build and host support (JSON)",
	Action: func(c *cli.Context) error {
		v2 := cgroups.IsV2()
		// AppArmor and SELinux labels are not applied yet (security-layers
		// work): report what this build does, not what the host could.
		h := spec.Host{CgroupV1: !v2, CgroupV2: v2}
		b, err := json.MarshalIndent(spec.Features(h), "", "    ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	},
}
