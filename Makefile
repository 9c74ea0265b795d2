# Arbalest — build, demo, test and benchmark.
#
#   make demo   set up, generate TPC-H (SF=0.1 by default) and run the 22 queries, verified
#   make test   the whole test suite
#   make bench  TPC-H SF 1 (BENCH_SF=10 for SF 10) against DuckDB and DataFusion

SHELL := /bin/bash
GO ?= go
PYTHON ?= python3
SF ?= 0.1
BENCH_SF ?= 1
VENV := .venv
VPY := $(VENV)/bin/python
BIN := bin/arbalest
DATA := data
SHARED_TPCH := ../shared/tpch

# Pinned Python packages: oracles, peers and the TPC-H generator.
PY_PACKAGES := pyarrow==26.0.1 duckdb==1.4.2 datafusion==55.0.0 tpchgen-cli==4.0.0

export ARBALEST_VENV := $(abspath $(VENV))

.PHONY: all build setup demo test test-go conformance-report test-tpch test-cluster etcd bench proto clean fmt vet

all: build

build:
	$(GO) build -o $(BIN) ./cmd/arbalest

$(VENV)/.installed: Makefile
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check $(PY_PACKAGES)
	touch $@

setup: $(VENV)/.installed

$(DATA)/sf%/.done: | setup build
	$(BIN) tpch gen --sf $* --out $(DATA)/sf$*
	touch $@

demo: setup build $(DATA)/sf$(SF)/.done
	$(BIN) tpch run --data $(DATA)/sf$(SF) --verify
	@echo
	@echo "The same on a standalone cluster (a scheduler and 2 executors in one process, over gRPC and Flight):"
	@log=$$(mktemp); $(BIN) standalone --executors 2 --addr 127.0.0.1:0 2>$$log & pid=$$!; \
	trap "kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -f $$log" EXIT; \
	for i in $$(seq 100); do addr=$$(sed -n 's/^standalone cluster: scheduler on \([^,]*\),.*/\1/p' $$log); [ -n "$$addr" ] && break; sleep 0.1; done; \
	[ -n "$$addr" ] || { cat $$log; exit 1; }; \
	$(BIN) tpch run --connect $$addr --data $(DATA)/sf$(SF) --verify

test: setup build test-go conformance-report test-tpch test-cluster

test-go:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# Prints the counts of the conformance suites (their tests ran in test-go).
conformance-report:
	@$(GO) test -count=1 -v -run 'TestSubstraitFunctions$$' ./workers/go/internal/expr/ | sed -n '/Substrait function cases/,/^\s*---/p' | grep -v -- '---'
	@$(GO) test -count=1 -v -run 'TestSLT$$' ./conformance/slt/ | grep -o 'sqllogictest: .*'

# TPC-H 22/22 verified against DuckDB at SF 0.1, and against the official
# answers at SF 1 when ../shared/tpch is present.
test-tpch: $(DATA)/sf0.1/.done
	$(BIN) tpch run --data $(DATA)/sf0.1 --verify
	@if [ -d $(SHARED_TPCH)/answers-sf1 ]; then \
		$(MAKE) --no-print-directory $(DATA)/sf1/.done && \
		$(BIN) tpch run --data $(DATA)/sf1 --verify --answers $(SHARED_TPCH)/answers-sf1; \
	else echo "skipping SF 1 official answers: $(SHARED_TPCH) not present"; fi

# The cluster suite: a scheduler and executor processes on loopback running
# TPC-H SF 0.1 (verified against DuckDB) through executor kills, scheduler
# restarts (state in a directory and in a real etcd server), cancels and
# concurrent clients.
test-cluster: setup build etcd $(DATA)/sf0.1/.done
	ARBALEST_BIN=$(abspath $(BIN)) ARBALEST_TPCH_SF01=$(abspath $(DATA)/sf0.1) \
	ARBALEST_PYTHON=$(abspath $(VPY)) ARBALEST_ETCD_BIN=$$(command -v etcd) \
	$(GO) test -count=1 -timeout 20m -v ./conformance/cluster/ > $(DATA)/cluster-test.log 2>&1; rc=$$?; \
	if [ $$rc = 0 ]; then grep -E '^(--- |ok)|survived' $(DATA)/cluster-test.log; else cat $(DATA)/cluster-test.log; fi; [ $$rc = 0 ] || exit $$rc
	$(GO) test -race -count=1 -run 'TestInProcessCluster' ./conformance/cluster/

# etcd for the scheduler's state-store tests (Debian's etcd-server).
etcd:
	@command -v etcd >/dev/null || { \
		[ "$$(id -u)" = 0 ] || { echo "etcd is missing: install Debian's etcd-server (apt-get install etcd-server)"; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null; }; }

bench: setup build $(DATA)/sf$(BENCH_SF)/.done
	$(VPY) -m pip install --quiet --disable-pip-version-check matplotlib==3.11.2
	$(VPY) benchmarks/tpch_bench.py --arbalest $(BIN) --data $(DATA)/sf$(BENCH_SF) --sf $(BENCH_SF) --out docs/benchmarks.md

# Regenerates the committed Go code of the protos (buf.yaml at the root).
proto:
	GOBIN=$(abspath bin) GOFLAGS= $(GO) install github.com/bufbuild/buf/cmd/buf@v1.50.0
	GOBIN=$(abspath bin) GOFLAGS= $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	GOBIN=$(abspath bin) GOFLAGS= $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
	PATH=$(abspath bin):$$PATH bin/buf lint
	PATH=$(abspath bin):$$PATH bin/buf generate

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(DATA)
