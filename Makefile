# The README's two commands: `make run` and `make test`. Both install what they need.
# `make check` is the contributor's fast loop: lint, then the suite without the browser.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ADDR ?= 127.0.0.1:8000
PUBLIC_BASE_URL ?= http://$(ADDR)
PYTEST_ARGS ?=

RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# axe-core for the accessibility tests (tests/browser/axe.py), pinned by package-lock.json.
AXE := node_modules/axe-core/axe.min.js

.PHONY: run test suite lint check chromium npm nginx wrk bench soak drill totp messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q .
	@rm -rf build *.egg-info
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q ".[test]"
	@rm -rf build *.egg-info
	touch $@ $(RUN_STAMP)

# Development service on the embedded default: SQLite, django-q2 on the ORM broker,
# console email, demo data. Ctrl-C stops the web server and the worker together: the
# trap signals qcluster's main process only, never its group (django-q2 1.11 can hang on
# a group SIGTERM), and waits while it stops its own workers.
run: export RECOURSE_ENV = development
run: export PUBLIC_BASE_URL := $(PUBLIC_BASE_URL)
run: $(RUN_STAMP)
	@mkdir -p var
	@test -f var/dev-keyring.json || $(BIN)/python manage.py keyring_add --file var/dev-keyring.json
	@$(BIN)/python manage.py epoch_keys_add --file var/dev-keyring.json -v0 >/dev/null
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "Recourse is starting at http://$(ADDR)/  (reporter pages)"
	@$(BIN)/python manage.py demo_logins
	@echo
	@$(BIN)/python manage.py qcluster & QPID=$$!; \
	trap 'kill $$QPID 2>/dev/null; wait $$QPID 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(ADDR)

# Every core runs tests (pytest-xdist; each worker has its own test database), and tests
# go out one at a time: in bigger batches, a worker busy with a long test (a real
# qcluster, a backup drill) sat on a queue of short ones while the other had none left.
XDIST := -n auto --maxschedchunk 1

# Lint, then the whole suite, browser tests included (Debian's chromium and npm,
# installed if missing; axe-core from package-lock.json; Debian's nginx for the
# deployment tests, tests/deploy/).
test: lint suite

# The whole suite without the lint (.ci/run lints once, then runs two of these at once).
suite: $(TEST_STAMP) chromium nginx $(AXE)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# ruff's rules and format ([tool.ruff]), then mypy, strict, over vault/ ([tool.mypy]).
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Lint, then the suite without the browser tests.
check: lint nginx
	$(BIN)/python -m pytest -m "not browser" $(XDIST) $(PYTEST_ARGS)

chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's nginx for tests/deploy/ (the site in deploy/nginx/ checked and run in front of
# gunicorn, as the current user, on high ports). Installing it must not start the system
# service on port 80: a policy-rc.d that refuses every start is put in place for the
# install when the host has none (Docker images ship one), then removed.
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "Installing Debian's nginx for the deployment tests (service not started)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  POLICY=/usr/sbin/policy-rc.d; ADDED=; \
	  if [ ! -e $$POLICY ]; then \
	    printf '#!/bin/sh\nexit 101\n' | $$SUDO tee $$POLICY >/dev/null && $$SUDO chmod 755 $$POLICY && ADDED=1; \
	  fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; \
	  STATUS=$$?; [ -z "$$ADDED" ] || $$SUDO rm -f $$POLICY; exit $$STATUS; }

# npm ci installs exactly the lock; touch, because npm keeps the package's own file dates.
$(AXE): package.json package-lock.json | npm
	npm ci --no-audit --no-fund
	touch $@

npm:
	@command -v npm >/dev/null 2>&1 || { \
	  echo "Installing Debian's npm for the accessibility tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }

# Recourse beside a minimal Django baseline under gunicorn, production settings and the
# worker, driven by wrk from a second process; PostgreSQL when one answers, else SQLite.
# Seeds 100,000 cases once (kept in recourse_bench / var/bench). BENCH_SECONDS=10 per run,
# BENCH_ONLY=sms_new,web_submit to pick scenarios.
bench: $(TEST_STAMP) wrk
	$(BIN)/python bench/run.py

# Ten minutes of mixed load (SOAK_SECONDS=600): no 5xx, nothing lost or doubled, every
# notification sent once (counted where it leaves), no escalation step twice, each minute
# job once a minute, the queue drained within two minutes, flat memory. NODES=2: two
# gunicorn instances and two workers on one PostgreSQL, one worker killed halfway and
# restarted (README, "Measuring it").
NODES ?= 1
soak: $(TEST_STAMP)
	SOAK_NODES=$(NODES) $(BIN)/python bench/soak.py

wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for the benchmark"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

# Backup and restore drill (README, "Backup and restore drill"): restore a dump and the
# key ring from its own backup into a fresh drill_restore_* database, start gunicorn and
# the worker on it, and prove passwords open cases, the audit chain holds and pending
# sends resume once. With no DRILL_ARGS, a demo source on the local PostgreSQL first;
# a real backup: make drill DRILL_ARGS="--dump FILE --keyring RING --staff USERNAME".
DRILL_ARGS ?= --demo
drill: $(RUN_STAMP)
	$(BIN)/python deploy/backup_drill.py $(DRILL_ARGS)

# Current TOTP code of a demo account: make totp USER=focal.dkr1
totp: export RECOURSE_ENV = development
totp:
	@$(BIN)/python manage.py demo_logins --user $(USER)

# Re-extract and compile translations (needs gettext: apt-get install gettext).
messages:
	RECOURSE_ENV=development $(BIN)/python manage.py makemessages -l fr -l es -l ar --no-obsolete --no-wrap --ignore .venv --ignore node_modules
	RECOURSE_ENV=development $(BIN)/python manage.py compilemessages --ignore .venv

clean:
	rm -rf $(VENV) var staticfiles node_modules
