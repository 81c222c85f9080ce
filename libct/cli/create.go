package cli

import (
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/libct"
)

func createFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Value: ".", Usage: "bundle directory"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the init's host PID here"},
		&cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the init"},
		&cli.BoolFlag{Name: "no-pivot", Usage: "use MS_MOVE+chroot instead of pivot_root (ramfs roots)"},
		&cli.BoolFlag{Name: "no-new-keyring", Usage: "share the caller's session keyring instead of a new one for the container"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass N extra descriptors (3..3+N-1) to the container"},
		&cli.BoolFlag{Name: "cow-rootfs", Usage: "copy-on-write root: root.path stays unchanged, writes go to a private layer gone at delete (docs/overlay.md)"},
	}
}

func createOpts(c *cli.Context) (*libct.CreateOpts, error) {
	id, err := needID(c)
	if err != nil {
		return nil, err
	}
	if err := checkPreserveFds(c.Int("preserve-fds")); err != nil {
		return nil, err
	}
	if err := libct.CheckRootlessFlag(c.String("rootless")); err != nil {
		return nil, err
	}
	return &libct.CreateOpts{
		Root:          c.String("root"),
		ID:            id,
		Bundle:        c.String("bundle"),
		PidFile:       c.String("pid-file"),
		NoPivot:       c.Bool("no-pivot"),
		PreserveFds:   c.Int("preserve-fds"),
		ConsoleSocket: c.String("console-socket"),
		PidfdSocket:   c.String("pidfd-socket"),
		Systemd:       c.Bool("systemd-cgroup"),
		CowRootfs:     c.Bool("cow-rootfs"),
		NoNewKeyring:  c.Bool("no-new-keyring"),
		Rootless:      c.String("rootless"),
	}, nil
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container; its process waits for start",
	ArgsUsage: "[--bundle DIR] [--pid-file FILE] ID",
	Flags:     createFlags(),
	Action: func(c *cli.Context) error {
		o, err := createOpts(c)
		if err != nil {
			return err
		}
		_, err = libct.Create(o)
		return err
	},
}

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container; wait for it unless --detach",
	ArgsUsage: "[--detach] [--bundle DIR] ID",
	Flags: append(createFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container started"},
		&cli.BoolFlag{Name: "keep", Usage: "keep the stopped container after a foreground run (rt delete removes it)"},
	),
	Action: func(c *cli.Context) error {
		o, err := createOpts(c)
		if err != nil {
			return err
		}
		if c.Bool("keep") && c.Bool("detach") {
			return errors.New("run: --keep and --detach exclude each other (a detached container is never deleted by run)")
		}
		code, err := libct.Run(o, c.Bool("detach"), c.Bool("keep"))
		if err != nil {
			return err
		}
		if code != 0 {
			return exitCode(code)
		}
		return nil
	},
}

var startCommand = &cli.Command{
	Name:      "start",
	Usage:     "start a created container",
	ArgsUsage: "ID",
	Action: func(c *cli.Context) error {
		id, err := needID(c)
		if err != nil {
			return err
		}
		return libct.Start(c.String("root"), id)
	},
}
