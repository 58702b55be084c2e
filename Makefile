# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5000
export FLASK_APP := portal:create_app

.PHONY: run test lint install bytecode translations translations-update bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed translations bytecode

## bytecode: compile the project's modules, as a wheel install does; an editable install leaves it to the first
## import, and where PYTHONDONTWRITEBYTECODE is set every process (each check worker) compiles them again
bytecode: $(VENV)/.installed
	$(PY) -m compileall -q portal config.py wsgi.py

PO_FILES := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@

translations: $(MO_FILES)

## translations-update: extract messages and merge them into every catalogue (en)
translations-update: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs '.* .venv bench tests' --sort-output --no-location -o portal/translations/messages.pot .
	$(VENV)/bin/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

## run: migrate the SQLite database, load demo data, serve the portal and its scheduler (portal serve)
run: install
	$(VENV)/bin/portal db upgrade
	$(VENV)/bin/portal seed demo
	@echo "Note: the demo services are real government addresses and the monitor checks them; PORTAL_MONITOR=off make run serves without checking."
	$(VENV)/bin/portal serve --port $(PORT)

## test: the whole suite, on SQLite and (when reachable) PostgreSQL
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check portal tests bench config.py wsgi.py

bench: install
	$(PY) bench/search_latency.py
	$(PY) bench/page_throughput.py
	$(PY) bench/service_page.py
	$(PY) bench/open_data_export.py
	$(PY) bench/rankings.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
