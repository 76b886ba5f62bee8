# EVO-TR developer commands. `make run` and `make test` set up what they need.
GO      ?= go
BIN     := bin/evo
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run test build bench vet fmt services

## run: start local services (Postgres, Ollama, Chroma), build evo, then `evo serve` (a bot token is set) or `evo chat`
run: build
	deploy/dev/postgres-up.sh --create-db
	deploy/dev/ollama-up.sh
	@chroma=$$(deploy/dev/chroma-up.sh); \
	if [ -z "$$CHROMA_URL" ] && ! grep -qE '^CHROMA_URL=.+' .env 2>/dev/null && [ -n "$$chroma" ]; then export CHROMA_URL=$$chroma; fi; \
	if [ -n "$$TELEGRAM_BOT_TOKEN$$DISCORD_BOT_TOKEN" ] || grep -qE '^(TELEGRAM|DISCORD)_BOT_TOKEN=.+' .env 2>/dev/null; then \
		exec $(BIN) serve; \
	else \
		echo "No bot token set: starting the terminal chat (evo chat)."; \
		exec $(BIN) chat; \
	fi

## build: the evo binary in bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/evo

## test: every test, against real Postgres and a real Ollama built from source
test: services
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...
	@# The host's zone must change nothing (SLEEP_TIMEZONE decides the night's days): the time-sensitive
	@# tests again, without -race, from UTC-11 to UTC+14. -count=1: the cache does not key on TZ.
	@echo "--- time-sensitive tests under other host zones"
	@start=$$(date +%s); \
	for tz in Pacific/Pago_Pago UTC Europe/Istanbul Asia/Tokyo Pacific/Kiritimati; do \
		echo "TZ=$$tz"; \
		TZ=$$tz $(GO) test -count=1 -timeout 5m ./sleep/ || exit 1; \
		TZ=$$tz $(GO) test -count=1 -timeout 5m -run 'Night|Sleep|ParseDay|ChromaDown|MemoryAcrossDays' ./brain/ ./cmd/evo/ || exit 1; \
	done; \
	echo "time-zone runs took $$(( $$(date +%s) - start ))s"
	@echo "--- expert switch penalty (first token after a switch / without; acceptance: chosen <= 1.2)"
	$(GO) test -run '^$$' -bench ExpertSwitch -benchtime 1x ./brain/ollama/

## services: what the tests need: Postgres running, a real Ollama (v0.6.5), Chroma, and Prometheus + promtool (v0.316.0) built into .cache/
services:
	deploy/dev/postgres-up.sh
	.ci/ollama.sh >/dev/null
	.ci/chroma.sh >/dev/null
	.ci/prometheus.sh >/dev/null

## bench: `evo bench` (the service under 50 users, real Postgres and Chroma), then the Go benchmarks
bench: services build
	@chroma=$$(deploy/dev/chroma-up.sh); \
	CHROMA_URL=$${CHROMA_URL:-$$chroma} $(BIN) bench
	$(GO) test -run '^$$' -bench . -benchmem ./...
