package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/libct"
)

var pauseCommand = &cli.Command{
	Name:      "pause",
	Usage:     "freeze every process of a running container",
	ArgsUsage: "ID",
	Action: func(c *cli.Context) error {
		id, err := needID(c)
		if err != nil {
			return err
		}
		return libct.Pause(c.String("root"), id)
	},
}

var resumeCommand = &cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "ID",
	Action: func(c *cli.Context) error {
		id, err := needID(c)
		if err != nil {
			return err
		}
		return libct.Resume(c.String("root"), id)
	},
}

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "list the processes of a container (--format json: an array of host PIDs)",
	ArgsUsage: "ID",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		id, err := needID(c)
		if err != nil {
			return err
		}
		pids, err := libct.Pids(c.String("root"), id)
		if err != nil {
			return err
		}
		switch c.String("format") {
		case "json":
			if pids == nil {
				pids = []int{}
			}
			return json.NewEncoder(os.Stdout).Encode(pids)
		case "table":
			fmt.Println("PID\tCMD")
			for _, p := range pids {
				cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/comm")
				fmt.Printf("%d\t%s", p, cmd)
			}
			return nil
		default:
			return fmt.Errorf("ps --format: unknown format %q (table or json)", c.String("format"))
		}
	},
}
