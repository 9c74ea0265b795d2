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
PY_PACKAGES := pyarrow==26.0.1 duckdb==1.4.2 datafusion==55.0.0 tpchgen-cli==4.0.0 \
	grpcio==1.76.0 grpcio-tools==1.76.0 grpcio-health-checking==1.76.0 protobuf==6.33.6 \
	cryptography==50.0.2 substrait-protobuf==0.85.0 adbc-driver-flightsql==1.13.0 adbc-driver-manager==1.13.0 \
	numpy==2.4.6

export ARBALEST_VENV := $(abspath $(VENV))

.PHONY: all build setup demo test test-go test-python conformance-report test-tpch test-cluster etcd chromium postgres docker minio jdbc-driver isthmus bench bench-udf bench-mixed proto clean fmt vet

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

test: setup build chromium postgres minio jdbc-driver isthmus $(DATA)/sf0.1/.done test-go test-python conformance-report test-tpch test-cluster

# Go tests. The plugin suites use the PostgreSQL test server (.ci/postgres.sh),
# TPC-H SF 0.1, the .venv's Python (Python plugins) and gcc (native UDFs).
test-go: $(DATA)/sf0.1/.done
	$(GO) vet ./...
	ARBALEST_PG_DSN=$$(.ci/postgres.sh dsn) ARBALEST_PG_REQUIRED=1 ARBALEST_PLUGIN_BIN=$(abspath $(BIN)) \
	ARBALEST_TPCH_SF01=$(abspath $(DATA)/sf0.1) ARBALEST_PYTHON=$(abspath $(VPY)) \
	ARBALEST_FLIGHTSQL_REQUIRED=1 ARBALEST_FLIGHTSQL_JDBC_JAR=$(abspath $(JDBC_JAR)) \
	ARBALEST_INTEROP_REQUIRED=1 ARBALEST_ISTHMUS_LIB=$(abspath $(ISTHMUS_LIB)) \
	ARBALEST_OBJECTSTORE_REQUIRED=1 env $$(.ci/minio.sh env | sed 's/^export //') \
	$(GO) test -count=1 -timeout 20m ./...

# The Python SDK's tests, and the Python executor's (its cluster tests build
# the Go binary and compare every function it advertises with the Go executor).
test-python: setup
	$(VPY) -m unittest discover -s sdk/python/tests
	ARBALEST_TPCH_SF01=$(abspath $(DATA)/sf0.1) $(VPY) -m unittest discover -s workers/python/tests

# The Arrow Flight SQL JDBC driver for the Flight SQL tests (Maven Central,
# checked against its SHA-256).
JDBC_JAR := .cache/flight-sql-jdbc-driver-18.3.0.jar
JDBC_SHA256 := 3f418b46c880e263558c5de669bdbede2c5d4375527ced116fb29f795b03704c
jdbc-driver: $(JDBC_JAR)
$(JDBC_JAR):
	mkdir -p $(dir $@)
	curl -fsSL -o $@.tmp https://repo1.maven.org/maven2/org/apache/arrow/flight-sql-jdbc-driver/18.3.0/flight-sql-jdbc-driver-18.3.0.jar
	echo "$(JDBC_SHA256)  $@.tmp" | sha256sum -c --quiet
	mv $@.tmp $@

# isthmus (Substrait's Calcite-based producer) and its dependencies from Maven
# Central, for the Substrait interoperability suite (conformance/interop).
ISTHMUS_LIB := .cache/isthmus-0.89.1
isthmus: $(ISTHMUS_LIB)/.done
$(ISTHMUS_LIB)/.done: conformance/interop/isthmus/pom.xml
	@command -v mvn >/dev/null || { \
		[ "$$(id -u)" = 0 ] || { echo "mvn is missing: install Debian's maven (apt-get install maven)"; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven >/dev/null; }; }
	mvn -q -B -f conformance/interop/isthmus/pom.xml dependency:copy-dependencies -DoutputDirectory=$(abspath $(ISTHMUS_LIB))
	touch $@

# A MinIO server for the object store tests (.ci/minio.sh: built with go
# install at a pinned version the first time, 127.0.0.1 only).
minio:
	.ci/minio.sh start

# The PostgreSQL server of the plugin tests: Debian's postgresql, a cluster in
# /tmp/arbalest-pg on 127.0.0.1:54329 (installed and started if needed).
postgres:
	.ci/postgres.sh start

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

# Headless Chromium for the web UI test (Debian's chromium, with fonts for
# readable screenshots); the test's screenshots go to data/screenshots.
chromium:
	@command -v chromium >/dev/null || { \
		[ "$$(id -u)" = 0 ] || { echo "chromium is missing: install Debian's chromium (apt-get install chromium fonts-liberation)"; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-liberation fonts-dejavu-core >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-liberation fonts-dejavu-core >/dev/null; }; }

export ARBALEST_SCREENSHOT_DIR := $(abspath $(DATA)/screenshots)

# etcd for the scheduler's state-store tests (Debian's etcd-server).
etcd:
	@command -v etcd >/dev/null || { \
		[ "$$(id -u)" = 0 ] || { echo "etcd is missing: install Debian's etcd-server (apt-get install etcd-server)"; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null || \
		{ apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null; }; }

# The container image (docs/deploy.md): the binary linked statically (cgo for
# the PostgreSQL parser, glibc linked in with -static) on an empty base.
IMAGE ?= arbalest
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_CTX := bin/image

docker:
	rm -rf $(IMAGE_CTX)
	mkdir -p $(IMAGE_CTX)/rootfs/etc/ssl/certs $(IMAGE_CTX)/rootfs/tmp $(IMAGE_CTX)/work
	chmod 1777 $(IMAGE_CTX)/rootfs/tmp
	cp /etc/ssl/certs/ca-certificates.crt $(IMAGE_CTX)/rootfs/etc/ssl/certs/
	CGO_ENABLED=1 $(GO) build -trimpath -tags netgo,osusergo,arbalest_nonative \
		-ldflags '-s -w -X main.version=$(VERSION) -linkmode external -extldflags "-static"' \
		-o $(IMAGE_CTX)/rootfs/arbalest ./cmd/arbalest
	@if readelf -l $(IMAGE_CTX)/rootfs/arbalest | grep -q INTERP; then \
		echo "$(IMAGE_CTX)/rootfs/arbalest is dynamically linked"; exit 1; fi
	docker build -f docs/deploy/Dockerfile --build-arg VERSION=$(VERSION) \
		-t $(IMAGE):$(VERSION) -t $(IMAGE):latest $(IMAGE_CTX)
	docker run --rm --network none $(IMAGE):$(VERSION) version

# Bench-only peers (not used by make test). Spark runs on the machine's Java 17.
BENCH_PY_PACKAGES := matplotlib==3.11.2 pyspark==4.3.0 py4j==0.10.9.9
# Ballista gets its own venv: it pins datafusion==54 (make test uses 55). PyPI has
# only its source, so pip builds it with cargo (about an hour on 2 busy cores, once;
# pip caches the wheel).
BALLISTA_VENV := $(VENV)/ballista
BALLISTA_PY_PACKAGES := ballista==54.1.0 datafusion==54.0.0 pyarrow==26.0.1

$(BALLISTA_VENV)/.installed: Makefile | setup
	$(PYTHON) -m venv $(BALLISTA_VENV)
	$(BALLISTA_VENV)/bin/pip install --quiet --disable-pip-version-check $(BALLISTA_PY_PACKAGES)
	touch $@

# TPC-H against DuckDB and DataFusion (one process each), and the distributed
# mode (a scheduler and three executor processes) against Ballista and Spark.
bench: setup build $(DATA)/sf$(BENCH_SF)/.done $(BALLISTA_VENV)/.installed
	$(VPY) -m pip install --quiet --disable-pip-version-check $(BENCH_PY_PACKAGES)
	$(VPY) benchmarks/tpch_bench.py --suite all --arbalest $(BIN) --data $(DATA)/sf$(BENCH_SF) --sf $(BENCH_SF) \
		--dist-config 3x1:3 --dist-config 3x2:6 --ballista-python $(BALLISTA_VENV)/bin/python --out docs/benchmarks.md
	$(MAKE) --no-print-directory bench-udf
	$(MAKE) --no-print-directory bench-mixed

# A scheduler with a Go and a Python executor against one with two Go
# executors, TPC-H SF $(BENCH_SF), answers verified.
bench-mixed: setup build $(DATA)/sf$(BENCH_SF)/.done
	$(VPY) benchmarks/mixed_bench.py --arbalest $(BIN) --data $(DATA)/sf$(BENCH_SF) --sf $(BENCH_SF) --out docs/benchmarks.md

# User-defined functions: Python plugin UDFs against DataFusion-python's and
# PySpark's, the native C and Go plugin functions against the built-in one,
# the per-batch cost of a Go plugin call.
bench-udf: setup build
	$(VPY) -m pip install --quiet --disable-pip-version-check $(BENCH_PY_PACKAGES)
	$(VPY) benchmarks/udf_bench.py --arbalest $(BIN) --out docs/benchmarks.md

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
