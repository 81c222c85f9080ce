// Package security applies the process's privileges in the init, on the
// thread that execs: the five capability sets, no_new_privs, and (with the
// security-layers work) AppArmor and SELinux labels.
package security
