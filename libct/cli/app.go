package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// Version and Commit are set at build time (-ldflags -X).
var (
	Version = "0.1.0-dev"
	Commit  = ""
)

// exitCode lets `run` pass the container's exit status out.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newApp() *cli.App {
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Printf("rt version %s\ncommit: %s\nspec: %s\n", Version, Commit, specs.Version)
	}
	app := &cli.App{
		Name:                   "rt",
		Usage:                  "a daemonless OCI container runtime",
		Version:                Version,
		HideHelpCommand:        true,
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: defaultRoot(), Usage: "state directory"},
			&cli.StringFlag{Name: "log", Usage: "log file (default: stderr)"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "debug", Usage: "debug logging"},
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "use the systemd cgroup driver"},
			&cli.StringFlag{Name: "criu", Hidden: true},
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "cgroup handling of a rootless container: true, false or auto (docs/rootless.md)"},
		},
		Before: setupLog,
		Commands: []*cli.Command{
			specCommand, createCommand, startCommand, runCommand, stateCommand,
			killCommand, deleteCommand, listCommand, featuresCommand,
			pauseCommand, resumeCommand, psCommand, execCommand,
			updateCommand, eventsCommand,
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
	return app
}

func defaultRoot() string {
	if os.Geteuid() != 0 {
		if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
			return d + "/rt"
		}
	}
	return "/run/rt"
}

var logFile io.Writer

func setupLog(c *cli.Context) error {
	logrus.SetOutput(os.Stderr)
	switch f := c.String("log-format"); f {
	case "text":
		logrus.SetFormatter(&logrus.TextFormatter{DisableColors: true})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	default:
		return fmt.Errorf("--log-format: unknown format %q (text or json)", f)
	}
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	if p := c.String("log"); p != "" {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("--log: %w", err)
		}
		logrus.SetOutput(f)
		logFile = f
	}
	return nil
}

// Main runs the CLI and exits.
func Main(args []string) {
	noteOpenFds()
	err := newApp().Run(args)
	if err == nil {
		os.Exit(0)
	}
	var code exitCode
	if errors.As(err, &code) {
		os.Exit(int(code))
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if logFile != nil {
		logrus.Error(msg)
	}
	fmt.Fprintln(os.Stderr, "rt: "+msg)
	os.Exit(1)
}

// maxPreserve bounds --preserve-fds.
const maxPreserve = 1024

// openAtStart records which descriptors 3.. rt inherited: open at start
// and not close-on-exec (the Go runtime's own, like its epoll descriptor,
// are close-on-exec), before rt opened anything itself (the log file).
var openAtStart [maxPreserve + 3]bool

func noteOpenFds() {
	asked := false
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "--preserve-fds") || strings.HasPrefix(a, "-preserve-fds") {
			asked = true
		}
	}
	if !asked {
		return // checkPreserveFds(0) needs nothing
	}
	for fd := 3; fd < len(openAtStart); fd++ {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && fl&unix.FD_CLOEXEC == 0 {
			openAtStart[fd] = true
		}
	}
}

// checkPreserveFds refuses --preserve-fds N unless the caller really
// passed descriptors 3..3+N-1: otherwise one of rt's own files could take
// such a slot and leak into the container.
func checkPreserveFds(n int) error {
	if n < 0 || n > maxPreserve {
		return fmt.Errorf("--preserve-fds %d: must be between 0 and %d", n, maxPreserve)
	}
	for fd := 3; fd < 3+n; fd++ {
		if !openAtStart[fd] {
			return fmt.Errorf("--preserve-fds %d: descriptor %d is not open", n, fd)
		}
	}
	return nil
}

// moreArgs: how many arguments may follow the ID.
var moreArgs = map[string]int{"exec": 1 << 20, "kill": 1}

// needID returns the single container ID argument.
func needID(c *cli.Context) (string, error) {
	if c.NArg() < 1 {
		return "", fmt.Errorf("%s: missing container id (usage: rt %s %s)", c.Command.Name, c.Command.Name, c.Command.ArgsUsage)
	}
	// exec takes a command after the ID and kill a signal; the others
	// take the ID alone (as runc, a stray word is an error, not ignored).
	if max := moreArgs[c.Command.Name] + 1; c.NArg() > max {
		return "", fmt.Errorf("%s: unexpected arguments after the container id: %q (usage: rt %s %s)", c.Command.Name, c.Args().Slice()[1:], c.Command.Name, c.Command.ArgsUsage)
	}
	return c.Args().First(), nil
}
