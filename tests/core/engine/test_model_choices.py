"""The one list of models every view offers, and the one name each model goes by."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground.engine import models
from playground.engine.endpoints import Endpoint, save_endpoint
from playground.engine.models import (
    ModelChoice,
    model_choices,
    model_display_name,
    model_exists,
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty models folder, no PLAYGROUND_MODELS and no saved endpoints of the developer's."""
    user = tmp_path / "user-models"
    monkeypatch.setattr(models, "user_models_dir", lambda: user)
    monkeypatch.delenv("PLAYGROUND_MODELS", raising=False)
    monkeypatch.setenv("PLAYGROUND_ENDPOINTS", str(tmp_path / "endpoints.json"))
    return user


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A catalog naming one file, "cataloged.Q8_0.gguf", "Cataloged Model 1B"."""
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"schema": 1, "models": [
        {"name": "Cataloged Model 1B", "file": "cataloged.Q8_0.gguf"},
        {"file": "nameless.gguf"},
    ]}), encoding="utf-8")
    monkeypatch.setattr(models, "CATALOG_PATH", path)
    return path


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF")
    return path


def test_a_cataloged_file_goes_by_its_catalog_name_else_by_its_file_name(
    tmp_path: Path, catalog: Path
) -> None:
    assert model_display_name(tmp_path / "x" / "cataloged.Q8_0.gguf") == "Cataloged Model 1B"
    assert model_display_name(str(tmp_path / "cataloged.Q8_0.gguf")) == "Cataloged Model 1B"
    assert model_display_name(tmp_path / "nameless.gguf") == "nameless"
    assert model_display_name(tmp_path / "some-model.Q4_K_M.gguf") == "some-model.Q4_K_M"
    assert model_display_name("remote:lab") == "remote:lab"


def test_the_bundled_model_goes_by_its_catalog_name_also_when_no_model_is_named(
    default_model_path: Path,
) -> None:
    """The shipped catalog names the bundled file; an empty key (the CLI's default model) is
    that same model under that same name, not the GGUF header's training-run label."""
    entry = models.catalog_entry(default_model_path)
    assert entry is not None
    assert model_display_name(default_model_path) == entry["name"]
    assert model_display_name("") == entry["name"]
    assert "Ep2" not in entry["name"]


def test_without_a_default_model_an_empty_key_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "DEFAULT_MODEL_PACKAGE", "no_such_model_package_here")
    assert model_display_name("") == "default model"


def test_every_model_on_offer_once_in_order_with_its_name_key_and_source(
    tmp_path: Path, isolated: Path, catalog: Path, monkeypatch: pytest.MonkeyPatch,
    default_model_path: Path,
) -> None:
    env_model = touch(tmp_path / "env" / "cataloged.Q8_0.gguf")
    user_model = touch(isolated / "mine.gguf")
    monkeypatch.setenv("PLAYGROUND_MODELS", str(tmp_path / "env"))
    added = touch(tmp_path / "elsewhere" / "added-model.gguf")
    gone = tmp_path / "gone" / "was-here.gguf"
    save_endpoint(Endpoint("lab", "http://127.0.0.1:9/v1", "served", None))

    listing = model_choices([str(added), str(user_model), str(gone), str(added)])

    assert listing.endpoints_error is None
    assert [(m.name, m.key, m.source) for m in listing.models] == [
        ("SmolLM2-135M-Instruct.Q4_1", str(models.default_model_path()), "bundled"),
        ("Cataloged Model 1B", str(env_model), "env"),
        ("mine", str(user_model), "user"),
        ("added-model", str(added), "added"),
        ("was-here", str(gone), "added"),
        ("remote:lab", "remote:lab", "remote"),
    ]
    assert [m.missing for m in listing.models] == [False] * 4 + [True, False]
    assert [m.key for m in listing.usable()] == [
        m.key for m in listing.models if m.key != str(gone)]
    remote = listing.models[-1]
    assert remote.remote and remote.endpoint is not None and remote.endpoint.model == "served"
    assert remote.path is None
    assert [m.source_label for m in listing.models] == [
        "bundled", "PLAYGROUND_MODELS", "models folder", "added", "added", "remote"]


def test_a_damaged_endpoints_file_keeps_the_local_models_and_says_why(
    tmp_path: Path, default_model_path: Path
) -> None:
    (tmp_path / "endpoints.json").write_text("{not json", encoding="utf-8")
    listing = model_choices()
    assert [m.source for m in listing.models] == ["bundled"]
    assert listing.endpoints_error is not None
    assert "cannot read the saved endpoints" in listing.endpoints_error


def test_the_listed_name_is_the_display_name(default_model_path: Path) -> None:
    """Whatever lists a model and whatever names a stored key agree."""
    for choice in model_choices().models:
        assert isinstance(choice, ModelChoice)
        assert model_display_name(choice.key) == choice.name


def test_a_remembered_key_exists_while_its_file_or_endpoint_does(tmp_path: Path) -> None:
    model = touch(tmp_path / "m.gguf")
    assert model_exists(str(model))
    assert not model_exists(str(tmp_path / "other.gguf"))
    assert not model_exists(str(tmp_path))
    assert not model_exists("")
    assert not model_exists("remote:lab")
    save_endpoint(Endpoint("lab", "http://127.0.0.1:9/v1", "served", None))
    assert model_exists("remote:lab")
    (tmp_path / "endpoints.json").write_text("[", encoding="utf-8")
    assert not model_exists("remote:lab")
