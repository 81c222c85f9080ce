package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/libct"
	"github.com/rt-oci/rt/spec"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a new process in a running container",
	ArgsUsage: "[--process process.json | flags] ID [COMMAND [ARG...]]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "process.json: the whole process (the other process flags are ignored)"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the process"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "add an environment variable (KEY=VALUE)"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-terminal"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "UID[:GID]"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "add a supplementary group"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process started"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the process's host PID here"},
		&cli.StringFlag{Name: "process-label", Usage: "SELinux label of the process"},
		&cli.StringFlag{Name: "apparmor", Usage: "AppArmor profile of the process"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability (CAP_NAME)"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N extra descriptors (3..3+N-1) to the process"},
		&cli.StringFlag{Name: "cgroup", Usage: "sub-cgroup to run in (not supported)"},
		&cli.BoolFlag{Name: "ignore-paused", Hidden: true},
	},
	Action: func(c *cli.Context) error {
		id, err := needID(c)
		if err != nil {
			return err
		}
		if c.String("cgroup") != "" {
			return errors.New("--cgroup: exec into a sub-cgroup is not supported by rt")
		}
		if err := checkPreserveFds(c.Int("preserve-fds")); err != nil {
			return err
		}
		p, err := execProcess(c, id)
		if err != nil {
			return err
		}
		code, err := libct.Exec(&libct.ExecOpts{
			Root:          c.String("root"),
			ID:            id,
			Process:       p,
			ConsoleSocket: c.String("console-socket"),
			PidfdSocket:   c.String("pidfd-socket"),
			Detach:        c.Bool("detach"),
			PidFile:       c.String("pid-file"),
			PreserveFds:   c.Int("preserve-fds"),
		})
		if err != nil {
			return err
		}
		if code != 0 {
			return exitCode(code)
		}
		return nil
	},
}

// execProcess builds the process of an exec: process.json as given, or
// the container's own process with the command line's changes.
func execProcess(c *cli.Context, id string) (*specs.Process, error) {
	if path := c.String("process"); path != "" {
		p, err := spec.LoadProcess(path)
		if err != nil {
			return nil, err
		}
		// As runc: what process.json leaves out of the security settings
		// comes from the container's own process.
		s, err := libct.Config(c.String("root"), id)
		if err != nil {
			return nil, err
		}
		if s.Process != nil {
			if p.Capabilities == nil {
				p.Capabilities = s.Process.Capabilities
			}
			if p.ApparmorProfile == "" {
				p.ApparmorProfile = s.Process.ApparmorProfile
			}
			if p.SelinuxLabel == "" {
				p.SelinuxLabel = s.Process.SelinuxLabel
			}
		}
		return p, nil
	}
	if c.NArg() < 2 {
		return nil, errors.New("exec: missing command (usage: rt exec ID COMMAND [ARG...] or --process FILE)")
	}
	s, err := libct.Config(c.String("root"), id)
	if err != nil {
		return nil, err
	}
	if s.Process == nil {
		return nil, fmt.Errorf("container %q has no process in its config", id)
	}
	p := *s.Process
	p.Args = c.Args().Slice()[1:]
	p.Terminal = c.Bool("tty")
	p.ConsoleSize = nil
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if v := c.String("apparmor"); v != "" {
		p.ApparmorProfile = v
	}
	if v := c.String("process-label"); v != "" {
		p.SelinuxLabel = v
	}
	if c.IsSet("no-new-privs") {
		p.NoNewPrivileges = c.Bool("no-new-privs")
	}
	p.Env = mergeEnv(p.Env, c.StringSlice("env"))
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		} else {
			cp := *p.Capabilities
			p.Capabilities = &cp
		}
		pc := p.Capabilities
		for _, name := range caps {
			name = strings.ToUpper(name)
			if !strings.HasPrefix(name, "CAP_") {
				name = "CAP_" + name
			}
			pc.Bounding = appendNew(pc.Bounding, name)
			pc.Effective = appendNew(pc.Effective, name)
			pc.Permitted = appendNew(pc.Permitted, name)
		}
	}
	if u := c.String("user"); u != "" {
		uid, gid, err := parseUser(u)
		if err != nil {
			return nil, err
		}
		p.User.UID, p.User.GID = uid, gid
	}
	for _, g := range c.Int64Slice("additional-gids") {
		if g < 0 || g > 1<<32-1 {
			return nil, fmt.Errorf("--additional-gids %d: not a valid GID", g)
		}
		p.User.AdditionalGids = append(append([]uint32(nil), p.User.AdditionalGids...), uint32(g))
	}
	return &p, nil
}

// parseUser reads --user UID[:GID] (numeric, like runc; GID defaults to 0).
func parseUser(u string) (uid, gid uint32, err error) {
	us, gs, hasGid := strings.Cut(u, ":")
	n, err := strconv.ParseUint(us, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("--user %q: want UID[:GID] with numeric IDs", u)
	}
	uid = uint32(n)
	if hasGid {
		n, err := strconv.ParseUint(gs, 10, 32)
		if err != nil {
			return 0, 0, fmt.Errorf("--user %q: want UID[:GID] with numeric IDs", u)
		}
		gid = uint32(n)
	}
	return uid, gid, nil
}

// mergeEnv adds KEY=VALUE entries to env; a key already there takes the
// new value in place.
func mergeEnv(env, add []string) []string {
	out := append([]string(nil), env...)
	for _, kv := range add {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, e := range out {
			if ek, _, _ := strings.Cut(e, "="); ek == k {
				out[i] = kv
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(append([]string(nil), list...), v)
}
