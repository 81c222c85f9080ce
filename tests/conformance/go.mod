// Pinned build of the OCI runtime-tools validation suite (v0.9.0, "Build B"
// of ../shared/conformance/README.md), used only by run.sh in this directory.
// runtime-tools v0.9.0 has no go.mod of its own (it used Godeps), so every
// dependency is pinned here; the latest versions do not compile with it
// (runtime-spec >= 1.1 made LinuxPids.Limit a pointer; runtimetest needs
// go-selinux's label.FileLabel). x/sys v0.49.0 needs go 1.26.0.
// This is a separate module: the rt module does not see it. Any change here
// (or in go.sum) changes run.sh's cache key and so rebuilds the suite.
module example.invalid/rt-conformance

go 1.26.0

require (
	github.com/blang/semver v3.5.1+incompatible
	github.com/hashicorp/go-multierror v1.1.1
	github.com/mndrix/tap-go v0.0.0-20171203230836-629fa407e90b
	github.com/mrunalp/fileutils v0.5.1
	github.com/opencontainers/runtime-spec v1.0.2
	github.com/opencontainers/runtime-tools v0.9.0
	github.com/opencontainers/selinux v1.8.0
	github.com/satori/go.uuid v1.2.0
	github.com/sirupsen/logrus v1.10.2
	github.com/syndtr/gocapability v0.0.0-20200815063812-42c35b437635
	github.com/urfave/cli v1.22.17
	github.com/xeipuuv/gojsonschema v1.2.0
	golang.org/x/sys v0.49.0
)
