# a55 console: every job is one command. Each target installs what it needs, idempotently.
#   make run    build a release and serve it on http://127.0.0.1:3000 (built-in simulator, no credentials)
#   make test   unit + integration + browser tests
#   make check  rustfmt and clippy (host and WASM), warnings are errors
#   make dev    rebuild and reload on every change (cargo leptos watch)
# Builds of the site go through scripts/site-build (the front end's steps without compiling
# cargo-leptos, which only `make dev` installs).
#   make bench  every benchmark; BENCHMARKS.md is assembled from benchmarks/sections/

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Pinned so builds are reproducible. WASM_BINDGEN_VERSION must equal wasm-bindgen in Cargo.lock.
CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := 0.2.130

CARGO_BIN := $(HOME)/.cargo/bin
# The site builder: compiled on first use (about 2 min, cargo shows its progress), then a no-op check.
SITE_BUILD := cargo run --profile tools -p site-build --
# npm's binaryen (wasm-opt 132) comes first: Debian's older wasm-opt silently breaks hydration.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(CARGO_BIN):$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help run dev test test-rust test-browser test-bundle-size leak-scan check fmt bench bench-token bench-load bench-replicas bench-overhead bench-compare bench-inspector bench-coldload screenshots bundle-size tools build-tools wasm-target cargo-leptos wasm-bindgen chromium redis-server postgres-server node-deps clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# scripts/release.sh skips the build when nothing it is built from changed since the last one.
run: build-tools ## Build a release (unless up to date) and serve it on 127.0.0.1:3000 (simulator only unless console.toml exists)
	@scripts/release.sh
	@echo "Serving the console on http://127.0.0.1:3000 (Ctrl-C stops it)"
	LEPTOS_SITE_ROOT=target/site ./target/release/a55-console

dev: build-tools cargo-leptos wasm-bindgen ## Watch mode: rebuild and reload on change
	CARGO_INCREMENTAL=1 cargo leptos watch --split

test: tools test-rust test-browser leak-scan test-bundle-size ## Everything the tests need; unit, integration, browser tests and load smoke run; the leak canary scan; the bundle size budget

# Both suites run in leak-canary mode: canary secrets, every issued token recorded, logs at trace,
# responses, test output and SQLite files kept. `leak-scan` then fails the run on any trace of them.
LEAK_DIR := $(CURDIR)/target/leak-canary

# node-deps installs oauth2-mock-server, the independent OAuth2 server of the token integration test;
# A55_REQUIRE_OAUTH2_MOCK makes that test fail instead of skipping when it is missing. The Redis
# and PostgreSQL tests start their own servers and fail, naming the binary, when one is missing.
# The last two commands are the load and replica benchmarks' smoke runs (20 staff sessions for 10 s, same assertions).
test-rust: wasm-target node-deps redis-server postgres-server
	rm -rf $(LEAK_DIR)/integration && mkdir -p $(LEAK_DIR)/integration
	set -o pipefail; A55_LEAK_CANARY_DIR=$(LEAK_DIR)/integration A55_REQUIRE_OAUTH2_MOCK=1 RUST_BACKTRACE=1 \
	  cargo test -p app -p server --features app/ssr -- --nocapture 2>&1 | tee $(LEAK_DIR)/integration/test-output.log
	cargo test -p app -p server --features app/ssr --bench load
	cargo test -p app -p server --features app/ssr --bench replicas
	cargo test -p site-build

test-browser: tools
	$(SITE_BUILD) --split
	mkdir -p $(LEAK_DIR)
	set -o pipefail; cd end2end && npx playwright test 2>&1 | tee $(LEAK_DIR)/browser-test-output.log
	cp $(LEAK_DIR)/browser-test-output.log end2end/.run/playwright-output.log

# Needs the output of both suites (test-rust and test-browser).
# Same packages and features as test-rust, so nothing is rebuilt; the filter runs the one scan test.
leak-scan: ## Search the last test runs' logs, responses, output and databases for the canaries
	A55_LEAK_SCAN_DIRS="$(LEAK_DIR)/integration $(CURDIR)/end2end/.run" cargo test -p app -p server --features app/ssr -- \
	  --ignored --exact leak_canary::no_canary_appears_in_any_log_response_test_output_or_database_of_the_test_runs --nocapture

check: wasm-target ## cargo fmt --check and clippy -D warnings (server, app, and the WASM build)
	cargo fmt --all -- --check
	cargo clippy -p app -p server --all-targets --features app/ssr -- -D warnings
	cargo clippy -p site-build --all-targets -- -D warnings
	cargo clippy -p app --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

# bench-overhead goes last: it fails while its target (under 1 ms added) is missed, after writing its section.
bench: bench-token bench-load bench-replicas bench-inspector bench-coldload bundle-size bench-compare bench-overhead ## Every benchmark (optimised builds); assembles BENCHMARKS.md

# Each benchmark writes its own benchmarks/sections/*.md; BENCHMARKS.md is assembled from all of them.
bench-token: ## Token broker: single-flight under 1,000 callers, cache-hit latency
	cargo bench -p server --bench token_broker
	benchmarks/assemble.sh

bench-load: ## 200 logged-in staff sessions through the console for 60 s: errors, tokens, latency, RSS
	cargo bench -p server --bench load
	benchmarks/assemble.sh

bench-replicas: redis-server postgres-server ## Two replicas on one Redis and one PostgreSQL, 200 sessions for 60 s: requests/s, latency, tokens, round trips
	cargo bench -p server --bench replicas
	benchmarks/assemble.sh

bench-overhead: ## Latency the console adds to a request (direct vs through it, interleaved), requests/s
	cargo bench -p server --bench overhead; status=$$?; benchmarks/assemble.sh; exit $$status

bench-compare: ## Compare diff engine on 5 MB of JSON per side, every mode
	cargo bench -p server --bench compare_diff
	benchmarks/assemble.sh

# A release build: the inspector's figures are meaningless on a debug WASM.
screenshots: tools ## The README's pictures (docs/screenshots/*.png, each under 200 KB) from the simulator
	$(SITE_BUILD) --split
	cd end2end && npx playwright test --config screenshots.config.ts

bench-inspector: tools ## Response inspector on 1, 5 and 20 MB in chromium (BENCH_SIZES=1,5,20)
	@scripts/release.sh
	cd end2end && A55_CONSOLE_BIN=../target/release/a55-console npx playwright test --config bench.config.ts bench/inspector
	benchmarks/assemble.sh

# The release `make run` serves, precompressed /pkg included.
bench-coldload: tools ## Cold loads of /, /login and the lazy routes in chromium, loopback and 10 Mbit/s 40 ms (BENCH_COLDLOAD_RUNS=7)
	@scripts/release.sh
	cd end2end && A55_CONSOLE_BIN=../target/release/a55-console npx playwright test --config bench.config.ts bench/coldload
	benchmarks/assemble.sh

# The release front end alone, into a site directory of its own, so the debug site the browser tests
# use stays as it is.
BUNDLE_SITE := target/bundle-site

bundle-size: build-tools ## What each route's code costs on the wire (brotli) against benchmarks/bundle-budget.txt; writes its section
	rm -rf $(BUNDLE_SITE)/pkg
	LEPTOS_SITE_ROOT=$(BUNDLE_SITE) $(SITE_BUILD) --release --split --frontend-only
	node benchmarks/bundle-size.mjs section $(BUNDLE_SITE)/pkg
	benchmarks/assemble.sh

test-bundle-size: build-tools
	rm -rf $(BUNDLE_SITE)/pkg
	LEPTOS_SITE_ROOT=$(BUNDLE_SITE) $(SITE_BUILD) --release --split --frontend-only
	node benchmarks/bundle-size.mjs check $(BUNDLE_SITE)/pkg

fmt: ## Format the code
	cargo fmt --all

build-tools: wasm-target node-deps

tools: build-tools chromium redis-server postgres-server

wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# For `make dev` only. Built with its crate's own release profile (fat LTO, one codegen unit):
# overriding it with no LTO costs more, not less (BENCHMARKS.md, "First run").
cargo-leptos:
	@if cargo leptos --version 2>/dev/null | grep -q " $(CARGO_LEPTOS_VERSION)"; then :; else \
	  echo "Installing cargo-leptos $(CARGO_LEPTOS_VERSION): first run only, about 15 minutes on 2 cores"; \
	  cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads; fi

# Not --locked: its lock file names a webpki-roots release the registry no longer serves.
wasm-bindgen:
	@if wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)"; then :; else \
	  echo "Installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION): first run only, about 3 minutes"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); fi

chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

# The tests start their own servers on random ports: the service the package sets up is stopped
# and disabled (where there is a service manager at all).
redis-server:
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y redis-server \
	  && { $(SUDO) systemctl disable --now redis-server 2>/dev/null || $(SUDO) service redis-server stop 2>/dev/null || true; }; }

# PostgreSQL 15's server binaries (initdb, postgres) for the storage and replica tests; the cluster
# Debian creates and starts is stopped and kept from starting again.
PG_BIN ?= /usr/lib/postgresql/15/bin
postgres-server:
	@test -x $(PG_BIN)/postgres || { $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql-15 \
	  && { $(SUDO) pg_ctlcluster 15 main stop 2>/dev/null; $(SUDO) systemctl disable --now postgresql 2>/dev/null \
	       || $(SUDO) service postgresql stop 2>/dev/null || true; }; }

node-deps: end2end/node_modules/.package-lock.json

end2end/node_modules/.package-lock.json: end2end/package.json end2end/package-lock.json
	npm ci --prefix end2end --no-audit --no-fund
	@touch $@

clean: ## Remove build output
	cargo clean
