# Two commands for a newcomer: `make run` (install and run the Telegram bot), `make test`
# (install and run every check CI runs). Both create .venv on first use. `make chat` tries the
# dialogue in the terminal without Telegram.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run chat test bench graphviz chromium axe

run: $(VENV)/.installed
	$(BIN)/wegweiser run $(ARGS)

chat: $(VENV)/.installed
	$(BIN)/wegweiser chat $(ARGS)

test: $(VENV)/.installed-test graphviz chromium axe
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot
	$(BIN)/wegweiser flows check
	$(BIN)/python -m pytest

# Every benchmark in tests/bench (bench_bot, bench_dialogue, bench_store, ...), each with $(ARGS),
# e.g. `make bench ARGS=--quick`. All of them run; the target fails if any of them failed.
bench: $(VENV)/.installed-test
	@failed=; for script in tests/bench/bench_*.py; do \
		echo "== $$script $(ARGS)"; \
		$(BIN)/python $$script $(ARGS) || failed="$$failed $$script"; \
		echo; \
	done; \
	if [ -n "$$failed" ]; then echo "failed:$$failed"; exit 1; fi

# $(call from_debian,COMMAND,PACKAGES): install Debian's PACKAGES with apt-get when COMMAND is
# missing, as root or through sudo. Elsewhere, install them by hand.
define from_debian
	@command -v $(1) >/dev/null || { \
		echo "$(1) is missing: installing $(2) with apt-get"; \
		if [ "$$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi; \
		$$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $(2); \
	}
endef

# Graphviz's `dot` draws `wegweiser flows graph --format svg|html`, and the tests draw with it. It
# is a program from the system's packages, not from PyPI: installed here with apt-get when missing
# (as root, or through sudo); elsewhere install the package "graphviz" by hand.
graphviz:
	$(call from_debian,dot,graphviz)

# The browser tests (tests/channels/web/test_browser.py) drive Debian's Chromium with Playwright
# (from PyPI, in the test extras; Playwright's own browser download is never used). Installed
# here with apt-get like Graphviz. Without it the browser tests skip locally, and fail in CI.
chromium:
	$(call from_debian,chromium,chromium)

# axe-core, the accessibility rules the browser tests run in the page: from npm, at the version
# of tests/web/package-lock.json, into tests/web/node_modules (git-ignored). Node.js and npm come
# from Debian's packages when missing.
axe: tests/web/node_modules/axe-core/axe.min.js

tests/web/node_modules/axe-core/axe.min.js: tests/web/package-lock.json
	$(call from_debian,npm,nodejs npm)
	cd tests/web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed
