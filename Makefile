# fwd: build, test, demo. Each target installs the Debian packages it needs first.

SWIFT ?= swift
PREFIX ?= /usr/local
APT_PACKAGES = openssh-server openssh-client libssh2-1-dev libp11-kit-dev libssl-dev pkg-config \
	softhsm2 opensc opensc-pkcs11 curl
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build release test demo format lint clean

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

format:
	$(SWIFT) format -i -r Package.swift Sources Tests

lint:
	$(SWIFT) format lint -r Package.swift Sources Tests

clean:
	rm -rf .build

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
# directory (docs/testing.md). test-sanitize runs both even when the first fails, so one run
# shows every report.
.PHONY: test-sanitize test-tsan test-asan

test-sanitize: deps
	status=0; \
	SWIFT=$(SWIFT) scripts/test-sanitizer.sh thread || status=1; \
	SWIFT=$(SWIFT) scripts/test-sanitizer.sh address || status=1; \
	exit $$status

test-tsan: deps
	SWIFT=$(SWIFT) scripts/test-sanitizer.sh thread

test-asan: deps
	SWIFT=$(SWIFT) scripts/test-sanitizer.sh address
