# Two commands for a newcomer: `make run` (install and run the Telegram bot), `make test`
# (install and run every check CI runs). Both create .venv on first use. `make chat` tries the
# dialogue in the terminal without Telegram.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run chat test bench

run: $(VENV)/.installed
	$(BIN)/wegweiser run $(ARGS)

chat: $(VENV)/.installed
	$(BIN)/wegweiser chat $(ARGS)

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/wegweiser flows check
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python tests/bench/bench_dialogue.py $(ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed
