# Two set-up commands (see README): `make site` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: site test lint serve check clean chromium timelinejs

site: $(VENV)/.installed
	$(BIN)/timeline build

serve: $(VENV)/.installed
	$(BIN)/timeline serve

check: $(VENV)/.installed
	$(BIN)/timeline check --strict

test: $(VENV)/.installed-test chromium timelinejs lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check generator tests
	$(BIN)/ruff format --check generator tests
	$(BIN)/mypy

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Browser tests drive Debian's chromium; install it when it is missing (we run as root).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The TimelineJS3 export is tested in TimelineJS3 itself; npm installs it into tests/.node.
TIMELINEJS := tests/.node/node_modules/@knight-lab/timelinejs/dist/js/timeline.js
timelinejs: $(TIMELINEJS)
$(TIMELINEJS):
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	npm install --prefix tests/.node --no-audit --no-fund --loglevel=error @knight-lab/timelinejs@3.9.11

clean:
	rm -rf output .timeline-cache
