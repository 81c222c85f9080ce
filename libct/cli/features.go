package cli

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/libct/cgroups"
	"github.com/rt-oci/rt/libct/seccomp"
	"github.com/rt-oci/rt/libct/security"
	"github.com/rt-oci/rt/spec"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print the runtime-spec features this build and host support (JSON)",
	Action: func(c *cli.Context) error {
		v2 := cgroups.IsV2()
		// apparmor/selinux "enabled" means compiled in (runtime-spec);
		// whether the host runs them is told by annotations.
		h := spec.Host{CgroupV1: !v2, CgroupV2: v2, AppArmor: true, SELinux: true, Seccomp: seccomp.Supported}
		f := spec.Features(h)
		f.Annotations["org.rt.host.apparmor"] = onOff(security.AppArmorEnabled())
		f.Annotations["org.rt.host.selinux"] = onOff(security.SELinuxEnabled())
		b, err := json.MarshalIndent(f, "", "    ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	},
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}
