package cgroups

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Parsers for the counter files that stats read. A missing file is reported
// with os.ErrNotExist so callers can leave that counter zero.

// parseStatUint parses one counter value; "max" is the largest uint64.
// Negative values (v1 reads -1 for "none" in some files) read as 0.
func parseStatUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return 0, nil
		}
		return 0, err
	}
	return v, nil
}

// statReader reads counter files of one directory and remembers the first
// error that is not "file missing".
type statReader struct {
	dir string
	err error
}

func (r *statReader) fail(name string, err error) {
	if r.err == nil && !errors.Is(err, os.ErrNotExist) {
		r.err = fmt.Errorf("cgroups: stats: %s: %w", filepath.Join(r.dir, name), err)
	}
}

// str returns the trimmed content of name, "" if missing.
func (r *statReader) str(name string) string {
	s, err := readFile(r.dir, name)
	if err != nil {
		r.fail(name, err)
		return ""
	}
	return s
}

// uint reads a single-value counter file (0 if missing).
func (r *statReader) uint(name string) uint64 {
	s, err := readFile(r.dir, name)
	if err != nil {
		r.fail(name, err)
		return 0
	}
	v, err := parseStatUint(s)
	if err != nil {
		r.fail(name, err)
	}
	return v
}

// int reads a signed single-value file (0 if missing).
func (r *statReader) int(name string) int64 {
	s, err := readFile(r.dir, name)
	if err != nil {
		r.fail(name, err)
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		r.fail(name, err)
	}
	return v
}

// keyed reads a "key value" file (memory.stat, cpu.stat, memory.events);
// nil if missing.
func (r *statReader) keyed(name string) map[string]uint64 {
	s, err := readFile(r.dir, name)
	if err != nil {
		r.fail(name, err)
		return nil
	}
	m, err := parseKeyed(s)
	if err != nil {
		r.fail(name, err)
	}
	return m
}

// uints reads a file of space-separated values (cpuacct.usage_percpu).
func (r *statReader) uints(name string) []uint64 {
	s, err := readFile(r.dir, name)
	if err != nil {
		r.fail(name, err)
		return nil
	}
	var out []uint64
	for _, f := range strings.Fields(s) {
		v, err := parseStatUint(f)
		if err != nil {
			r.fail(name, err)
			return nil
		}
		out = append(out, v)
	}
	return out
}

// list reads a CPU or memory node list ("0-3,5").
func (r *statReader) list(name string) []uint16 {
	s, err := readFile(r.dir, name)
	if err != nil {
		r.fail(name, err)
		return nil
	}
	l, err := parseCPUList(s)
	if err != nil {
		r.fail(name, err)
	}
	return l
}

// parseKeyed parses "key value" lines.
func parseKeyed(s string) (map[string]uint64, error) {
	m := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return m, fmt.Errorf("line %q: want \"key value\"", line)
		}
		v, err := parseStatUint(f[1])
		if err != nil {
			return m, fmt.Errorf("line %q: %w", line, err)
		}
		m[f[0]] = v
	}
	return m, nil
}

// parseCPUList parses a kernel list such as "0-3,8,10-11".
func parseCPUList(s string) ([]uint16, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []uint16
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("list %q: bad range %q", s, part)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, uint16(i))
		}
	}
	return out, nil
}

// parseDevice parses "MAJOR:MINOR".
func parseDevice(s string) (major, minor uint64, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("device %q: want MAJOR:MINOR", s)
	}
	if major, err = strconv.ParseUint(a, 10, 64); err == nil {
		minor, err = strconv.ParseUint(b, 10, 64)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("device %q: %w", s, err)
	}
	return major, minor, nil
}

// parseBlkioV1 parses a v1 blkio file: "MAJ:MIN Op value" lines (a final
// "Total value" line is skipped); "MAJ:MIN value" lines (no op) get Op "".
func parseBlkioV1(s string) ([]BlkioEntry, error) {
	var out []BlkioEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case len(f) == 2 && f[0] == "Total":
			continue
		case len(f) < 2 || len(f) > 3:
			return nil, fmt.Errorf("line %q: want \"MAJ:MIN [OP] VALUE\"", line)
		}
		major, minor, err := parseDevice(f[0])
		if err != nil {
			return nil, err
		}
		e := BlkioEntry{Major: major, Minor: minor}
		val := f[1]
		if len(f) == 3 {
			e.Op, val = f[1], f[2]
		}
		if e.Value, err = strconv.ParseUint(val, 10, 64); err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseIOStatV2 parses v2 io.stat ("MAJ:MIN rbytes=.. wbytes=.. rios=..
// wios=.. dbytes=.. dios=..") into bytes and operations per device and op.
func parseIOStatV2(s string) (bytes, ios []BlkioEntry, err error) {
	ops := map[string]string{"r": "Read", "w": "Write", "d": "Discard"}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		major, minor, err := parseDevice(f[0])
		if err != nil {
			return nil, nil, err
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || len(k) < 2 {
				continue
			}
			op, known := ops[k[:1]]
			if !known {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("line %q: %w", line, err)
			}
			e := BlkioEntry{Major: major, Minor: minor, Op: op, Value: n}
			switch k[1:] {
			case "bytes":
				bytes = append(bytes, e)
			case "ios":
				ios = append(ios, e)
			}
		}
	}
	return bytes, ios, nil
}

// hugePageSizes returns the size names ("2MB", "1GB") that have a control
// file "<prefix><size><suffix>" in dir, sorted.
func hugePageSizes(dir, prefix, suffix string) []string {
	matches, _ := filepath.Glob(filepath.Join(dir, prefix+"*"+suffix))
	var out []string
	for _, m := range matches {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), prefix), suffix)
		if name != "" && !strings.Contains(name, ".") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
