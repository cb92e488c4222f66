# fwd: build, test, demo. Each target installs the Debian packages it needs first.

SWIFT ?= swift
PREFIX ?= /usr/local
APT_PACKAGES = openssh-server openssh-client libssh2-1-dev libp11-kit-dev libssl-dev pkg-config \
	softhsm2 opensc opensc-pkcs11 curl
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Install locations. DESTDIR is prepended to each, for staging into a package root.
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man/man1
BASH_COMPLETION_DIR = $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETION_DIR = $(PREFIX)/share/zsh/site-functions
# The binary `make install` copies. When BINARY is given, install copies it without building.
BINARY ?=
INSTALLED_FILES = $(BINDIR)/fwd $(MANDIR)/fwd.1 $(BASH_COMPLETION_DIR)/fwd $(ZSH_COMPLETION_DIR)/_fwd

.PHONY: all deps build release test soak demo bench format lint clean install uninstall

# Only `make bench` needs these: gnuplot draws its chart.
BENCH_PACKAGES = gnuplot-nox
# MiB per single-stream transfer (and in total over the 8 parallel streams), and rounds.
# Smaller values give a quick check, e.g. `make bench BENCH_SIZE_MB=64 BENCH_ROUNDS=1`.
BENCH_SIZE_MB ?= 1024
BENCH_ROUNDS ?= 3
BENCH_OUTPUT ?= docs/benchmarks.md

all: build

# Installs only what is missing. On a new machine the package lists are empty, so
# apt-get update runs before the first install.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

build: deps
	$(SWIFT) build

# Release builds link the Swift runtime statically: the binary then runs on machines without a
# Swift toolchain, and it keeps fewer pages resident (14 MiB idle against 17 MiB with the
# shared runtime, two hops up).
RELEASE_FLAGS ?= --static-swift-stdlib

release: deps
	$(SWIFT) build -c release $(RELEASE_FLAGS)

# The whole suite, a short fuzzing pass over every parser (make fuzz runs longer), then the
# whole suite again under each sanitizer in SANITIZERS (docs/testing.md). CI runs this target.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test
	SWIFT=$(SWIFT) Fuzz/fuzz.sh run 5
	$(RUN_SANITIZERS)

demo: deps
	$(SWIFT) build
	.build/debug/fwd-lab demo --fwd .build/debug/fwd

# Measures fwd against OpenSSH's ssh -J in the lab and writes $(BENCH_OUTPUT) and a PNG chart
# beside it. The lab's services hash in pure Swift, so they are built in release mode too.
bench:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(APT_PACKAGES) $(BENCH_PACKAGES)"
	$(SWIFT) build -c release $(RELEASE_FLAGS)
	.build/release/fwd-bench --fwd .build/release/fwd --size-mb $(BENCH_SIZE_MB) \
	  --rounds $(BENCH_ROUNDS) --output $(BENCH_OUTPUT)

# `make install PREFIX=/usr/local` installs the release binary, the man page and the bash and
# zsh completions; `make install DESTDIR=/tmp/stage BINARY=.build/debug/fwd` stages a build.
install:
	@if [ -z "$(BINARY)" ]; then $(MAKE) release; fi
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)" \
	  "$(DESTDIR)$(BASH_COMPLETION_DIR)" "$(DESTDIR)$(ZSH_COMPLETION_DIR)"
	install -m 0755 "$(or $(BINARY),.build/release/fwd)" "$(DESTDIR)$(BINDIR)/fwd"
	install -m 0644 docs/fwd.1 "$(DESTDIR)$(MANDIR)/fwd.1"
	install -m 0644 docs/completions/fwd.bash "$(DESTDIR)$(BASH_COMPLETION_DIR)/fwd"
	install -m 0644 docs/completions/_fwd "$(DESTDIR)$(ZSH_COMPLETION_DIR)/_fwd"

# Removes the files install wrote, and nothing else: shared directories stay.
uninstall:
	rm -f $(addprefix "$(DESTDIR),$(addsuffix ",$(INSTALLED_FILES)))

format:
	$(SWIFT) format -i -r Package.swift Sources Tests

lint:
	$(SWIFT) format lint -r Package.swift Sources Tests

clean:
	rm -rf .build

# The resilience tests at full size: 10,000 connections, 128 MiB re-key streams, 30 s reader
# stall. FWD_SOAK_MB overrides the stream size.
soak: deps
	$(SWIFT) build --build-tests
	FWD_SOAK=1 $(SWIFT) test --filter 'Resilience|rebuildsReuseTheTokenLogin'

# Fuzzing, described in docs/testing.md. FUZZ_SECONDS is the time per fuzz
# target, and fuzz-short runs each target for FUZZ_SHORT_SECONDS instead.
FUZZ_SECONDS ?= 60
FUZZ_SHORT_SECONDS ?= 8

.PHONY: fuzz fuzz-short

fuzz: deps
	SWIFT=$(SWIFT) Fuzz/fuzz.sh run $(FUZZ_SECONDS)

fuzz-short: deps
	SWIFT=$(SWIFT) Fuzz/fuzz.sh run $(FUZZ_SHORT_SECONDS)

# The whole suite under ThreadSanitizer and AddressSanitizer, each in its own build
# directory (docs/testing.md). Every sanitizer runs even when one before it fails, so one run
# shows every report. `make test SANITIZERS=thread` runs one, `make test SANITIZERS=` none.
.PHONY: test-sanitize test-tsan test-asan

SANITIZERS ?= thread address
RUN_SANITIZERS = status=0; \
	for sanitizer in $(SANITIZERS); do \
	  SWIFT=$(SWIFT) scripts/test-sanitizer.sh $$sanitizer || status=1; \
	done; \
	exit $$status

test-sanitize: deps
	$(RUN_SANITIZERS)

test-tsan: deps
	SWIFT=$(SWIFT) scripts/test-sanitizer.sh thread

test-asan: deps
	SWIFT=$(SWIFT) scripts/test-sanitizer.sh address
