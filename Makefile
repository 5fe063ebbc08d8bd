export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
# encoding/json on Go's second implementation (GOEXPERIMENT=jsonv2, Go
# 1.25+; same results, error texts differ only in the struct name). Its
# first decode in a process, which is what every berth command does, costs
# half: ~0.7 ms less per `berth run` (config.json in the runtime, the init
# config in the container process), measured with make bench.
GOEXPERIMENT ?= jsonv2
export GOEXPERIMENT
# systemd's notify socket, when make runs in a Type=notify unit, would make
# every `run -d` and `start` of the tests wait for the container's
# readiness (berth relays it, as runc does): never passed to the tests.
unexport NOTIFY_SOCKET
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/sbin
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0-dev)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT)
# The static binary's C library: musl (musl-gcc, Debian's musl-tools, which
# make deps installs). Every berth command, and every container process up to
# its execve (the same binary, re-executed for nsenter's C stage), starts
# without static glibc's start-up (its ifunc relocations, tunables, TLS and
# stdio set-up); what that buys is in the README's speed section and
# tests/bench/WORK.md ("musl").
# libseccomp is Debian's static archive, built against glibc: it links with
# musl but for one fortified call (libcontainer/seccomp/fortify_musl.c).
# .musl holds only that archive, so that no glibc library can be picked up
# with it. LIBC=glibc builds with gcc and glibc instead.
LIBC ?= musl
ifeq ($(LIBC),musl)
MULTIARCH := $(shell gcc -print-multiarch 2>/dev/null)
CGOENV := CC=musl-gcc CGO_CFLAGS='-O2 -g -idirafter /usr/include -idirafter /usr/include/$(MULTIARCH)' CGO_LDFLAGS='-L$(CURDIR)/.musl'
TAGS := osusergo netgo musl
LIBCDEP := .musl/libseccomp.a
DINIT_CC := musl-gcc -idirafter /usr/include -idirafter /usr/include/$(MULTIARCH)
else
TAGS := osusergo netgo
DINIT_CC := gcc
endif
GOBUILD := $(CGOENV) CGO_ENABLED=1 $(GO) build -trimpath -tags '$(TAGS)' -ldflags '$(LDFLAGS) -linkmode external -extldflags "-static"'
ROOTFS := tests/rootfs/busybox
# berth-dinit, the program of a direct container process (nsenter's C with a
# main of its own, static, no Go), which go:embed builds into berth
# (libcontainer/dinit).
DINIT := libcontainer/dinit/bin/berth-dinit
DINIT_SRC := libcontainer/dinit/prog/main.c libcontainer/nsenter/nsenter.c libcontainer/nsenter/direct_exec.c

.PHONY: all deps build install test unittest integration conformance runc-suite runc-suite-cgroup2 runc-suite-systemd differential critest test-cgroup2 test-systemd test-uml demo bench rootfs criu clean

all: build

build: $(LIBCDEP) $(DINIT)
	$(GOBUILD) -o berth .
	$(GO) build -o tests/cmd/bin/ ./tests/cmd/...

$(DINIT): $(DINIT_SRC) libcontainer/nsenter/direct.h libcontainer/nsenter/errno_text.h $(LIBCDEP)
	$(DINIT_CC) -static -O2 -Wall -Wextra -Werror -s -o $@ $(DINIT_SRC)

.musl/libseccomp.a:
	@command -v musl-gcc >/dev/null || { echo "musl-gcc not found: make deps installs musl-tools (or build with LIBC=glibc)" >&2; exit 1; }
	@a=$$(gcc -print-file-name=libseccomp.a); [ -f "$$a" ] || { echo "libseccomp.a not found: make deps installs libseccomp-dev" >&2; exit 1; }; \
	mkdir -p .musl && ln -sfn "$$a" $@

install: build
	install -D -m 0755 berth $(DESTDIR)$(BINDIR)/berth

rootfs:
	tests/rootfs/build.sh

# CRIU 4.2 for the checkpoint suite (and the client suites' checkpoint
# tests), built once into .cache/criu from the project's shared/criu (see
# tests/criu/build.sh for where it looks); the suites build it themselves
# when it is missing.
criu:
	tests/criu/build.sh

# Debian packages and crictl the build and the suites need (idempotent).
deps:
	tests/install-deps.sh

unittest: $(DINIT)
	$(GO) test -count=1 ./...

# A default config's init is a direct init (libcontainer/directinit.go);
# these suites run once more with the Go init, which the configs the
# direct init cannot take keep (BERTH_GO_INIT=1 asks for it).
GOINIT_SUITES = lifecycle mounts security process errors seccomp namespaces

integration: build rootfs
	bats --print-output-on-failure tests/integration
	BERTH_GO_INIT=1 bats --print-output-on-failure $(GOINIT_SUITES:%=tests/integration/%.bats)

# The OCI runtime-tools validation programs against ./berth, compared with
# tests/conformance/expected-failures.txt (see tests/conformance/run.sh).
conformance: build
	tests/conformance/run.sh

# runc's own integration tests (its release's tests/integration, through the
# Go module proxy) against ./berth, compared with
# tests/runc-suite/expected-failures.txt (see tests/runc-suite/run.sh).
# About 10 minutes (the first run also makes a Debian image with debootstrap);
# not part of `make test`, whose time it would nearly double.
runc-suite: build rootfs
	tests/runc-suite/run.sh

# The files of that suite whose tests need pure cgroup v2, in the
# user-mode-linux guest of test-cgroup2 (about 15 minutes), against
# tests/runc-suite/expected-failures-cgroup2.txt.
runc-suite-cgroup2: build rootfs
	tests/runc-suite/run.sh -2

# Those files, the lifecycle ones and netdev.bats with the suite's systemd
# driver (RUNC_USE_SYSTEMD), in the user-mode-linux guest of test-systemd,
# where systemd is PID 1 (about 30 minutes), against
# tests/runc-suite/expected-failures-systemd.txt.
runc-suite-systemd: build rootfs
	tests/runc-suite/run.sh -s

# berth against runc main, config by config and command by command, with
# the differences kept on purpose in tests/differential/expected-differences.txt
# (see tests/differential/run.sh). Not part of make test: it builds runc.
differential: build rootfs
	tests/differential/run.sh

# cri-tools' critest (the CRI validation suite) through containerd's CRI
# plugin with berth as the runtime handler, offline: busybox stand-ins of
# its images from a local registry, against
# tests/clients/critest-expected-failures.txt (see tests/clients/critest.sh).
# About 4 minutes; not part of make test: it builds critest.
critest: build rootfs
	tests/install-deps.sh docker-registry skopeo curl
	tests/clients/critest.sh

# The cgroup suites on a pure cgroup v2 hierarchy, inside a user-mode-linux
# kernel booted for them (tests/uml/run.sh; UML_SUITES, UML_FILTER).
test-cgroup2: build rootfs
	tests/uml/run.sh

# The --systemd-cgroup suite against systemd as PID 1 of a user-mode-linux
# kernel, in a Debian rootfs debootstrapped once into
# /var/cache/berth-debootstrap (tests/uml/run-systemd.sh).
test-systemd: build rootfs
	tests/uml/run-systemd.sh

# Both user-mode-linux suites, one after the other (test's parallel half).
test-uml: build rootfs
	tests/uml/run.sh
	tests/uml/run-systemd.sh

# The host suites and the user-mode-linux ones run side by side: a UML
# kernel is one process with cgroups of its own, so the two share only
# CPU time, and CI's wall time is the longer of the two, not their sum.
test: deps
	$(MAKE) build rootfs
	$(MAKE) unittest conformance
	$(MAKE) -j2 --output-sync=target integration test-uml

# Builds a busybox bundle in .cache/demo and runs a container in it.
demo:
	tests/install-deps.sh --build-only
	$(MAKE) build rootfs
	$(MAKE) demo-run

demo-run:
	rm -rf .cache/demo && mkdir -p .cache/demo
	cp -a $(ROOTFS) .cache/demo/rootfs
	cd .cache/demo && ../../berth spec && \
	sed -i 's/"terminal": true/"terminal": false/; s/"sh"$$/"sh", "-c", "echo hello from berth in $$(hostname): $$(uname -sr), pid $$$$"/' config.json
	cd .cache/demo && ../../berth --root $(CURDIR)/.cache/demo-state run demo-$$$$

bench: build rootfs
	tests/install-deps.sh runc crun hyperfine time containerd
	tests/bench/bench.sh

clean:
	rm -rf berth tests/cmd/bin .cache .musl $(DINIT)
