package spec

// capNames lists every Linux capability by value: capNames[n] is the name of
// capability n. CAP_CHECKPOINT_RESTORE (40) is the last one as of Linux 6.x.
var capNames = [...]string{
	"CAP_CHOWN",              // 0
	"CAP_DAC_OVERRIDE",       // 1
	"CAP_DAC_READ_SEARCH",    // 2
	"CAP_FOWNER",             // 3
	"CAP_FSETID",             // 4
	"CAP_KILL",               // 5
	"CAP_SETGID",             // 6
	"CAP_SETUID",             // 7
	"CAP_SETPCAP",            // 8
	"CAP_LINUX_IMMUTABLE",    // 9
	"CAP_NET_BIND_SERVICE",   // 10
	"CAP_NET_BROADCAST",      // 11
	"CAP_NET_ADMIN",          // 12
	"CAP_NET_RAW",            // 13
	"CAP_IPC_LOCK",           // 14
	"CAP_IPC_OWNER",          // 15
	"CAP_SYS_MODULE",         // 16
	"CAP_SYS_RAWIO",          // 17
	"CAP_SYS_CHROOT",         // 18
	"CAP_SYS_PTRACE",         // 19
	"CAP_SYS_PACCT",          // 20
	"CAP_SYS_ADMIN",          // 21
	"CAP_SYS_BOOT",           // 22
	"CAP_SYS_NICE",           // 23
	"CAP_SYS_RESOURCE",       // 24
	"CAP_SYS_TIME",           // 25
	"CAP_SYS_TTY_CONFIG",     // 26
	"CAP_MKNOD",              // 27
	"CAP_LEASE",              // 28
	"CAP_AUDIT_WRITE",        // 29
	"CAP_AUDIT_CONTROL",      // 30
	"CAP_SETFCAP",            // 31
	"CAP_MAC_OVERRIDE",       // 32
	"CAP_MAC_ADMIN",          // 33
	"CAP_SYSLOG",             // 34
	"CAP_WAKE_ALARM",         // 35
	"CAP_BLOCK_SUSPEND",      // 36
	"CAP_AUDIT_READ",         // 37
	"CAP_PERFMON",            // 38
	"CAP_BPF",                // 39
	"CAP_CHECKPOINT_RESTORE", // 40
}

// CapLast is the highest capability value rt knows (CAP_CHECKPOINT_RESTORE).
const CapLast = len(capNames) - 1

var capByName = func() map[string]int {
	m := make(map[string]int, len(capNames))
	for v, n := range capNames {
		m[n] = v
	}
	return m
}()

// CapValue returns the numeric value of a capability name such as
// "CAP_NET_ADMIN". Names are matched exactly (upper case, with "CAP_"), as in
// config.json.
func CapValue(name string) (int, bool) {
	v, ok := capByName[name]
	return v, ok
}

// CapNames returns all known capability names ordered by value, so that
// CapNames()[v] is the name of capability v. The slice is a fresh copy.
func CapNames() []string {
	return append([]string(nil), capNames[:]...)
}
