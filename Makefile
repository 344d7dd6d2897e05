# 预警劝阻 — `make run` and `make test` work on a fresh clone; `make help` lists every target.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# pytest-xdist workers for make test: every core (the browser tests then run in one process of their own)
TEST_JOBS ?= auto
FLASK  := $(BIN)/flask --app app

.DEFAULT_GOAL := help
.PHONY: help run serve test lint translations translations-update bytecode bench clean-db

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

translations: $(VENV)/.runtime  ## compile the English catalog (Chinese needs none)
	@$(BIN)/pybabel -q compile -d dissuasion/translations

bytecode: $(VENV)/.runtime  ## compile the project's modules to .pyc (done by run, test and bench)
	@# A host that sets PYTHONDONTWRITEBYTECODE (containers often do) would otherwise compile every module again at
	@# each start of a command or a worker: 0.1 s of each `flask import-list`. Stale files are recompiled here, and
	@# Python ignores a .pyc older than its source.
	@$(BIN)/python -m compileall -q dissuasion app.py

translations-update: $(VENV)/.runtime  ## re-extract strings into the English catalog after changing texts
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k say --no-location -o dissuasion/translations/messages.pot .
	$(BIN)/pybabel -q update -i dissuasion/translations/messages.pot -d dissuasion/translations --no-fuzzy-matching --ignore-obsolete

run: $(VENV)/.runtime translations bytecode  ## venv, dependencies, schema, demo data (first time), web server + scheduler on HOST:PORT
	$(FLASK) db upgrade
	$(FLASK) demo
	@echo "预警劝阻 running at http://$(HOST):$(PORT)/  (Ctrl-C stops the web server and the scheduler)"
	@# The scheduler is its own process (never inside the web server); it also runs the commits staff confirm on
	@# the import page (queued jobs), so one box needs no worker process. It stops with the web server.
	@$(FLASK) scheduler & sched=$$!; \
	  trap 'kill -TERM $$sched 2>/dev/null; wait $$sched' EXIT; trap 'exit 130' INT TERM; \
	  $(FLASK) run --host $(HOST) --port $(PORT) --no-reload --no-debugger

test: $(VENV)/.dev translations bytecode  ## venv, dependencies, the whole test suite (on every core; TEST_JOBS=0: one process)
	@# the suite on every core, then the browser tests in one process (one server, one Chromium, in file order);
	@# exit 5 (nothing selected, e.g. PYTEST_ARGS names only browser tests) is no failure of either half
	$(BIN)/pytest -q -n $(TEST_JOBS) -m "not e2e" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(BIN)/pytest -q -m e2e $(PYTEST_ARGS) || [ $$? -eq 5 ]

bench: $(VENV)/.dev translations bytecode  ## every benchmark (import, worklist, report, load; reads ../shared, needs PostgreSQL) -> bench/RESULTS.md
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lint: $(VENV)/.dev  ## ruff, and the import contracts of docs/ARCHITECTURE.md (import-linter)
	$(BIN)/ruff check dissuasion tests bench app.py
	$(BIN)/lint-imports --no-cache

clean-db:  ## delete the local SQLite database (instance/dissuasion.db)
	rm -f instance/dissuasion.db instance/dissuasion.db-wal instance/dissuasion.db-shm
