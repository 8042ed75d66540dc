# fastx402 — set-up and test commands. `make test` is what CI runs (.ci/run).
#
#   make demo    create .venv, build and install fastx402 with its demo extra, run `fastx402 demo`
#   make test    create .venv, build the extension, run every check and test (Rust + Python)
#   make dev     only (re)build the extension into .venv
#   make bench   run the benchmarks side by side with the peers
#   make vectors re-record the EIP-712 vectors from @metamask/eth-sig-util and viem (needs node)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
export CARGO_TERM_COLOR ?= never

.PHONY: demo test dev venv lint rust-test py-test stubtest bench vectors clean chain-tools redis-server chromium

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(PY)
	$(PIP) install --quiet "maturin>=1.9.4,<2"

dev: venv
	$(VENV)/bin/maturin develop --release --quiet --extras test,lint

lint: dev
	cargo fmt --all -- --check
	cargo clippy --all-targets --all-features --quiet -- -D warnings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

stubtest: dev
	$(PY) -m mypy.stubtest fastx402._core

rust-test: chain-tools
	cargo test --quiet
	# The pure-Rust backend alone, as a build without libsecp256k1 ships it.
	cargo test --quiet --no-default-features --lib --test vectors --test wycheproof

py-test: dev chain-tools redis-server chromium
	$(PY) -m pytest -q

# tests/test_store.py starts a throwaway redis-server (Debian package) on a free local port.
redis-server:
	command -v redis-server >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server)

# tests/test_server_paywall_browser.py renders the paywall in headless Chromium (Debian package).
chromium:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# Test chain (tests/contracts): anvil and solc-js from npm, then the contracts compiled offline.
# npm ci runs only when node_modules is missing or older than package.json / package-lock.json.
CHAIN := tests/contracts
chain-tools: $(CHAIN)/build/TestUSDC.json
	@$${FASTX402_ANVIL:-$(CHAIN)/node_modules/.bin/anvil} --version >/dev/null || \
	  { echo "anvil missing: npm ships it for linux x64 only here; set FASTX402_ANVIL" >&2; exit 1; }

$(CHAIN)/node_modules/.package-lock.json: $(CHAIN)/package.json $(CHAIN)/package-lock.json
	cd $(CHAIN) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(CHAIN)/build/TestUSDC.json: $(wildcard $(CHAIN)/*.sol) $(CHAIN)/compile.mjs $(CHAIN)/node_modules/.package-lock.json
	node $(CHAIN)/compile.mjs

test: lint stubtest rust-test py-test

# The first thing to run: x402 end to end on a local anvil (installed by chain-tools).
demo: venv chain-tools
	$(VENV)/bin/maturin develop --release --quiet --extras demo
	$(VENV)/bin/fastx402 demo

bench: venv chain-tools
	$(VENV)/bin/maturin develop --release --quiet --extras test,lint,bench
	$(PY) benches/bench_crypto.py
	$(PY) benches/bench_x402.py
	$(PY) benches/bench_settle.py
	$(PY) benches/bench_server.py

vectors:
	cd tests/vectors/gen && npm ci --silent && node record_noncanonical.mjs
	$(PY) tests/vectors/gen/make_signature_vectors.py

clean:
	cargo clean
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache
