# gridmap — set-up, run, test, bench. Every target is idempotent.
SHELL := /bin/bash
DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/gridmap
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/gridmap_test
# The import benchmark truncates this database's buildings at every run: keep it its own.
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/gridmap_bench
HOST ?= 127.0.0.1
PORT ?= 8000
GRIDMAP_MQTT_URL ?= mqtt://127.0.0.1:1883
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DATABASE_URL TEST_DATABASE_URL BENCH_DATABASE_URL HOST PORT GRIDMAP_MQTT_URL

.PHONY: run test bench system system-run system-test system-bench venv venv-run db testdb benchdb broker \
        db-untrust demo serve clean-venv translations

run: system-run venv-run db broker
	$(BIN)/gridmap db upgrade
	$(BIN)/gridmap demo
	@echo "gridmap: serving http://$(HOST):$(PORT)/ — sign in as demo-admin, demo-worker, demo-dispatcher or demo-handler" \
	  "(passwords shown when first created; new one: $(BIN)/gridmap user reset-password" \
	  "demo-admin) — press Ctrl+C to stop"
	WEB_PORT=$(PORT) $(BIN)/honcho start -f Procfile

test: system-test venv testdb broker
	$(BIN)/python -m pytest

bench: system-bench venv benchdb
	@# The partition benchmark's peers, only for the bench (never a dependency of gridmap).
	$(BIN)/python -m pip install --quiet spopt gerrychain || \
	    echo "bench: spopt/gerrychain did not install; bench/partition.py says which peer is missing"
	@# The stop-ordering benchmark's peers (elkai is gridmap's own engine, already installed).
	$(BIN)/python -m pip install --quiet ortools pyvroom || \
	    echo "bench: ortools/pyvroom did not install; bench/route_order.py says which peer is missing"
	@# pygeoapi, the OGC API peer, in a venv of its own: it pins its own Flask and SQLAlchemy.
	test -x var/bench-pygeoapi/bin/python || python3 -m venv var/bench-pygeoapi
	var/bench-pygeoapi/bin/python -m pip install --quiet pygeoapi psycopg2-binary \
	    'pygeofilter[backend-sqlalchemy]' gunicorn || \
	    echo "bench: pygeoapi did not install; bench/ogcapi_items.py will say so"
	$(BIN)/python bench/run.py

# Debian packages by group (scripts/install-system.sh): `make run` installs the run group,
# `make test` adds Chromium, `make bench` GDAL's tools and pgRouting; `make system` installs
# every group.
system-run:
	bash scripts/install-system.sh run

system-test:
	bash scripts/install-system.sh run test

system-bench:
	bash scripts/install-system.sh run bench

system:
	bash scripts/install-system.sh run test bench mqtt

# An MQTT broker at GRIDMAP_MQTT_URL: Mosquitto installed (Debian) only when none answers
# there, then started (scripts/ensure-broker.sh says how it is stopped).
broker:
	@bash scripts/ensure-broker.sh --check || bash scripts/install-system.sh mqtt
	bash scripts/ensure-broker.sh

# The package into .venv/, once per change of setup.cfg: venv-run without the test extras
# (pytest, hypothesis, Playwright), venv with them.
venv-run: $(VENV)/.installed-run

venv: $(VENV)/.installed-test

$(VENV)/.installed-%: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.$(if $(filter test,$*),[test])'
	touch $@

# The database and PostGIS (scripts/ensure-db.sh says what it changes and how to undo it).
db:
	bash scripts/ensure-db.sh "$(DATABASE_URL)"

testdb:
	bash scripts/ensure-db.sh "$(TEST_DATABASE_URL)"

benchdb:
	bash scripts/ensure-db.sh "$(BENCH_DATABASE_URL)"

# Remove every access rule ensure-db.sh added to a local cluster's pg_hba.conf/pg_ident.conf.
db-untrust:
	bash scripts/ensure-db.sh --undo

clean-venv:
	rm -rf $(VENV)

# Message catalogues (README, "Languages"): extract every message, update gridmap/translations'
# zh_CN and en .po files, compile the .mo files, export the JavaScript's JSON.
translations: venv-run
	$(BIN)/python scripts/translations.py
