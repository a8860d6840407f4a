# Every target creates/updates what it needs itself, so a clean checkout needs
# only `make demo` or `make test`.
#
# Installs come from the committed lock (uv.lock), never from whatever the
# package index serves today: `uv sync --locked` installs exactly the versions
# the suite last passed with, and fails if pyproject.toml changed without
# `make lock`. uv itself is pinned and installed from PyPI into build/uv.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := build/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synced
# The lowest versions pyproject.toml allows, resolved once by `make lock`.
LOWEST := .ci/lowest.txt
LOWEST_PYTHON ?= $(shell command -v python3.10 || echo $(PYTHON))
LOWEST_VENV := build/venv-lowest

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test lint lowest lock bench bench-quick clean venv system-deps prices

$(UV):
	$(PYTHON) -m venv build/uv
	build/uv/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

venv: $(STAMP)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-extras --python $(PYTHON) --quiet
	touch $@

demo: venv
	$(VENV)/bin/otel-llm demo

lint: venv
	$(VENV)/bin/ruff check otel_llm tests examples bench scripts
	$(VENV)/bin/mypy

# The deploy tests run a real Prometheus (Debian's package: prometheus + promtool).
system-deps:
	@if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  echo "installing Debian's prometheus package (for the dashboard tests)"; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	fi

test: venv system-deps lint
	$(PY) -m pytest

# The whole suite at the lowest versions pyproject.toml allows (proves the floors).
lowest: system-deps | $(UV)
	test -x $(LOWEST_VENV)/bin/python || $(UV) venv --quiet --python $(LOWEST_PYTHON) $(LOWEST_VENV)
	$(UV) pip sync --quiet --python $(LOWEST_VENV)/bin/python $(LOWEST)
	$(UV) pip install --quiet --python $(LOWEST_VENV)/bin/python --no-deps -e .
	$(LOWEST_VENV)/bin/python -m pytest -p no:cacheprovider

# Deliberately move to today's newest releases (then run `make test` and commit
# uv.lock and .ci/lowest.txt together).
lock: | $(UV)
	$(UV) lock --upgrade --python $(PYTHON)
	$(UV) pip compile --quiet pyproject.toml --all-extras --resolution lowest-direct \
	  --python-version 3.10 --no-header --output-file $(LOWEST)

# Regenerate otel_llm/pricing/prices.json from the locked genai-prices package
# (after `make lock` moved it; review the diff, run `make test`, commit).
prices: venv
	$(PY) scripts/update_prices.py

# The peer comparison (bench/RESULTS.md): installs the peers in venvs under build/.
bench: venv
	$(PY) -m bench $(BENCH_ARGS)

bench-quick: venv
	$(PY) -m bench --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
