package state

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// StartTime returns field 22 of /proc/PID/stat (clock ticks since boot),
// which together with the PID identifies a process.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces and parentheses: parse after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); start time is field 22.
	if len(f) < 20 {
		return 0, fmt.Errorf("parse /proc/%d/stat: short", pid)
	}
	return strconv.ParseUint(string(f[19]), 10, 64)
}

// ProcState returns the state letter of /proc/PID/stat ('R', 'S', 'Z', ...).
func ProcState(pid int) (byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return b[i+2], nil
}

// Alive reports whether pid still is the process that started at start
// (and has not exited: a zombie counts as gone).
func Alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := StartTime(pid)
	if err != nil || st != start {
		return false
	}
	s, err := ProcState(pid)
	return err == nil && s != 'Z' && s != 'X'
}

// Signal sends sig to pid if it still is the process that started at
// start, through a pidfd so the check and the kill refer to one process.
func Signal(pid int, start uint64, sig unix.Signal) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if err == unix.ESRCH {
			return unix.ESRCH
		}
		return err
	}
	defer unix.Close(fd)
	if st, err := StartTime(pid); err != nil || st != start {
		return unix.ESRCH
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0)
}
