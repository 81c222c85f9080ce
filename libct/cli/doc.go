// Package cli is rt's command line (urfave/cli/v2): one file per
// subcommand, each a thin layer that parses flags and calls libct. It owns
// the runc-compatible global flags, logging setup (--log, --log-format,
// --debug) and how errors and exit codes reach the caller.
package cli
