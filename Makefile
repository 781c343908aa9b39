# octavia-es — see README.md.
GO      ?= go
BIN     ?= bin/octavia-es
CONFIG  ?= etc/octavia-es.yaml
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.buildVersion=$(VERSION)

.PHONY: run build test check bench clean stop-amphorae

## run: start octavia-es with the embedded default on 127.0.0.1:9876 (data in ./data)
run: build
	./$(BIN) serve --config $(CONFIG)

## stop-amphorae: stop the local amphorae of ./data (they outlive `make run`, as Octavia's outlive
## its controller; the next `make run` re-adopts them). Stop `make run` first, or it fails them over.
stop-amphorae:
	@for f in data/amphorae/*/agent.pid; do \
	  [ -f "$$f" ] || continue; pid=$$(cat "$$f"); \
	  grep -qa amphora-agent /proc/$$pid/cmdline 2>/dev/null || continue; \
	  kill -TERM "$$pid" && echo "stopped amphora agent $$pid ($$(dirname $$f))"; \
	done

## build: compile the binary into bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/octavia-es

## check: formatting, vet and the import-direction rule
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	./.ci/check-imports

## test: every test (unit, conformance, API over HTTP, CLI, restart)
test: check
	$(GO) test -count=1 -timeout 15m ./...

## bench: benchmarks, printed with their baselines (not asserted)
bench: build
	./bench/run.sh

clean:
	rm -rf bin bench/out
