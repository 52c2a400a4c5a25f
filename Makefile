# callvault: `make run` builds and starts the daemon, `make test` runs every
# test. Both install what they need (Debian packages, Go modules) first.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Debian packages: to build (LAME for the MP3 encoder, cgo) and to test
# (sipp as the SIPREC client, ffmpeg/ffprobe to check the MP3 files).
# LAME encodes the MP3, bcg729 decodes G.729A.
BUILD_DEBS := gcc libc6-dev libmp3lame-dev libbcg729-dev
TEST_DEBS := sip-tester ffmpeg
# `make deb`: dpkg-shlibdeps finds the libraries' packages for Depends.
DEB_DEBS := dpkg-dev

# Where `make run` keeps its data and socket, and where it listens.
RUN_DATA ?= ./var
RUN_SIP ?= 0.0.0.0:5060

.PHONY: all deps test-deps build run test bench bench-go load vet fmt clean deb package-test

all: build

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps:
	@command -v $(GO) >/dev/null || { echo "Go 1.26 is needed: install it to /usr/local/go (https://go.dev/dl)"; exit 1; }
	$(call apt_install,$(BUILD_DEBS))
	$(GO) mod download

test-deps: deps
	$(call apt_install,$(TEST_DEBS))
	# The storage targets' real servers: versitygw (S3) and Azurite
	# (Azure Blob), into .tools/.
	scripts/install-versitygw
	scripts/install-azurite

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/callvaultd ./daemon
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/callvault ./console
	$(GO) build -o $(BIN)/callvault-sim ./sim

run: build
	@mkdir -p $(RUN_DATA)
	@echo "callvaultd: data in $(RUN_DATA), SIP on $(RUN_SIP) (UDP+TCP)."
	@echo "In another terminal:  $(BIN)/callvault -socket $(RUN_DATA)/callvault.sock status"
	@echo "                      (or export CALLVAULT_SOCKET=$(RUN_DATA)/callvault.sock)"
	@echo "Stop with Ctrl-C."
	$(BIN)/callvaultd -data $(RUN_DATA) -control $(RUN_DATA)/callvault.sock -sip $(RUN_SIP)

test: test-deps
	$(GO) vet ./...
	# -parallel 4: the end-to-end tests mostly wait on real-time RTP and
	# timers, so four share two cores well; CPU-bound ones stay serial.
	$(GO) test -race -count=1 -timeout 15m -parallel 4 ./...

# The Debian package, dist/callvault_<version>_amd64.deb (nfpm, installed
# from the Go module proxy on first use); see packaging/build-deb.
deb: deps
	$(call apt_install,$(DEB_DEBS))
	packaging/build-deb

# Installs the .deb into a throwaway Debian root (debootstrap, cached in
# ~/.cache/callvault), records a call with it, drains it, removes and
# purges it; see packaging/package-test. Needs root (it uses sudo if not).
package-test: test-deps
	packaging/package-test

# The load table in short (under 3 minutes): callvault-sim against a fresh
# callvaultd on loopback at 100, 500 and 1,000 calls; see BENCHMARKS.md.
bench: build
	$(GO) run ./sim/loadtable -calls 100,500,1000 -duration 35s -verify 3

# Every Go benchmark (speed and memory figures for BENCHMARKS.md).
bench-go: test-deps
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

# The full load figures of BENCHMARKS.md (about 40 minutes): G.711 at 100
# to 1,500 calls held 5 minutes and 300 short calls a second, then G.729
# and SRTP; and SIP call setup with sipp (no RTP).
load: build test-deps
	$(GO) run ./sim/loadtable -calls 100,500,1000,1500 -duration 5m -cps 300
	$(GO) run ./sim/loadtable -calls 1000 -duration 2m -codec g729
	$(GO) run ./sim/loadtable -calls 1000 -duration 2m -srtp
	scripts/load-sip udp
	scripts/load-sip tcp

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

fmt:
	gofmt -w .

clean:
	rm -rf $(BIN) dist
