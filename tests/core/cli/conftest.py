from __future__ import annotations

from pathlib import Path

import pytest

from playground.engine import models
from playground.engine.backends import LocalBackend


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the bundled model is visible, and starting a model backend fails the test."""
    monkeypatch.delenv("PLAYGROUND_MODELS", raising=False)
    monkeypatch.setattr(models, "user_models_dir", lambda: tmp_path / "no-user-models")

    def no_backend(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the CLI started a model backend")

    monkeypatch.setattr(LocalBackend, "__init__", no_backend)
