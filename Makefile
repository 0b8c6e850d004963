# Two set-up commands (see README): `make site` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: site test lint serve check clean chromium timelinejs bench lighthouse

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

# The TimelineJS3 export is tested in TimelineJS3 itself, and the theme's pages with
# axe-core; npm installs both into tests/.node.
TIMELINEJS := tests/.node/node_modules/@knight-lab/timelinejs/dist/js/timeline.js
AXE := tests/.node/node_modules/axe-core/axe.min.js
NPM_INSTALL := npm install --prefix tests/.node --no-audit --no-fund --loglevel=error
timelinejs: $(TIMELINEJS) $(AXE)
$(TIMELINEJS) $(AXE) &:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	$(NPM_INSTALL) @knight-lab/timelinejs@3.9.11 axe-core@4.14.1

# Lighthouse scores of the example's home, event and actor pages (not part of `make test`).
LIGHTHOUSE := tests/.node/node_modules/.bin/lighthouse
lighthouse: site chromium $(LIGHTHOUSE)
	$(BIN)/python tests/lighthouse.py output
$(LIGHTHOUSE): $(AXE)
	$(NPM_INSTALL) lighthouse@12.8.2

# Build times beside Hugo, Eleventy and Pelican (docs/benchmarks.md); peers go to bench/.tools/.
N ?= 1000 10000 100000
bench: $(VENV)/.installed
	$(BIN)/python bench/run.py --n $(N) $(BENCH_ARGS)

clean:
	rm -rf output .timeline-cache
