# rt: build, test, bench. Go is expected in /usr/local/go/bin or on PATH.
export PATH := $(PATH):/usr/local/go/bin
SHARED  ?= $(abspath ../shared)
VERSION ?= 0.1.0-dev
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -s -w -X github.com/rt-oci/rt/libct/cli.Version=$(VERSION) -X github.com/rt-oci/rt/libct/cli.Commit=$(COMMIT)
# rt is pure Go (CGO_ENABLED=0: the cgo runtime costs every command
# milliseconds of start-up) and static. It embeds two programs: the init
# (pure Go) and rt-seccomp, the libseccomp compiler (cgo, linked statically
# against Debian's libseccomp.a), run only when a profile is not cached.
GOBUILD := CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)'
CGOSTATIC := CGO_ENABLED=1 go build -trimpath -ldflags '-s -w -linkmode external -extldflags "-static"'

.PHONY: rt demo test unit integration vet bench bench-cow conformance engines cri soak fuzz clean
SOAK_N ?= 1000
FUZZ_SECONDS ?= 20

# rt embeds the small init program (libct/initstage/rtinit).
rt:
	CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o libct/initexe/rt-init ./libct/initstage/rtinit
	$(CGOSTATIC) -o libct/seccomp/rt-seccomp ./libct/seccomp/rtseccomp
	sha256sum libct/seccomp/rt-seccomp | cut -c1-16 > libct/seccomp/rt-seccomp.id
	$(GOBUILD) -tags urfave_cli_no_docs,rt_embed_init,rt_embed_seccomp -o rt .

# Build rt and run a busybox container (rootfs from Debian's busybox-static).
demo: rt
	bash tests/demo.sh ./rt

vet:
	go vet ./...

unit:
	go test -count=1 $$(go list ./... | grep -v /tests)

# Integration tests drive the built binary (they build it themselves).
integration: rt
	RT_BINARY=$(CURDIR)/rt RT_SHARED=$(SHARED) go test -count=1 -timeout 20m ./tests/...

# (libct/seccomp twice: in-process libseccomp with cgo, and as rt runs it,
# through the embedded rt-seccomp.)
test: vet rt
	CGO_ENABLED=0 go test -count=1 -tags rt_embed_seccomp ./libct/seccomp/
	RT_BINARY=$(CURDIR)/rt RT_SHARED=$(SHARED) go test -count=1 -timeout 30m ./...

# rt beside runc and crun, as ratios measured in one run.
bench: rt
	bash tests/bench/bench.sh $(CURDIR)/rt
	bash tests/bench/cow.sh $(CURDIR)/rt

# Copy-on-write root against a cp -a per container (docs/overlay.md).
bench-cow: rt
	bash tests/bench/cow.sh $(CURDIR)/rt

# The OCI runtime-tools validation suite (v0.9.0) against rt, compared with
# tests/conformance/expected.tsv (docs/conformance.md). Root; builds the suite once.
conformance: rt
	RT_SHARED=$(SHARED) bash tests/conformance/run.sh $(CURDIR)/rt

# rt under containerd, podman and docker with the shared suites (docs/engines.md).
engines: rt
	RT_SHARED=$(SHARED) bash tests/engines/run.sh $(CURDIR)/rt containerd podman docker

# rt as a Kubernetes RuntimeClass handler through CRI and containerd 1.6,
# with its own containerd instance (docs/kubernetes.md). Root.
cri: rt
	bash tests/cri/run.sh $(CURDIR)/rt

# Soak: SOAK_N lifecycles with the built rt; the host is compared before/after.
soak: rt
	RT_SHARED=$(SHARED) bash tests/soak/soak.sh $(SOAK_N) $(CURDIR)/rt

# Every Go fuzz target for FUZZ_SECONDS each (a crash becomes a seed in testdata/fuzz).
fuzz:
	bash tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -f rt libct/initexe/rt-init libct/seccomp/rt-seccomp libct/seccomp/rt-seccomp.id
