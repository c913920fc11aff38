# webox: `make run` serves the embedded default, `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run admin test lint worker beat bench screenshots

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

admin: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createsuperuser

test: install
	./scripts/ensure-chromium
	./scripts/ensure-nginx
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# One worker process per core: each runs its streams on one event loop, so one process uses at most
# one core (docs/performance.md). They are forked from one process that imported everything first,
# so they share that memory (webox/workers.py). Ctrl-C (or a TERM to the first) stops them all.
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
worker: install
	$(PY) -m webox.workers $(WORKERS) -P threads -c 200 --loglevel INFO

beat: install
	$(VENV)/bin/celery -A webox beat --loglevel INFO --schedule var/celerybeat-schedule

bench: install
	$(PY) -m benchmarks

# Browser tests write their screenshots to a temporary folder; this copies them into docs/.
screenshots: install
	./scripts/ensure-chromium
	rm -rf var/screenshots && mkdir -p var/screenshots
	WEBOX_SCREENSHOTS_DIR=$(CURDIR)/var/screenshots $(PY) -m pytest -q tests/browser
	cp var/screenshots/*.png docs/screenshots/
