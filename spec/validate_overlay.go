package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Overlay mounts (mounts[i].type "overlay") and the copy-on-write root
// (rt create --cow-rootfs, the org.rt.rootfs.cow* annotations). See
// docs/overlay.md.

// Annotations of the copy-on-write root.
const (
	// AnnotationCow "true" asks for the copy-on-write root, like
	// --cow-rootfs ("false" is the default).
	AnnotationCow = "org.rt.rootfs.cow"
	// AnnotationCowSize is the size of the tmpfs holding the upper layer,
	// in tmpfs syntax ("64m", "1g", "10%"); unset is as large as RAM, "0"
	// is no limit at all (statfs then shows 0 free).
	AnnotationCowSize = "org.rt.rootfs.cow.size"
	// AnnotationCowDir "state" puts the upper layer on disk, under the
	// container's state directory; "tmpfs" (the default) in memory.
	AnnotationCowDir = "org.rt.rootfs.cow.dir"
)

// Overlay is a parsed overlay mount's filesystem options.
type Overlay struct {
	// Lower are the lower layers, uppermost first (lowerdir order), as
	// written: a relative path is relative to the bundle (Resolve).
	Lower []string
	// Data are data-only lower layers ("lowerdir=a::d", or datadir+).
	Data []string
	// Upper and Work are the upperdir and workdir ("" for a read-only
	// overlay).
	Upper, Work string
	// Params are the other filesystem options in the order given, passed
	// to the kernel one by one (it judges those rt does not know).
	Params []OverlayParam
}

// OverlayParam is one filesystem option: key=value, or a flag (no "=").
type OverlayParam struct {
	Key, Value string
	Flag       bool
}

func (p OverlayParam) String() string {
	if p.Flag {
		return p.Key
	}
	return p.Key + "=" + p.Value
}

// overlayValues are the values the kernel takes for overlay's keyed
// options (Documentation/filesystems/overlayfs.rst).
var overlayValues = map[string][]string{
	"index":        {"on", "off"},
	"metacopy":     {"on", "off"},
	"nfs_export":   {"on", "off"},
	"redirect_dir": {"on", "off", "follow", "nofollow"},
	"uuid":         {"on", "off", "null", "auto"},
	"xino":         {"on", "off", "auto"},
	"verity":       {"on", "off", "require"},
}

// overlayFlags are overlay's options without a value.
var overlayFlags = map[string]bool{"volatile": true, "userxattr": true, "default_permissions": true}

// isMountFlagOption reports whether ParseMountOptions handles o itself
// (MS_* flags, propagation, recursive attributes, idmap, tmpcopyup).
func isMountFlagOption(o string) bool {
	_, f := mountFlags[o]
	_, p := propagations[o]
	_, r := recAttrs[o]
	return f || p || r || o == "idmap" || o == "ridmap" || o == "tmpcopyup"
}

// ParseOverlay parses the overlay options of a mounts[i].options list:
// every option that ParseMountOptions does not take as a flag. Layers come
// from lowerdir (":"-separated, "\" escapes, "::" before data-only
// layers), lowerdir+ and datadir+ (one each), upperdir and workdir.
func ParseOverlay(opts []string) (*Overlay, error) {
	o := &Overlay{}
	seen := map[string]bool{}
	for _, opt := range opts {
		if opt == "" || isMountFlagOption(opt) {
			continue
		}
		if hasNUL(opt) {
			return nil, fmt.Errorf("option %q contains a NUL byte", opt)
		}
		key, val, hasVal := strings.Cut(opt, "=")
		if hasVal && val == "" {
			return nil, fmt.Errorf("option %q: empty value", opt)
		}
		once := key == "lowerdir" || key == "upperdir" || key == "workdir"
		if once && seen[key] {
			return nil, fmt.Errorf("option %q: %s given twice", opt, key)
		}
		seen[key] = true
		switch key {
		case "lowerdir", "lowerdir+", "datadir+", "upperdir", "workdir":
			if !hasVal {
				return nil, fmt.Errorf("option %q: needs a path (%s=PATH)", opt, key)
			}
		}
		switch key {
		case "lowerdir":
			lower, data, err := splitLowerdir(val)
			if err != nil {
				return nil, fmt.Errorf("option %q: %w", opt, err)
			}
			o.Lower, o.Data = append(o.Lower, lower...), append(o.Data, data...)
		case "lowerdir+":
			o.Lower = append(o.Lower, val)
		case "datadir+":
			o.Data = append(o.Data, val)
		case "upperdir":
			o.Upper = val
		case "workdir":
			o.Work = val
		default:
			if want, ok := overlayValues[key]; ok && !contains(want, val) {
				return nil, fmt.Errorf("option %q: want %s=%s", opt, key, strings.Join(want, "|"))
			}
			if overlayFlags[key] && hasVal {
				return nil, fmt.Errorf("option %q: %s takes no value", opt, key)
			}
			o.Params = append(o.Params, OverlayParam{Key: key, Value: val, Flag: !hasVal})
		}
	}
	switch {
	case seen["lowerdir"] && (seen["lowerdir+"] || seen["datadir+"]):
		return nil, errors.New("lowerdir and lowerdir+/datadir+ can't be mixed (the kernel refuses it)")
	case len(o.Lower) == 0:
		return nil, errors.New("an overlay needs at least one lower layer (lowerdir=DIR[:DIR...])")
	case (o.Upper == "") != (o.Work == ""):
		return nil, errors.New("upperdir and workdir go together (give both, or neither for a read-only overlay)")
	case seen["volatile"] && o.Upper == "":
		return nil, errors.New("volatile needs upperdir and workdir")
	}
	return o, nil
}

// splitLowerdir splits a lowerdir value on ":" (a "\" escapes the next
// character); the layers after "::" are data-only.
func splitLowerdir(v string) (lower, data []string, err error) {
	var cur strings.Builder
	var parts []string
	dataAt := -1
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			i++
			cur.WriteByte(v[i])
		case c == ':':
			if cur.Len() == 0 {
				if dataAt >= 0 || len(parts) == 0 {
					return nil, nil, errors.New("empty layer path")
				}
				dataAt = len(parts)
				continue
			}
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() == 0 {
		return nil, nil, errors.New("empty layer path")
	}
	parts = append(parts, cur.String())
	if dataAt < 0 {
		return parts, nil, nil
	}
	return parts[:dataAt], parts[dataAt:], nil
}

// Layers returns every layer path with its option name, for messages:
// lowerdir, datadir+, upperdir, workdir.
func (o *Overlay) Layers() [][2]string {
	var out [][2]string
	for _, l := range o.Lower {
		out = append(out, [2]string{"lowerdir", l})
	}
	for _, d := range o.Data {
		out = append(out, [2]string{"datadir+", d})
	}
	if o.Upper != "" {
		out = append(out, [2]string{"upperdir", o.Upper}, [2]string{"workdir", o.Work})
	}
	return out
}

// ResolveLayer makes a layer path absolute: relative paths are taken from
// the bundle directory (as crun does, and as rt does for bind sources;
// runc happens to resolve them from the rootfs).
func ResolveLayer(bundle, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(bundle, p)
}

// checkOverlayMount validates mounts[i] of type "overlay": its options,
// and that every layer is an existing directory on the host.
func checkOverlayMount(v *validator, f string, m specs.Mount, opts MountOptions) error {
	if opts.Bind || opts.Flags&unix.MS_REMOUNT != 0 {
		return fieldErr(f+".options", "\"bind\", \"rbind\" and \"remount\" don't apply to an overlay mount")
	}
	if opts.IDMap {
		return fieldErr(f+".options", "idmapped overlay mounts are not supported")
	}
	if opts.Flags&(unix.MS_POSIXACL|unix.MS_I_VERSION) != 0 {
		return fieldErr(f+".options", "\"acl\" and \"iversion\" don't apply to an overlay mount (overlayfs takes neither)")
	}
	o, err := ParseOverlay(m.Options)
	if err != nil {
		return fieldErr(f+".options", "%w", err)
	}
	for _, l := range o.Layers() {
		p := ResolveLayer(v.bundle, l[1])
		st, err := os.Stat(p)
		if err != nil {
			return fieldErr(f+".options", "%s %s: %w", l[0], p, err)
		}
		if !st.IsDir() {
			return fieldErr(f+".options", "%s %s: not a directory", l[0], p)
		}
	}
	return nil
}

// tmpfsSize tells whether s is tmpfs's size= syntax: bytes, k/m/g/t/p/e,
// or % of RAM. (Not a regexp: spec is linked into the container init too,
// where regexp and the Unicode tables it pulls in cost size and start-up.)
func tmpfsSize(s string) bool {
	n := len(s)
	if n > 0 && strings.IndexByte("kKmMgGtTpPeE%", s[n-1]) >= 0 {
		n--
	}
	if n == 0 {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkCowAnnotations checks the syntax of the org.rt.rootfs.cow*
// annotations; CowRootfs checks how they fit the rest of the config.
func checkCowAnnotations(v *validator) error {
	a := v.s.Annotations
	if val, ok := a[AnnotationCow]; ok && val != "true" && val != "false" {
		return fieldErr(key("annotations", AnnotationCow), "%q: want true or false", val)
	}
	if val, ok := a[AnnotationCowSize]; ok && !tmpfsSize(val) {
		return fieldErr(key("annotations", AnnotationCowSize),
			"%q is not a tmpfs size (bytes with an optional k, m or g suffix, or a percentage of RAM such as 10%%; 0 is unlimited)", val)
	}
	if val, ok := a[AnnotationCowDir]; ok && val != "tmpfs" && val != "state" {
		return fieldErr(key("annotations", AnnotationCowDir), "%q: want tmpfs (memory, the default) or state (disk, under the state dir)", val)
	}
	return nil
}

// Cow is the copy-on-write root asked for.
type Cow struct {
	Enabled bool
	// Size of the tmpfs upper layer ("" = as large as RAM; "0", no limit,
	// is passed on as is).
	Size string
	// OnDisk: the upper layer lives under the container's state dir.
	OnDisk bool
}

// CowRootfs returns the copy-on-write root settings of a validated config:
// on with flag (--cow-rootfs) or org.rt.rootfs.cow=true. It refuses a
// copy-on-write root that could not work: read-only root, no mount
// namespace of its own, a size for an on-disk upper layer.
func CowRootfs(s *specs.Spec, flag bool) (Cow, error) {
	a := s.Annotations
	c := Cow{Enabled: flag || a[AnnotationCow] == "true"}
	if !c.Enabled {
		return Cow{}, nil
	}
	what := "--cow-rootfs"
	if !flag {
		what = "annotations[\"" + AnnotationCow + "\"]"
	}
	if s.Root != nil && s.Root.Readonly {
		return Cow{}, fieldErr("root.readonly", "true with %s: a read-only root never writes to the copy-on-write layer; set root.readonly to false (root.path stays unchanged either way)", what)
	}
	own := false
	if s.Linux != nil {
		for _, ns := range s.Linux.Namespaces {
			if ns.Type == specs.MountNamespace {
				own = ns.Path == ""
			}
		}
	}
	if !own {
		return Cow{}, fieldErr("linux.namespaces", "%s needs a new mount namespace (a mount entry without a path)", what)
	}
	c.OnDisk = a[AnnotationCowDir] == "state"
	if size := a[AnnotationCowSize]; size != "" {
		if c.OnDisk {
			return Cow{}, fieldErr(key("annotations", AnnotationCowSize), "sizes the tmpfs upper layer, but %s=state puts it on disk; remove one of them", AnnotationCowDir)
		}
		c.Size = size
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
