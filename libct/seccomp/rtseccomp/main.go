//go:build cgo

// Command rt-seccomp compiles a linux.seccomp profile with libseccomp for
// an rt built without cgo. `make` builds it (cgo, static) and embeds it in
// rt (libct/seccomp/helper.go); rt runs it only when a profile is not in
// its cache of compiled programs yet, so rt itself starts without the cgo
// runtime.
//
//	rt-seccomp compile   profile JSON on stdin, {"program":...,"warnings":[...]} on stdout
//	rt-seccomp version   the libseccomp version and the kernel's API level
//
// A profile libseccomp or rt refuses exits 1 with the error, one line
// naming the config.json field, on stderr.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/seccomp"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "rt-seccomp: internal program of rt (usage: rt-seccomp compile|version)")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "version":
		fmt.Println(seccomp.LibVersion())
	case "compile":
		if err := compile(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "rt-seccomp: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func compile(in io.Reader, out io.Writer) error {
	var s specs.LinuxSeccomp
	d := json.NewDecoder(in)
	if err := d.Decode(&s); err != nil {
		return fmt.Errorf("linux.seccomp: %w", err)
	}
	p, warn, err := seccomp.Compile(&s)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(seccomp.HelperResult{Program: p, Warnings: warn})
}
