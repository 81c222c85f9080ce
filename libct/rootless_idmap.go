package libct

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The files newuidmap and newgidmap read the caller's ranges from, and
// nsswitch.conf, whose "subid:" line would send them elsewhere (then rt
// leaves the check to the helpers). Tests replace them.
var (
	subuidFile   = "/etc/subuid"
	subgidFile   = "/etc/subgid"
	nsswitchFile = "/etc/nsswitch.conf"
	lookPath     = exec.LookPath
)

// idRange is a half-open range [start, end) of host IDs.
type idRange struct{ start, end uint64 }

// planRootless decides how an unprivileged caller's maps get written: a
// map that is exactly the caller's own ID (size 1) is written directly
// (gid_map after denying setgroups, as the kernel requires); any other
// map needs newuidmap/newgidmap (package uidmap) on PATH and ranges the
// caller owns in /etc/subuid or /etc/subgid.
func (m *idMaps) planRootless(p *specs.Process) error {
	m.unprivileged = true
	name := ""
	if u, err := user.LookupId(strconv.Itoa(os.Geteuid())); err == nil {
		name = u.Username
	}
	var err error
	m.uidHelper, err = planOne("linux.uidMappings", "uid", "newuidmap", subuidFile, uint64(os.Geteuid()), name, m.uids)
	if err != nil {
		return err
	}
	m.gidHelper, err = planOne("linux.gidMappings", "gid", "newgidmap", subgidFile, uint64(os.Getegid()), name, m.gids)
	if err != nil {
		return err
	}
	if m.gidHelper == "" {
		m.denySetgroups = true
		if p != nil && len(p.User.AdditionalGids) > 0 {
			return fmt.Errorf("process.user.additionalGids: a rootless container whose linux.gidMappings maps only the caller's own gid %d "+
				"can't have supplementary groups (setgroups is denied in its user namespace); map a /etc/subgid range too (newgidmap) or drop them", os.Getegid())
		}
	}
	return nil
}

// planOne returns the helper's path for one map ("" to write it directly)
// or why the caller may not have it.
func planOne(field, kind, helper, subFile string, own uint64, name string, ms []specs.LinuxIDMapping) (string, error) {
	if len(ms) == 1 && ms[0].Size == 1 && uint64(ms[0].HostID) == own {
		return "", nil
	}
	who := fmt.Sprintf("%s %d", kind, own)
	if name != "" {
		who = fmt.Sprintf("%s (%s %d)", name, kind, own)
	}
	ranges, rerr := subIDRanges(subFile, name, own)
	if rerr == nil || !errors.Is(rerr, errSubIDElsewhere) {
		for i, e := range ms {
			lo, hi := uint64(e.HostID), uint64(e.HostID)+uint64(e.Size)
			if e.Size == 1 && lo == own {
				continue
			}
			if !covered(ranges, lo, hi) {
				return "", fmt.Errorf("%s[%d]: host IDs %d-%d are not %s's own %s nor inside its ranges in %s (%s); "+
					"an unprivileged user may map only those", field, i, lo, hi-1, who, kind, subFile, describe(ranges, rerr))
			}
		}
	}
	path, err := lookPath(helper)
	if err != nil {
		return "", fmt.Errorf("%s: mapping more than the caller's own %s (%s, size 1) needs %s, not found on PATH "+
			"(install the uidmap package); without it a rootless container can map only %s", field, kind, who, helper, who)
	}
	return path, nil
}

// errSubIDElsewhere: nsswitch.conf sends subordinate ID look-ups to
// another database than the files; rt can't check ranges itself then.
var errSubIDElsewhere = errors.New("subordinate IDs come from nsswitch, not the files")

// subIDRanges returns the ranges the user (by name or by number, as the
// helpers accept) owns in a subuid/subgid file, merged and sorted.
func subIDRanges(file, name string, id uint64) ([]idRange, error) {
	if b, err := os.ReadFile(nsswitchFile); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == "subid:" && f[1] != "files" {
				return nil, errSubIDElsewhere
			}
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rs []idRange
	sc := bufio.NewScanner(f)
	num := strconv.FormatUint(id, 10)
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(parts) != 3 || (parts[0] != num && (name == "" || parts[0] != name)) {
			continue
		}
		start, err1 := strconv.ParseUint(parts[1], 10, 32)
		count, err2 := strconv.ParseUint(parts[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			continue
		}
		rs = append(rs, idRange{start, start + count})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return mergeRanges(rs), nil
}

func mergeRanges(rs []idRange) []idRange {
	sort.Slice(rs, func(i, j int) bool { return rs[i].start < rs[j].start })
	var out []idRange
	for _, r := range rs {
		if n := len(out); n > 0 && r.start <= out[n-1].end {
			if r.end > out[n-1].end {
				out[n-1].end = r.end
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// covered reports whether [lo, hi) lies inside one of the merged ranges.
func covered(rs []idRange, lo, hi uint64) bool {
	for _, r := range rs {
		if lo >= r.start && hi <= r.end {
			return true
		}
	}
	return false
}

func describe(rs []idRange, err error) string {
	if err != nil {
		return err.Error()
	}
	if len(rs) == 0 {
		return "none"
	}
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("%d-%d", r.start, r.end-1))
	}
	return strings.Join(s, ", ")
}
