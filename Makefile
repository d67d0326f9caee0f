# contlab: the two commands a fresh Debian machine needs are `make demo` and `make test`.
SWIFT ?= swift
# A fully static binary: it starts fastest, and it runs as it is inside a busybox root
# filesystem, so the container's init and `contlab inspect` are this same file.
STATIC := -c release --static-swift-stdlib -Xswiftc -static-executable
# The binary people and tests run: stripped of symbols (a third smaller, and each exec of the
# runtime — two per container — starts 0.4 ms sooner), with contlab-runc as a link to it.
BIN := bin/contlab
# Build: libcap, libseccomp, libcmark and libnl-3/libnl-route-3 (system-library targets; stage 6's
# netlink); root filesystems: busybox-static,
# stress-ng, debootstrap; peers and tools: runc, crun, containerd, umoci, skopeo, util-linux,
# hyperfine; the engines contlab runs under: Debian's Docker (docker.io) and Podman (with
# conmon); the lesson site test: chromium (headless) and a CJK font; the grading tests and the
# benchmark: python3; the CRI pod test: the CNI plugins (containernetworking-plugins) and gRPC for
# Python with its .proto compiler (python3-grpcio, python3-grpc-tools); the build track's
# graders: gcc and Go (golang-go) build the students' runtimes (Swift ones, the toolchain that
# builds contlab); the schema tests:
# python3-jsonschema and the OCI runtime-spec and image-spec JSON schemas (Debian ships them with
# the Go packages, under /usr/share/gocode/src/github.com/opencontainers/).
PACKAGES := pkg-config binutils iproute2 dash libcap-dev libseccomp-dev libcmark-dev zlib1g-dev libnl-3-dev libnl-route-3-dev cmark python3 python3-jsonschema busybox-static \
	stress-ng debootstrap util-linux runc crun containerd umoci skopeo hyperfine tmux chromium fonts-noto-cjk docker.io podman conmon \
	containernetworking-plugins python3-grpcio python3-grpc-tools gcc libc6-dev golang-go \
	golang-github-opencontainers-specs-dev golang-github-opencontainers-image-spec-dev

.PHONY: all setup build rootfs demo lint format test unit-test integration-test bench fuzz clean

all: build

setup:
	@sh scripts/install-packages.sh $(PACKAGES)

build: setup
	$(SWIFT) build $(STATIC) --product contlab
	@mkdir -p bin && rm -f bin/contlab && strip -o bin/contlab .build/release/contlab && ln -sf contlab bin/contlab-runc

rootfs: build
	$(BIN) rootfs build busybox
	$(BIN) rootfs build host-tools

demo: rootfs
	@CONTLAB=$(BIN) sh scripts/demo.sh

# The whole suite: fast unit tests and the integration tests that run real containers through
# the static binary. They need root: without it, stop before building anything rather than pass
# with the integration tests skipped.
ifneq ($(filter test,$(MAKECMDGOALS)),)
ifneq ($(shell id -u),0)
$(error make test runs real containers and needs root: run it with sudo (sudo make test), or run the tests that need no root with make unit-test)
endif
endif
test: lint rootfs
	CONTLAB_BIN=$(CURDIR)/$(BIN) $(SWIFT) test --disable-swift-testing

# The layout .swift-format describes (swift format is part of the toolchain); `make format`
# rewrites the tree to it. make test runs this first, so CI does.
lint:
	$(SWIFT) format lint --strict --recursive --configuration .swift-format Sources Tests Package.swift

format:
	$(SWIFT) format format --in-place --recursive --configuration .swift-format Sources Tests Package.swift

unit-test: setup
	$(SWIFT) test --disable-swift-testing --skip IntegrationTests

bench: rootfs
	@sh scripts/bench.sh

# Fuzzing: every reader of untrusted input (Tests/FuzzTargets) under libFuzzer with
# AddressSanitizer, FUZZ_SECONDS each; crashes land in Tests/FuzzCorpus/TARGET, which make test
# replays. FUZZ_TARGETS picks some: make fuzz FUZZ_TARGETS="tar gzip" FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= runtime-config tar gzip image-documents recipe lesson history exercise-files
fuzz: setup
	$(SWIFT) build -c release --product contlab-fuzz --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING --build-path .build/fuzz
	@sh scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf .build bin
	-$(BIN) rootfs clean 2>/dev/null || true
