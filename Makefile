# 农村留守老年人关爱服务门户 — `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1:8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/portal
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: help install run serve faults migrate demo test test-sqlite test-postgres bench lint messages api-schema check clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed ## Create .venv and install the pinned requirements

migrate: install ## Apply migrations to the database (SQLite file by default)
	$(PY) manage.py migrate --noinput

demo: migrate ## Load regions and the demo accounts and content
	$(PY) manage.py load_regions
	$(PY) manage.py seed_demo

run: demo ## Install, migrate, load regions and demo data, serve on 127.0.0.1:8000 with the task worker
	$(PY) -m scripts.supervise "$(PY) manage.py runserver $(HOST)" "$(PY) manage.py run_worker --queue-name *" \
		"$(PY) manage.py run_scheduler"

serve: install ## Production-like stack on 127.0.0.1:8000: collectstatic, gunicorn, task worker, scheduler
	HOST=$(HOST) $(PY) -m scripts.serve

faults: install ## Own PostgreSQL + Redis, 20 clients, Redis killed and PostgreSQL restarted (FAULTS_SECONDS)
	$(PY) -m scripts.faults

test: install ## Run the whole suite on SQLite, then on PostgreSQL when reachable
	$(PY) -m scripts.run_tests

test-sqlite: install ## Run the suite on SQLite only
	DATABASE_URL=sqlite:///test.sqlite3 $(PY) -m pytest -q

test-postgres: install ## Run the suite on PostgreSQL only ($$TEST_DATABASE_URL or the local server)
	DATABASE_URL=$${TEST_DATABASE_URL:-$(PG_URL)} $(PY) -m pytest -q

bench: install ## Benchmark pages against their floors (data generated at scale)
	$(PY) -m bench.run

lint: install ## Ruff, and the one-way dependencies between the apps (import-linter, contracts in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

APPS_WITH_CATALOGUES := cms services volunteers
MAKEMESSAGES := makemessages -l zh_Hans -l en --no-obsolete --ignore=tests --ignore=migrations

messages: install ## Rebuild the translation catalogues (project + one per app) after changing strings
	$(PY) manage.py $(MAKEMESSAGES) --ignore=.venv --ignore=staticfiles --ignore=bench --ignore=scripts \
		$(foreach app,$(APPS_WITH_CATALOGUES),--ignore=$(app))
	for app in $(APPS_WITH_CATALOGUES); do (cd $$app && ../$(PY) ../manage.py $(MAKEMESSAGES)) || exit 1; done
	$(PY) manage.py compilemessages --ignore=.venv

api-schema: install ## Regenerate api/openapi.json, the committed schema of /api/v1/ (a test compares them)
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py api_schema --write

check: install ## Django checks, missing migrations, collectstatic
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py collectstatic --noinput -v0
	$(PY) -m scripts.run_tests --collectstatic-only

clean: ## Remove the venv, database and collected static files
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .serve
