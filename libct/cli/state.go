package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/libct"
)

var stateCommand = &cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
	ArgsUsage: "ID",
	Action: func(c *cli.Context) error {
		id, err := needID(c)
		if err != nil {
			return err
		}
		s, err := libct.GetState(c.String("root"), id)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	},
}

var listCommand = &cli.Command{
	Name:    "list",
	Aliases: []string{"ps-all"},
	Usage:   "list containers",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "IDs only"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		all, err := libct.List(c.String("root"))
		if err != nil {
			return err
		}
		if c.Bool("quiet") {
			for _, s := range all {
				fmt.Println(s.ID)
			}
			return nil
		}
		switch c.String("format") {
		case "json":
			if all == nil {
				all = []*libct.OCIState{}
			}
			return json.NewEncoder(os.Stdout).Encode(all)
		case "table":
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range all {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return w.Flush()
		default:
			return fmt.Errorf("list --format: unknown format %q (table or json)", c.String("format"))
		}
	},
}
