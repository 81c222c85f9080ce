package cgroups

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// linux.resources.blockIO: the v1 blkio controller and the v2 io
// controller. Device numbers are "MAJ:MIN" of whole disks.

// throttleKind is one of the four throttle lists: its field, its v1 file
// and its key in v2's io.max.
type throttleKind struct {
	field  string
	v1File string
	v2Key  string
	list   func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice
}

var throttleKinds = []throttleKind{
	{"linux.resources.blockIO.throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps",
		func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice { return b.ThrottleReadBpsDevice }},
	{"linux.resources.blockIO.throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps",
		func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice { return b.ThrottleWriteBpsDevice }},
	{"linux.resources.blockIO.throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops",
		func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice { return b.ThrottleReadIOPSDevice }},
	{"linux.resources.blockIO.throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops",
		func(b *specs.LinuxBlockIO) []specs.LinuxThrottleDevice { return b.ThrottleWriteIOPSDevice }},
}

func u16(p *uint16) uint16 {
	if p == nil {
		return 0
	}
	return *p
}

// wantBlkio is the first blockIO field r sets (for v1 blkio and v2 io).
// A throttle entry counts even with rate 0, which lifts a limit.
func wantBlkio(r *specs.LinuxResources) string {
	b := r.BlockIO
	switch {
	case b == nil:
		return ""
	case u16(b.Weight) != 0:
		return fBlkioWeight
	case u16(b.LeafWeight) != 0:
		return fLeafWeight
	}
	for _, wd := range b.WeightDevice {
		if u16(wd.Weight) != 0 || u16(wd.LeafWeight) != 0 {
			return fWeightDevice
		}
	}
	for _, k := range throttleKinds {
		if len(k.list(b)) > 0 {
			return k.field
		}
	}
	return ""
}

// devError adds what usually causes a refused per-device line.
func devError(name, dev string, weight bool, err error) error {
	if err == nil {
		return nil
	}
	hint := ""
	switch {
	case errors.Is(err, unix.ENODEV):
		hint = fmt.Sprintf(" (%s is not a whole-disk block device of this host; see /sys/dev/block)", dev)
	case errors.Is(err, unix.EOPNOTSUPP) && weight:
		hint = fmt.Sprintf(" (per-device weights need the bfq I/O scheduler on %s: /sys/dev/block/%s/queue/scheduler)", dev, dev)
	}
	return fmt.Errorf("%s: %w%s", name, err, hint)
}

// setBlkioV1 writes blkio.weight (or blkio.bfq.weight), blkio.leaf_weight,
// the per-device weights and the throttles, as runc does: one line per
// device, rate 0 removes a throttle rule.
func setBlkioV1(dir string, r *specs.LinuxResources) error {
	b := r.BlockIO
	weightFile, deviceFile := "blkio.weight", "blkio.weight_device"
	if !fileExists(dir, weightFile) {
		// CFQ is gone from Linux 5.0; bfq has its own files.
		weightFile, deviceFile = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	if w := u16(b.Weight); w != 0 {
		if !fileExists(dir, weightFile) {
			return lacks(fBlkioWeight, "this host's blkio controller has neither blkio.weight nor blkio.bfq.weight (no proportional-weight I/O scheduler: CFQ is gone and bfq is not available)")
		}
		if err := writeFile(dir, weightFile, strconv.FormatUint(uint64(w), 10)); err != nil {
			return field(fBlkioWeight, err)
		}
	}
	if w := u16(b.LeafWeight); w != 0 {
		if !fileExists(dir, "blkio.leaf_weight") {
			return lacks(fLeafWeight, "this host's blkio controller has no blkio.leaf_weight (leaf weights went with the CFQ scheduler, removed in Linux 5.0)")
		}
		if err := writeFile(dir, "blkio.leaf_weight", strconv.FormatUint(uint64(w), 10)); err != nil {
			return field(fLeafWeight, err)
		}
	}
	for i, wd := range b.WeightDevice {
		name := fmt.Sprintf("%s[%d]", fWeightDevice, i)
		dev, err := devNum(wd.Major, wd.Minor)
		if err != nil {
			return field(name, err)
		}
		if w := u16(wd.Weight); w != 0 {
			if !fileExists(dir, deviceFile) {
				return lacks(name+".weight", "this host's blkio controller has neither blkio.weight_device nor blkio.bfq.weight_device")
			}
			if err := writeFile(dir, deviceFile, dev+" "+strconv.FormatUint(uint64(w), 10)); err != nil {
				return devError(name+".weight", dev, true, err)
			}
		}
		if w := u16(wd.LeafWeight); w != 0 {
			if !fileExists(dir, "blkio.leaf_weight_device") {
				return lacks(name+".leafWeight", "this host's blkio controller has no blkio.leaf_weight_device (leaf weights went with the CFQ scheduler, removed in Linux 5.0)")
			}
			if err := writeFile(dir, "blkio.leaf_weight_device", dev+" "+strconv.FormatUint(uint64(w), 10)); err != nil {
				return devError(name+".leafWeight", dev, true, err)
			}
		}
	}
	for _, k := range throttleKinds {
		for i, td := range k.list(b) {
			name := fmt.Sprintf("%s[%d]", k.field, i)
			dev, err := devNum(td.Major, td.Minor)
			if err != nil {
				return field(name, err)
			}
			if !fileExists(dir, k.v1File) {
				return lacks(name, "this host's blkio controller has no %s (the kernel lacks CONFIG_BLK_DEV_THROTTLING)", k.v1File)
			}
			if err := writeFile(dir, k.v1File, dev+" "+strconv.FormatUint(td.Rate, 10)); err != nil {
				return devError(name, dev, false, err)
			}
		}
	}
	return nil
}

// setIOV2 writes io.bfq.weight (else io.weight, converted), the per-device
// weights (io.bfq.weight "MAJ:MIN W", else io.weight "MAJ:MIN converted
// W") and one io.max line per device with the throttles given for it
// ("MAJ:MIN rbps=.. wbps=.. riops=.. wiops=.."; rate 0, which removes a
// v1 rule, is "max"). Leaf weights have no v2 file: checkV2 refuses them.
func setIOV2(dir string, r *specs.LinuxResources) error {
	b := r.BlockIO
	bfq := fileExists(dir, "io.bfq.weight")
	if w := u16(b.Weight); w != 0 {
		if w < 10 || w > 1000 {
			return fmt.Errorf("%s: %d is out of range 10-1000", fBlkioWeight, w)
		}
		if bfq {
			if err := writeFile(dir, "io.bfq.weight", strconv.FormatUint(uint64(w), 10)); err != nil {
				return field(fBlkioWeight, err)
			}
		} else if err := writeFile(dir, "io.weight", strconv.FormatUint(blkioToIOWeight(w), 10)); err != nil {
			return field(fBlkioWeight, err)
		}
	}
	for i, wd := range b.WeightDevice {
		name := fmt.Sprintf("%s[%d].weight", fWeightDevice, i)
		dev, err := devNum(wd.Major, wd.Minor)
		if err != nil {
			return field(name, err)
		}
		w := u16(wd.Weight)
		switch {
		case w == 0:
			continue
		case bfq:
			err = writeFile(dir, "io.bfq.weight", dev+" "+strconv.FormatUint(uint64(w), 10))
		case w < 10 || w > 1000:
			return fmt.Errorf("%s: %d is out of range 10-1000", name, w)
		case !fileExists(dir, "io.weight"):
			return lacks(name, "this cgroup has neither io.bfq.weight nor io.weight (no bfq scheduler and no iocost in this kernel)")
		default:
			err = writeFile(dir, "io.weight", dev+" "+strconv.FormatUint(blkioToIOWeight(w), 10))
		}
		if err != nil {
			return devError(name, dev, true, err)
		}
	}
	return setIOMax(dir, b)
}

// ioMaxLine is one io.max write: a device and its keys in field order.
type ioMaxLine struct {
	dev    string
	keys   []string // "rbps=1048576"
	fields []string // the config.json fields it comes from
}

func setIOMax(dir string, b *specs.LinuxBlockIO) error {
	var lines []*ioMaxLine
	byDev := map[string]*ioMaxLine{}
	for _, k := range throttleKinds {
		for i, td := range k.list(b) {
			name := fmt.Sprintf("%s[%d]", k.field, i)
			dev, err := devNum(td.Major, td.Minor)
			if err != nil {
				return field(name, err)
			}
			l := byDev[dev]
			if l == nil {
				l = &ioMaxLine{dev: dev}
				byDev[dev] = l
				lines = append(lines, l)
			}
			val := "max"
			if td.Rate != 0 {
				val = strconv.FormatUint(td.Rate, 10)
			}
			kv := k.v2Key + "=" + val
			if j := keyIndex(l.keys, k.v2Key); j >= 0 {
				l.keys[j] = kv // a later entry for the same device wins
			} else {
				l.keys = append(l.keys, kv)
			}
			l.fields = append(l.fields, name)
		}
	}
	if len(lines) > 0 && !fileExists(dir, "io.max") {
		return lacks(lines[0].fields[0], "this cgroup has no io.max (the kernel lacks CONFIG_BLK_DEV_THROTTLING)")
	}
	for _, l := range lines {
		if err := writeFile(dir, "io.max", l.dev+" "+strings.Join(l.keys, " ")); err != nil {
			return devError(strings.Join(l.fields, ", "), l.dev, false, err)
		}
	}
	return nil
}

func keyIndex(keys []string, key string) int {
	for i, kv := range keys {
		if strings.HasPrefix(kv, key+"=") {
			return i
		}
	}
	return -1
}
