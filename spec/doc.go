// Package spec loads, validates and generates OCI runtime configurations
// (config.json) for rt.
//
// The configuration model is the runtime-spec Go types
// (github.com/opencontainers/runtime-spec/specs-go); this package adds no
// second model. It is pure: apart from reading files (config.json, a process
// file, stat of the rootfs and of namespace paths) it has no side effects, so
// `rt create` can load and fully validate a bundle before it touches anything.
//
// Pieces:
//
//   - Load / LoadProcess decode config.json or an `exec --process` file; every
//     error is one line that names the file and the offending JSON field.
//   - Validate / ValidateProcess check a decoded config; every error message
//     starts with the config.json field path, e.g.
//     `linux.namespaces[2].type: unknown namespace "foo"`.
//     Errors are *FieldError values (use errors.As to get the field).
//   - CapValue / CapNames, RlimitType: name tables for capabilities and rlimits.
//   - ParseMountOptions / Propagation: the fstab-style mount option table
//     (flags, propagation, recursive mount_setattr attributes, fs data).
//   - SysctlPath: the /proc/sys-relative path of a sysctl key, rejecting
//     traversal.
//   - Default / Rootless: the `rt spec` template, equal in content to what
//     `runc spec` (and `runc spec --rootless`) writes, hostname "rt".
package spec
