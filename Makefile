# fwd: build, test, demo. Each target installs the Debian packages it needs first.

SWIFT ?= swift
PREFIX ?= /usr/local
APT_PACKAGES = openssh-server openssh-client libssh2-1-dev libp11-kit-dev libssl-dev pkg-config \
	softhsm2 opensc opensc-pkcs11 curl
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Only `make bench` needs these: gnuplot draws its chart.
BENCH_PACKAGES = gnuplot-nox
# MiB per single-stream transfer (and in total over the 8 parallel streams), and rounds.
# Smaller values give a quick check, e.g. `make bench BENCH_SIZE_MB=64 BENCH_ROUNDS=1`.
BENCH_SIZE_MB ?= 1024
BENCH_ROUNDS ?= 3
BENCH_OUTPUT ?= docs/benchmarks.md

.PHONY: all deps build release test demo bench format lint clean

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

release: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

demo: deps
	$(SWIFT) build
	.build/debug/fwd-lab demo --fwd .build/debug/fwd

# Measures fwd against OpenSSH's ssh -J in the lab and writes $(BENCH_OUTPUT) and a PNG chart
# beside it. The lab's services hash in pure Swift, so they are built in release mode too.
bench:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(APT_PACKAGES) $(BENCH_PACKAGES)"
	$(SWIFT) build -c release
	.build/release/fwd-bench --fwd .build/release/fwd --size-mb $(BENCH_SIZE_MB) \
	  --rounds $(BENCH_ROUNDS) --output $(BENCH_OUTPUT)

format:
	$(SWIFT) format -i -r Package.swift Sources Tests

lint:
	$(SWIFT) format lint -r Package.swift Sources Tests

clean:
	rm -rf .build
