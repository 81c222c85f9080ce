package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/spec"
)

var specCommand = &cli.Command{
	Name:  "spec",
	Usage: "write a default config.json",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "bundle directory"},
		&cli.BoolFlag{Name: "rootless", Usage: "a config for an unprivileged user"},
	},
	Action: func(c *cli.Context) error {
		s := spec.Default()
		if c.Bool("rootless") {
			spec.Rootless(s)
		}
		p := filepath.Join(c.String("bundle"), "config.json")
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("spec: %s already exists; remove it first", p)
		}
		b, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return err
		}
		return os.WriteFile(p, append(b, '\n'), 0o666)
	},
}
