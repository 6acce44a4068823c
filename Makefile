# Two commands on a fresh machine: `make demo` (the main job) and `make test` (the suite).
# Each creates the virtual environment and installs what it needs.
#
#   make demo       the default world, the reward scale, every task run by the reference agent
#   make parts      the heavy parts the end-to-end tests need (LLM server, model, Docker, base
#                   image, Chromium, tmux), each built once and cached under
#                   $${SUPPORTGYM_CACHE:-~/.cache/supportgym}
#   make test       make parts, then the whole suite
#   make test-fast  the unit tier: no Docker, LLM server, browser or Ray cluster (no parts needed)
#   make lint       mypy on the whole package, ruff check and ruff format --check (settings: pyproject.toml)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# Test processes for the tests that can share the machine: one per core by default
# (pytest-xdist); TEST_WORKERS=0 runs them in this process. scripts/run-tests says how.
TEST_WORKERS ?= auto

.PHONY: demo test test-fast parts install bench lint clean

# uv installs the same packages about twice as fast as pip (measured: README "Figures"); pip is
# the fallback when uv cannot be had. Both print what they install as they go.
$(STAMP): pyproject.toml
	@echo "[install] $(VENV): supportgym and its dev dependencies (about 1 min with uv)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@if $(BIN)/python -m pip install --quiet --disable-pip-version-check uv; then \
		echo "$(BIN)/uv pip install --python $(BIN)/python -e '.[dev]'"; \
		$(BIN)/uv pip install --python $(BIN)/python -e '.[dev]'; \
	else \
		echo "[install] uv is not available; installing with pip"; \
		$(BIN)/python -m pip install --upgrade --progress-bar on pip && \
		$(BIN)/python -m pip install --progress-bar on -e '.[dev]'; \
	fi
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/supportgym demo

parts: $(STAMP)
	$(BIN)/supportgym parts

test: parts
	PYTHON=$(BIN)/python TEST_WORKERS=$(TEST_WORKERS) scripts/run-tests $(PYTEST_ARGS)

test-fast: $(STAMP)
	PYTHON=$(BIN)/python TEST_WORKERS=$(TEST_WORKERS) scripts/run-tests --fast $(PYTEST_ARGS)

# mypy cannot follow setuptools' package-dir (supportgym.env is the folder env/, ...), so it reads
# the package as installed: scripts/package-tree lays that out with links under build/package
# (made anew each time, so mypy's cache lives beside it).
lint: $(STAMP)
	$(BIN)/python scripts/package-tree build/package
	cd build/package && $(abspath $(BIN))/mypy --config-file $(abspath pyproject.toml) \
		--cache-dir $(abspath build/mypy-cache) -p supportgym
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/supportgym bench all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
