package cli

import (
	"encoding/json"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rt-oci/rt/libct"
)

var eventsCommand = &cli.Command{
	Name:  "events",
	Usage: "print a container's stats and OOM events as JSON lines",
	ArgsUsage: `[--stats] [--interval 5s] ID

With --stats, one stats event is printed and rt exits. Otherwise a stats
event is printed every interval and an oom event whenever the OOM killer
acts in the container's cgroup, until the container stops.`,
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between stats events"},
		&cli.BoolFlag{Name: "stats", Usage: "print the stats once and exit"},
	},
	Action: func(c *cli.Context) error {
		id, err := needID(c)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		emit := func(e *libct.Event) error { return enc.Encode(e) }
		if c.Bool("stats") {
			s, err := libct.Stats(c.String("root"), id)
			if err != nil {
				return err
			}
			return emit(&libct.Event{Type: "stats", ID: id, Data: s})
		}
		return libct.Events(c.String("root"), id, c.Duration("interval"), emit)
	},
}
