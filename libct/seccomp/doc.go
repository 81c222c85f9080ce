// Package seccomp implements linux.seccomp (runtime-spec 1.3) in two
// halves that meet in a Program:
//
//   - Compile (parent, `rt create`, cgo + libseccomp) turns the profile into
//     a classic BPF program with libseccomp-golang, exports it and puts the
//     ENOSYS prologue in front of it. Cached does the same through an
//     on-disk cache, since compiling a Docker-sized profile costs tens of
//     milliseconds and a cache hit a fraction of one.
//   - Load (the init, no cgo) hands the Program to seccomp(2) on the calling
//     thread. A Program is plain data (BPF bytes, flags, notify) and is
//     JSON-serialisable, so it travels in the bootstrap message.
//
// Three builds of Compile:
//
//   - cgo (compile_cgo.go): libseccomp in the process. `go test` and the
//     helper program use it.
//   - rt as `make` builds it: no cgo (the cgo runtime costs every rt
//     command milliseconds of start-up) and the tag rt_embed_seccomp
//     (helper.go): Compile runs the embedded rt-seccomp (./rtseccomp, the
//     cgo build of this package, static) from a sealed memfd, profile JSON
//     in, HelperResult out. Cached calls it only on a cache miss.
//   - neither (compile_nocgo.go): Load only; Compile and Cached refuse
//     every profile: "linux.seccomp: this rt was built without
//     cgo/libseccomp".
//
// The cache (and its sha256) is only in the first two, so the init, built
// without cgo or the tag, links neither.
//
// # Profile mapping
//
//   - Actions: SCMP_ACT_KILL and SCMP_ACT_KILL_THREAD kill the thread,
//     SCMP_ACT_KILL_PROCESS the process; TRAP, ERRNO, TRACE, ALLOW, LOG and
//     NOTIFY are libseccomp's. ERRNO and TRACE carry errnoRet (or
//     defaultErrnoRet for the default action), EPERM when unset, at most
//     4095. Following the spec ("MUST print an error and fail"), errnoRet on
//     any other action is an error; runc ignores it.
//   - A rule equal to the default action (same errno included) adds nothing
//     to the filter (libseccomp refuses it); its names still count for the
//     ENOSYS bound below.
//   - architectures: SCMP_ARCH_* names; the native architecture is always
//     in the filter. An architecture libseccomp does not have (2.5.4 lacks
//     LOONGARCH64, M68K, SH, SHEB) or of the other byte order is an error.
//     libseccomp's bad-architecture action (kill the thread) is kept.
//   - flags: SECCOMP_FILTER_FLAG_LOG and _SPEC_ALLOW go to seccomp(2);
//     _WAIT_KILLABLE_RECV too when a rule uses NOTIFY (without one it is a
//     warning and dropped: the kernel refuses it without a listener);
//     _TSYNC is accepted and has no effect, because the filter is loaded on
//     the thread that execs and the exec leaves no other thread.
//   - args: conditions on different arguments of one rule are ANDed. When
//     two conditions name the same argument index, each condition becomes a
//     rule of its own, so they are ORed: that is what runc does (its
//     "revert to old behaviour" for repeated indexes) and profiles written
//     for runc rely on it. Values are 64-bit; SCMP_CMP_MASKED_EQ takes the
//     mask in value and the expected value in valueTwo. valueTwo on another
//     operator, and values above 32 bits when the filter has a 32-bit
//     architecture (libseccomp then compares the low half), are warnings.
//   - Unknown system call names are skipped with a warning naming the entry
//     (linux.seccomp.syscalls[i].names[j]); the caller shows them.
//   - Errors name the field: linux.seccomp.syscalls[3].action: unknown
//     action "SCMP_ACT_FOO".
//
// # SCMP_ACT_NOTIFY
//
// NOTIFY as defaultAction is an error (as in runc: every system call the
// init makes after loading would wait for an agent that cannot have the
// listener yet). A rule with NOTIFY requires linux.seccomp.listenerPath,
// and may not name write, writev, sendmsg or sendto (the init hands the
// listener fd to rt over its socket after Load; runc refuses "write" for the
// same reason) nor futex or rt_sigreturn (the Go runtime makes them on the
// init's thread whenever it blocks or takes a signal). The compiled Program
// then has Notify set; Load asks for a listener and returns its fd, which
// the kernel makes close-on-exec. Sending it to the agent with
// listenerMetadata is the caller's business. Without
// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV any signal interrupts a waiting
// call, which restarts as a new notification (answering the old one gives
// ENOENT): a Go workload, preempted with SIGURG every 10 ms or so, sees
// that whenever the agent is slower (TestLoadNotify's agent retries).
//
// # The ENOSYS prologue
//
// A profile written before a system call existed sends that call to the
// default action, typically EPERM. glibc and others try a new call first
// (clone3, faccessat2, openat2, close_range...) and fall back to the old one
// only on ENOSYS; EPERM makes them fail instead. So, as runc does, the
// filter answers ENOSYS for system call numbers newer than the profile.
//
// The bound is computed per ABI: for each architecture in the filter, the
// highest number among (a) the names the profile lists, resolved for that
// architecture (whatever the rule's action, so a listed-but-denied call
// keeps its errno), and (b) the numbers libseccomp's own program compares
// the system call number against while that architecture is known (found
// by a data-flow pass over the exported BPF, comparedNumbers in enosys.go).
// (b) adds what names miss, e.g. the direct socket calls (359...) that
// i386 also reaches through socketcall, for which libseccomp's name lookup
// gives a negative pseudo number. Pseudo numbers (negative) are ignored.
//
// The prologue is hand-assembled classic BPF placed in front of
// libseccomp's unchanged program:
//
//	ld  [arch]
//	jeq AUDIT_ARCH_A, secA        one per ABI with a bound
//	ja  filter                    any other arch: libseccomp decides
//	secA: ld [nr]; jgt MAX_A, enosys, filter
//	secX86_64: ld [nr]
//	        jge 0x40000000, x32 (or filter), 0
//	        jgt MAX_X86_64, enosys, filter
//	  x32:  jgt MAX_X32, enosys, filter
//	enosys: ret ERRNO|ENOSYS
//	filter: libseccomp's program (it loads arch and nr again itself)
//
// x32 system calls share AUDIT_ARCH_X86_64 and carry __X32_SYSCALL_BIT
// (0x40000000). Numbers at or above the bit never meet the x86_64 bound:
// with SCMP_ARCH_X32 in the filter they meet the x32 bound (the highest x32
// number the profile names, bit included); without it they go straight to
// libseccomp's program, which kills them as a bad architecture, exactly as
// without the prologue. On s390/s390x, number 0 (the multiplexer the kernel
// leaves unknown large numbers on) also gets ENOSYS.
//
// Only numbers that would have met the default action are affected: a
// number above every bound matches no rule. The prologue is left out when
// the default action already lets new calls through or answers ENOSYS:
// ALLOW, LOG, TRACE (a tracer decides; without one the kernel answers
// ENOSYS itself) and ERRNO(ENOSYS). Like runc's, the bound is a single
// highest number, so a call older than the bound but absent from the
// profile still gets the default action; and a profile naming one of
// x32's compat numbers (512-547) lifts the x32 bound above the newer x32
// calls (424 and up).
//
// Tests check the contract in a BPF interpreter against libseccomp's plain
// program (every input answers the same, except that above the bound the
// default becomes ENOSYS) and in real children that load the filter.
//
// # Loading
//
// Load calls seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog) on the calling
// thread, without TSYNC; the caller is a goroutine locked to its OS thread
// that execs right after, so the filter reaches the workload. The kernel
// accepts it only if the thread has no_new_privs or CAP_SYS_ADMIN in its
// effective set: with process.noNewPrivileges set no_new_privs first and
// load as late as possible (just before execve); without it load while
// CAP_SYS_ADMIN is still effective, before the capabilities are applied,
// and everything the init does after that is filtered too (as in runc).
// Errors say which: EACCES names no_new_privs and CAP_SYS_ADMIN; EINVAL is
// traced to the flag the kernel does not support (seccomp(2) with a NULL
// program answers EFAULT for supported flags, EINVAL otherwise, and
// installs nothing) and names linux.seccomp.flags.
//
// # The cache
//
// Cached(dir, s) keys compiled programs by sha256 over json.Marshal(s)
// (written by fastjson.Marshal, which gives the same bytes),
// libseccomp's version with the kernel API level it detected, GOARCH and
// cacheFormat (bump it when the compiled output changes). Each entry is
// dir/<key>.json holding the Program and the warnings, mode 0600, written
// to a temp file and renamed so concurrent callers read whole files only.
// dir is created 0700 and refused if others can write it or it is a
// symlink: whoever can write a cached program chooses the container's
// filter. A missing, truncated or otherwise invalid entry is compiled again
// and replaced; failing to write an entry only adds a warning. Entries are
// never pruned: there is one per distinct profile.
package seccomp
