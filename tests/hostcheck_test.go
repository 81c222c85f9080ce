package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// What rt may leave on the host: processes (our children, thanks to the
// subreaper), cgroup directories and mounts.

// ---- processes ----

// Proc is one process as /proc shows it.
type Proc struct {
	Pid, PPid int
	State     byte
	Comm      string
	Cmdline   string // NUL bytes shown as spaces
}

func readProc(pid int) (Proc, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Proc{}, false
	}
	s := string(b)
	l, r := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if l < 0 || r < 0 || r+4 > len(s) {
		return Proc{}, false
	}
	p := Proc{Pid: pid, Comm: s[l+1 : r], State: s[r+2]}
	fmt.Sscanf(s[r+4:], "%d", &p.PPid)
	cl, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	p.Cmdline = strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))
	return p, true
}

// children lists the test process's direct children.
func children() []Proc {
	self := os.Getpid()
	ents, _ := os.ReadDir("/proc")
	var out []Proc
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		if p, ok := readProc(pid); ok && p.PPid == self {
			out = append(out, p)
		}
	}
	return out
}

// liveChildren lists children that are neither zombies nor running rt
// commands: processes rt left behind.
func liveChildren() []Proc {
	spawnMapMu.Lock()
	defer spawnMapMu.Unlock()
	var out []Proc
	for _, p := range children() {
		if p.State != 'Z' && !spawning[p.Pid] {
			out = append(out, p)
		}
	}
	return out
}

// ours reports whether a cgroup path is one this run made up
// ("/rt-itest-<runToken>-N"); only such paths are ever checked or cleaned.
func ours(cg string) bool {
	return runToken != "" && strings.HasPrefix(cg, "/rt-itest-"+runToken+"-")
}

// inCgroup reports whether pid's cgroup is exactly cg in some hierarchy.
func inCgroup(pid int, cg string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if parts := strings.SplitN(l, ":", 3); len(parts) == 3 && parts[2] == cg {
			return true
		}
	}
	return false
}

// procsInCgroup lists live processes whose cgroup is exactly cg, one of
// ours (nil for any other path).
func procsInCgroup(cg string) []Proc {
	if !ours(cg) {
		return nil
	}
	ents, _ := os.ReadDir("/proc")
	var out []Proc
	for _, e := range ents {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		if inCgroup(pid, cg) {
			if p, ok := readProc(pid); ok && p.State != 'Z' {
				out = append(out, p)
			}
		}
	}
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ---- host state: cgroups and mounts ----

// cgroupDirs lists existing v1/v2 cgroup directories named rel (e.g.
// "/rt-itest-ab12-3") under every hierarchy in /sys/fs/cgroup; nil for a
// path that is not ours.
func cgroupDirs(rel string) []string {
	if !ours(rel) {
		return nil
	}
	var out []string
	hs, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range hs {
		if fi, err := os.Stat(filepath.Join(h, rel)); err == nil && fi.IsDir() {
			out = append(out, filepath.Join(h, rel))
		}
	}
	return out
}

// hostMounts returns the host's mountinfo lines (our mount namespace).
func hostMounts() []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// mountKey drops the mount ID and parent ID, which change on remount.
func mountKey(line string) string {
	f := strings.Fields(line)
	if len(f) < 5 {
		return line
	}
	return strings.Join(f[2:], " ")
}

// newMounts returns lines of after that are not in before.
func newMounts(before, after []string) []string {
	seen := map[string]int{}
	for _, l := range before {
		seen[mountKey(l)]++
	}
	var out []string
	for _, l := range after {
		k := mountKey(l)
		if seen[k] > 0 {
			seen[k]--
			continue
		}
		out = append(out, l)
	}
	return out
}

// mountsUnder lists host mounts whose mount point or root mentions dir.
func mountsUnder(dir string) []string {
	var out []string
	for _, l := range hostMounts() {
		if strings.Contains(l, dir) {
			out = append(out, l)
		}
	}
	return out
}

// globalLeaks looks for anything this run left on the host.
func globalLeaks() []string {
	var leaks []string
	waitFor(3*time.Second, func() bool { reapZombies(); return len(liveChildren()) == 0 })
	for _, p := range liveChildren() {
		leaks = append(leaks, fmt.Sprintf("process %d (%s) %q", p.Pid, p.Comm, p.Cmdline))
		syscall.Kill(p.Pid, syscall.SIGKILL)
	}
	reapZombies()
	for _, l := range mountsUnder(workDir) {
		leaks = append(leaks, "mount: "+l)
	}
	hs, _ := filepath.Glob("/sys/fs/cgroup/*/rt-itest-" + runToken + "-*")
	for _, h := range hs {
		leaks = append(leaks, "cgroup: "+h)
	}
	return leaks
}
