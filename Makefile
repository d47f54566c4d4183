# pcsim: `make run` and `make test` each do their own set-up on a fresh machine.
# Mesa 3.5 needs Python >= 3.12; the machine's default python3 may be older, so look for one.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PCSIM := $(VENV)/bin/pcsim
PYTHON_CANDIDATES := python3.13 python3.12 python3 \
	$(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3) \
	$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) \
	/usr/bin/python3.13 /usr/bin/python3.12 /usr/local/bin/python3.13 /usr/local/bin/python3.12
ARGS ?=

.PHONY: run test app app-assets install install-dev kernels browser-deps benchmarks validate clean

run: $(VENV)/.installed $(VENV)/.kernels
	$(PCSIM) run $(ARGS)

test: $(VENV)/.installed-dev $(VENV)/.kernels browser-deps app-assets
	$(PY) -m pytest -q $(ARGS)

install: $(VENV)/.installed $(VENV)/.kernels
install-dev: $(VENV)/.installed-dev $(VENV)/.kernels
kernels: $(VENV)/.kernels

$(VENV)/bin/python:
	@for c in $(PYTHON_CANDIDATES); do \
	  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
	    echo "Building $(VENV) with $$c ($$("$$c" --version))"; \
	    "$$c" -m venv $(VENV) && exit 0; \
	  fi; \
	done; \
	echo "No Python >= 3.12 found (tried: $(PYTHON_CANDIDATES))" >&2; exit 1

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(VENV)/.installed $@

# The fast engine's numba kernels, compiled into their cache (simulation/__pycache__) after each
# install or change of their sources, so that runs and tests load them (well under a second)
# instead of compiling them (about 10 s) on first use.
$(VENV)/.kernels: $(VENV)/.installed simulation/kernels.py simulation/records.py simulation/metrics.py \
		$(wildcard simulation/submodels/*.py)
	$(PY) -m simulation.warmup
	@touch $@

# The teaching page (`pcsim app`): served on http://127.0.0.1:$(APP_PORT)/; works offline once
# app-assets has filled Solara's asset cache (npm packages, from the npm registry, once).
APP_PORT ?= 8765
app: $(VENV)/.installed $(VENV)/.kernels app-assets
	$(PCSIM) app --port $(APP_PORT) $(ARGS)

# Solara's front-end files in <venv>/share/solara/cdn (quick when already there; needs npm once).
app-assets: $(VENV)/.installed
	@command -v npm >/dev/null 2>&1 || $(PY) -m simulation.app_assets --check >/dev/null 2>&1 || { \
	  echo "Installing Debian's npm to fetch the teaching page's front-end files"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	$(PY) -m simulation.app_assets

# Debian's Chromium for the browser tests (Playwright drives it by path; it never downloads a browser).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Speed and memory benchmarks (slow; not part of `make test`): each writes
# results/benchmarks/<name>-<time>.json. See benchmarks/README.md.
benchmarks: $(VENV)/.installed-dev $(VENV)/.kernels
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info simulation/__pycache__/*.nbi simulation/__pycache__/*.nbc
