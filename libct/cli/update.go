package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/libct"
)

// updateValueFlags are the flags that set one value (all but --resources).
var updateValueFlags = []string{
	"blkio-weight", "cpu-period", "cpu-quota", "cpu-burst", "cpu-share", "cpu-rt-period",
	"cpu-rt-runtime", "cpu-idle", "cpuset-cpus", "cpuset-mems", "memory", "memory-reservation",
	"memory-swap", "pids-limit", "kernel-memory", "kernel-memory-tcp",
	"l3-cache-schema", "mem-bw-schema",
}

var updateCommand = &cli.Command{
	Name:  "update",
	Usage: "change the resource limits of a created, running or paused container",
	ArgsUsage: `[flags] ID

--resources FILE (or - for stdin) takes a JSON linux.resources object; the
other flags set one value each and cannot be combined with it. Values left
out (or 0) stay as they are, but for --cpu-burst 0 and --cpu-idle 0, which
are values; -1 means no limit. Memory sizes take units: 512M, 1.5G, 64KiB.
The JSON may also change blockIO throttles and per-device weights (rate 0
lifts a throttle), hugepageLimits, network and rdma, per device, page size,
interface or RDMA device.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "resources", Aliases: []string{"r"}, Usage: "JSON linux.resources from FILE, or - for stdin"},
		&cli.StringFlag{Name: "blkio-weight", Usage: "block IO weight, 10-1000 (v2: io.weight)"},
		&cli.StringFlag{Name: "cpu-period", Usage: "CFS period in microseconds"},
		&cli.StringFlag{Name: "cpu-quota", Usage: "CFS quota in microseconds per period, -1 for none"},
		&cli.StringFlag{Name: "cpu-burst", Usage: "CFS burst in microseconds, at most the quota; 0 for none (v2: cpu.max.burst)"},
		&cli.StringFlag{Name: "cpu-share", Aliases: []string{"cpu-shares"}, Usage: "CPU shares, 2-262144 (v2: converted to cpu.weight)"},
		&cli.StringFlag{Name: "cpu-rt-period", Usage: "realtime period in microseconds (cgroup v1 only)"},
		&cli.StringFlag{Name: "cpu-rt-runtime", Usage: "realtime runtime in microseconds per period, within the parent cgroup's (cgroup v1 only)"},
		&cli.StringFlag{Name: "cpu-idle", Usage: "1: the cgroup's tasks run as SCHED_IDLE; 0: not"},
		&cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to run on, e.g. 0-1,3"},
		&cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes to use, e.g. 0"},
		&cli.StringFlag{Name: "memory", Usage: "memory limit, e.g. 512M; -1 for none"},
		&cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit (v2: memory.low)"},
		&cli.StringFlag{Name: "memory-swap", Usage: "memory+swap limit; -1 for unlimited swap"},
		&cli.StringFlag{Name: "pids-limit", Usage: "maximum number of processes; -1 for none"},
		&cli.StringFlag{Name: "kernel-memory", Hidden: true, Usage: "ignored, as by runc 1.1+"},
		&cli.StringFlag{Name: "kernel-memory-tcp", Hidden: true, Usage: "ignored, as by runc 1.1+"},
		&cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT L3 schema (not supported)"},
		&cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT memory bandwidth schema (not supported)"},
	},
	Action: func(c *cli.Context) error {
		id, err := needID(c)
		if err != nil {
			return err
		}
		if c.NArg() > 1 {
			return fmt.Errorf("update: one container ID expected, got %d arguments", c.NArg())
		}
		r, err := updateResources(c)
		if err != nil {
			return err
		}
		return libct.Update(c.String("root"), id, r)
	},
}

// updateResources builds the change from --resources or from the flags.
func updateResources(c *cli.Context) (*specs.LinuxResources, error) {
	for _, f := range []string{"l3-cache-schema", "mem-bw-schema"} {
		if c.IsSet(f) {
			return nil, fmt.Errorf("--%s: %w", f, libct.ErrNoIntelRdt)
		}
	}
	if in := c.String("resources"); in != "" {
		for _, f := range updateValueFlags {
			if c.IsSet(f) {
				return nil, fmt.Errorf("--resources and --%s: give the values in the JSON, or use the flags without --resources", f)
			}
		}
		return readResources(in)
	}
	for _, f := range []string{"kernel-memory", "kernel-memory-tcp"} {
		if c.IsSet(f) {
			logrus.Warnf("--%s is ignored (kernel memory limits are obsolete), as by runc 1.1 and later", f)
		}
	}
	r := &specs.LinuxResources{Memory: &specs.LinuxMemory{}, CPU: &specs.LinuxCPU{}}
	for _, f := range []struct {
		name string
		dst  **int64
	}{
		{"memory", &r.Memory.Limit},
		{"memory-reservation", &r.Memory.Reservation},
		{"memory-swap", &r.Memory.Swap},
	} {
		if c.IsSet(f.name) {
			v, err := libct.ParseMemory(c.String(f.name))
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", f.name, err)
			}
			*f.dst = &v
		}
	}
	for _, f := range []struct {
		name string
		dst  **uint64
	}{
		{"cpu-period", &r.CPU.Period},
		{"cpu-share", &r.CPU.Shares},
		{"cpu-rt-period", &r.CPU.RealtimePeriod},
		{"cpu-burst", &r.CPU.Burst},
	} {
		if c.IsSet(f.name) {
			v, err := strconv.ParseUint(c.String(f.name), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("--%s: %q is not a non-negative integer", f.name, c.String(f.name))
			}
			*f.dst = &v
		}
	}
	for _, f := range []struct {
		name string
		dst  **int64
	}{
		{"cpu-quota", &r.CPU.Quota},
		{"cpu-rt-runtime", &r.CPU.RealtimeRuntime},
		{"cpu-idle", &r.CPU.Idle},
	} {
		if c.IsSet(f.name) {
			v, err := strconv.ParseInt(c.String(f.name), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("--%s: %q is not an integer", f.name, c.String(f.name))
			}
			*f.dst = &v
		}
	}
	r.CPU.Cpus = c.String("cpuset-cpus")
	r.CPU.Mems = c.String("cpuset-mems")
	if c.IsSet("pids-limit") {
		v, err := strconv.ParseInt(c.String("pids-limit"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--pids-limit: %q is not an integer", c.String("pids-limit"))
		}
		r.Pids = &specs.LinuxPids{Limit: &v}
	}
	if c.IsSet("blkio-weight") {
		v, err := strconv.ParseUint(c.String("blkio-weight"), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("--blkio-weight: %q is not a weight (10-1000)", c.String("blkio-weight"))
		}
		w := uint16(v)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return r, nil
}

// readResources decodes a linux.resources object from a file or stdin.
func readResources(in string) (*specs.LinuxResources, error) {
	var f io.Reader = os.Stdin
	name := "stdin"
	if in != "-" {
		file, err := os.Open(in)
		if err != nil {
			return nil, fmt.Errorf("--resources: %w", err)
		}
		defer file.Close()
		f, name = file, in
	}
	r := &specs.LinuxResources{}
	dec := json.NewDecoder(f)
	if err := dec.Decode(r); err != nil {
		return nil, fmt.Errorf("--resources: %s: not a JSON linux.resources object: %w", name, err)
	}
	return r, nil
}
