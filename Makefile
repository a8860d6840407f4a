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
# The lowest versions pyproject.toml allows, resolved once by `make lock`, as two sets.
# Every opentelemetry-exporter-prometheus release pins opentelemetry-sdk to its own minor, so
# with every extra OpenTelemetry sits at that pin: LOWEST proves the openai, langchain and
# prometheus floors (the whole suite), LOWEST_OTEL (every extra but the Prometheus exporter)
# proves OpenTelemetry's own floors; the tests marked `prometheus` need that exporter, so there
# they are the ones left out, having run at the exporter's floor in LOWEST.
LOWEST := .ci/lowest.txt
LOWEST_OTEL := .ci/lowest-otel.txt
# An interpreter that runs (a pyenv shim for a version not enabled does not).
LOWEST_PYTHON ?= $(shell python3.10 -c 'import sys; print(sys.executable)' 2>/dev/null || echo $(PYTHON))

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

# $(call run_lowest,REQUIREMENTS,VENV,PYTEST_ARGS): the suite in VENV holding exactly REQUIREMENTS.
define run_lowest
	test -x $(2)/bin/python || $(UV) venv --quiet --python $(LOWEST_PYTHON) $(2)
	$(UV) pip sync --quiet --python $(2)/bin/python $(1)
	$(UV) pip install --quiet --python $(2)/bin/python --no-deps -e .
	$(2)/bin/python -m pytest -p no:cacheprovider $(3)
endef

# The suite at the lowest versions pyproject.toml allows (proves the floors), in two runs.
lowest: system-deps | $(UV)
	$(call run_lowest,$(LOWEST),build/venv-lowest,)
	$(call run_lowest,$(LOWEST_OTEL),build/venv-lowest-otel,-m "not prometheus")

# Deliberately move to today's newest releases (then run `make test` and `make lowest`, and
# commit uv.lock and .ci/lowest*.txt together).
lock: | $(UV)
	$(UV) lock --upgrade --python $(PYTHON)
	$(UV) pip compile --quiet --upgrade pyproject.toml --all-extras --resolution lowest-direct \
	  --python-version 3.10 --no-header --output-file $(LOWEST)
	$(UV) pip compile --quiet --upgrade pyproject.toml --all-extras --resolution lowest-direct \
	  --python-version 3.10 --no-header --overrides .ci/without-prometheus.txt \
	  --output-file $(LOWEST_OTEL)

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
