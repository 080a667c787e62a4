# gridmap — set-up, run, test, bench. Every target is idempotent.
SHELL := /bin/bash
DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/gridmap
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/gridmap_test
HOST ?= 127.0.0.1
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DATABASE_URL TEST_DATABASE_URL HOST PORT

.PHONY: run test bench system venv db testdb demo serve clean-venv

run: system venv db
	$(BIN)/gridmap db upgrade
	$(BIN)/gridmap demo
	@echo "gridmap: serving http://$(HOST):$(PORT)/ — press Ctrl+C to stop"
	$(BIN)/gridmap serve --host $(HOST) --port $(PORT)

test: system venv testdb
	$(BIN)/python -m pytest

bench: system venv testdb
	$(BIN)/python bench/run.py

system:
	bash scripts/install-system.sh

# The package and its test extras, installed into .venv/ once per change of setup.cfg.
venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

db:
	bash scripts/ensure-db.sh "$(DATABASE_URL)"

testdb:
	bash scripts/ensure-db.sh "$(TEST_DATABASE_URL)"

clean-venv:
	rm -rf $(VENV)
