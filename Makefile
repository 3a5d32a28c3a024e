# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app sip_tracker
CATALOGS := $(wildcard sip_tracker/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run test lint bench translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ -l $(word 3,$(subst /, ,$<)) -d sip_tracker/translations >/dev/null

setup: $(STAMP) $(COMPILED)

# axe-core for the accessibility test, from the npm registry (pinned in package-lock.json).
AXE := tests/e2e/node_modules/axe-core/axe.min.js
$(AXE): tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the accessibility test will skip"; fi

# The HL7 core package our trimmed base definitions come from (fhir_profiles/base/), from
# the npm registry into a cache outside the repository: a test checks the copies against it.
FHIR_CORE := $(HOME)/.cache/sip-tracker-fhir/hl7.fhir.r4b.core-4.3.0.tgz
$(FHIR_CORE):
	@if command -v npm >/dev/null 2>&1; then \
	  mkdir -p $(dir $@) && npm pack --silent hl7.fhir.r4b.core@4.3.0 --pack-destination $(dir $@) >/dev/null; \
	else echo "npm not found: the check of fhir_profiles/base against the HL7 package will skip"; fi

# The web server and the background worker (e-mail, reminders) together: Ctrl-C, or either
# one ending, stops both. The worker's queue is a SQLite file in instance/ (Redis with
# SIP_REDIS_URL), so nothing else needs starting.
run: SHELL := /bin/bash
run: setup
	$(FLASK) db upgrade
	$(FLASK) import-activities sip_tracker/handlingsplan/data/handlingsplan.yaml
	$(FLASK) seed-demo
	@$(FLASK) worker & worker=$$!; \
	$(FLASK) run --host 127.0.0.1 --port 5000 & web=$$!; \
	trap 'kill $$worker $$web 2>/dev/null; wait' INT TERM EXIT; \
	wait -n $$worker $$web

test: setup $(AXE) $(FHIR_CORE)
	$(BIN)/pytest -q
	@if [ -n "$$SIP_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$SIP_TEST_DATABASE_URL) =="; \
	  SIP_TEST_BACKEND=postgresql $(BIN)/pytest -q -m "not e2e"; \
	fi

# Speed targets live here, never in the test suite. PostgreSQL (production's database)
# in a schema of its own; BENCH_DATABASE_URL=sqlite:///… works too, for a rough look.
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench
bench: setup
	$(BIN)/python bench/fhir_bench.py --database-url '$(BENCH_DATABASE_URL)'

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# After changing UI strings: re-extract, merge, then translate the new entries in
# sip_tracker/translations/en/LC_MESSAGES/messages.po (a test fails while any is missing).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o sip_tracker/translations/messages.pot \
	  --no-location --sort-output --omit-header -w 100 .
	$(BIN)/pybabel update -i sip_tracker/translations/messages.pot -d sip_tracker/translations \
	  --no-fuzzy-matching --ignore-obsolete -w 100

clean:
	rm -rf $(VENV) instance/*.db
