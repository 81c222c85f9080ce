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
		// cgroup v1/v2, apparmor and selinux "enabled" mean built in
		// (runtime-spec, as runc); what the host runs is told by
		// annotations.
		h := spec.Host{CgroupV1: true, CgroupV2: true, AppArmor: true, SELinux: true, Seccomp: seccomp.Supported}
		f := spec.Features(h)
		f.Annotations["org.rt.host.cgroup"] = map[bool]string{true: "v2", false: "v1"}[cgroups.IsV2()]
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
