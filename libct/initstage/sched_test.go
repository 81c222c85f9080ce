package initstage

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSchedAttr(t *testing.T) {
	a, err := schedAttr(&specs.Scheduler{Policy: specs.SchedDeadline, Nice: -3,
		Flags:   []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork, specs.SchedFlagDLOverrun},
		Runtime: 10, Deadline: 20, Period: 30})
	if err != nil {
		t.Fatal(err)
	}
	if a.Policy != 6 || a.Flags != 0x05 || a.Nice != -3 || a.Runtime != 10 || a.Deadline != 20 || a.Period != 30 {
		t.Errorf("SCHED_DEADLINE: %+v", a)
	}
	if a, _ := schedAttr(&specs.Scheduler{Policy: specs.SchedFIFO, Priority: 42}); a.Policy != 1 || a.Priority != 42 {
		t.Errorf("SCHED_FIFO 42: %+v", a)
	}
	if _, err := schedAttr(&specs.Scheduler{Policy: "SCHED_FOO"}); err == nil {
		t.Error("unknown policy accepted")
	}
	if _, err := schedAttr(&specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"X"}}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestIOPrioValue(t *testing.T) {
	for _, c := range []struct {
		io   specs.LinuxIOPriority
		want int
	}{
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 0}, 1 << 13},
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 4}, 2<<13 | 4},
		{specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 7}, 3<<13 | 7},
	} {
		if got, err := ioprioValue(&c.io); err != nil || got != c.want {
			t.Errorf("%+v: %#x, %v; want %#x", c.io, got, err, c.want)
		}
	}
	if _, err := ioprioValue(&specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}); err == nil {
		t.Error("priority 8 accepted")
	}
}
