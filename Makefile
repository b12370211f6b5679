# Meridian — the commands of the contract. Deno is pinned and installed from npm when missing.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
DENO_VERSION := 2.9.6
DENO := .tools/node_modules/.bin/deno
export NO_COLOR := 1
export DENO_NO_UPDATE_CHECK := 1

.PHONY: deps web up test fmt lint check unit bench proto

# Installs the pinned Deno (from the npm package `deno`) and the locked npm dependencies.
deps:
	@if ! [ -x $(DENO) ] || ! $(DENO) --version 2>/dev/null | grep -q "^deno $(DENO_VERSION) "; then \
	  echo "installing deno $(DENO_VERSION) from npm into .tools/"; \
	  npm install --prefix .tools --no-save --no-package-lock --no-audit --no-fund --loglevel=error deno@$(DENO_VERSION); \
	fi
	@$(DENO) install --frozen --quiet

# Builds the dashboard into web/dist/.
web: deps
	@$(DENO) task --cwd web build

# Starts the whole stack in demo mode (see README).
up: web
	@$(DENO) run -A tools/up.ts

fmt: deps
	$(DENO) fmt --check

lint: deps
	$(DENO) lint

check: deps
	$(DENO) check

# Unit, integration and browser tests; ends with the line `tests: N passed, N failed`.
unit: web
	@mkdir -p .data
	@set +e; $(DENO) test -A 2>&1 | tee .data/test.out; status=$${PIPESTATUS[0]}; \
	  bash tools/test_summary.sh .data/test.out; exit $$status

test: fmt lint check unit

bench: web
	@mkdir -p bench/results
	@for b in bench/*.ts; do echo "== $$b"; $(DENO) run -A "$$b"; done

proto: deps
	$(DENO) task proto:schema

# The fault tests on a three-node NATS cluster (chaos/*_chaos.ts, README in deploy/cluster/):
# nodes SIGKILLed under load, each test printing its figures. CHAOS_RUNS (1) runs them that
# many times in a row; each run ends after CHAOS_TIMEOUT_S at the latest.
CHAOS_RUNS ?= 1
CHAOS_TIMEOUT_S ?= 900
.PHONY: chaos
chaos: deps
	@for run in $$(seq 1 $(CHAOS_RUNS)); do \
	  echo "== chaos run $$run of $(CHAOS_RUNS)"; \
	  timeout $(CHAOS_TIMEOUT_S) $(DENO) test -A chaos/*_chaos.ts; \
	done
