"""Applies PLAYGROUND_TEST_* model-load settings in a Python process a test started (see
tests/load_variants.py). Python imports this module at start-up when this folder is on
PYTHONPATH; tests/conftest.py puts it there only while such settings are in force."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def _apply() -> None:
    path = Path(__file__).resolve().parent.parent / "load_variants.py"
    spec = importlib.util.spec_from_file_location("_playground_load_variants", path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    settings = module.requested()
    if settings:
        module.apply(settings)


_apply()
