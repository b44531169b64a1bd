"""Schemas a loaded library held are remembered across starts: never a refused one, never a
draft typed in the window, and everything is checked again when the checker's files change
or the record is damaged."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from playground import checked_schemas, paths
from playground.output_constraint import ConstraintError, check_schema, make_constraint
from playground.prompts.collection import load_collection

VALID = {"type": "object", "properties": {"answer": {"type": "string"}}}
INVALID = {"type": "object", "properties": {"answer": {"type": "strnig"}}}


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checked_schemas.forget_in_memory()
    yield tmp_path / "cache"
    checked_schemas.forget_in_memory()


def _library(folder: Path, name: str, schema: object) -> Path:
    """A library file of one template whose output is ``schema``."""
    source = (f"{{#---\nname: {name}\noutput:\n  json_schema: {json.dumps(schema)}\n---#}}\n"
              "Answer: {{ q }}\n")
    doc = {"schema": "prompt-playground/library", "version": 1, "name": name,
           "templates": [{"id": name, "source": source}]}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _remembered() -> list[str]:
    data = json.loads(paths.checked_schemas_path().read_text(encoding="utf-8"))
    return list(data["accepted"])


def test_the_key_is_the_schema_not_its_spelling() -> None:
    assert checked_schemas.schema_key({"a": 1, "b": [1, 2]}) == checked_schemas.schema_key(
        json.loads('{ "b": [1,2],\n  "a": 1 }'))
    assert checked_schemas.schema_key({"a": 1}) != checked_schemas.schema_key({"a": 2})


def test_an_accepted_schema_is_remembered_and_a_refused_one_never(tmp_path: Path) -> None:
    _library(tmp_path / "libs", "good", VALID)
    _library(tmp_path / "libs", "bad", INVALID)
    collection = load_collection(tmp_path / "libs")
    assert any("not valid at $.properties.answer.type" in p for p in collection.problems)
    assert checked_schemas.schema_key(VALID) in _remembered()
    assert checked_schemas.schema_key(INVALID) not in _remembered()
    for _ in range(2):
        with pytest.raises(ConstraintError, match=r"not valid at \$\.properties\.answer\.type"):
            check_schema(INVALID)


def test_a_schema_typed_in_the_window_is_checked_but_not_remembered() -> None:
    make_constraint("json_schema", json.dumps(VALID))
    with pytest.raises(ConstraintError):
        make_constraint("json_schema", json.dumps(INVALID))
    assert not paths.checked_schemas_path().exists()


def test_a_second_start_does_not_import_the_checker_for_a_schema_it_loaded(
    own_cache: Path, tmp_path: Path,
) -> None:
    libs = _library(tmp_path / "libs", "good", VALID).parent
    code = ("import sys\nfrom pathlib import Path\n"
            "from playground.prompts.collection import load_collection\n"
            f"assert not load_collection(Path({str(libs)!r})).problems\n"
            "print('jsonschema' in sys.modules)")
    env = {"XDG_CACHE_HOME": str(own_cache), "HOME": str(own_cache), "PATH": "/usr/bin:/bin"}

    def start() -> str:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=120, check=True).stdout.strip()

    assert start() == "True"
    assert start() == "False"


def test_new_checker_files_check_every_schema_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    libs = _library(tmp_path / "libs", "good", VALID).parent
    load_collection(libs)
    key = checked_schemas.schema_key(VALID)
    assert checked_schemas.accepted(key)
    monkeypatch.setattr(checked_schemas, "installed_checkers", lambda: "jsonschema=elsewhere@1")
    checked_schemas.forget_in_memory()
    assert not checked_schemas.accepted(key)
    load_collection(libs)  # checked by the "new" checker, and remembered under it
    assert json.loads(paths.checked_schemas_path().read_text())["checkers"] == (
        "jsonschema=elsewhere@1")
    assert checked_schemas.accepted(key)


@pytest.mark.parametrize("damage", ["{not json", "[1, 2]", '{"checkers": 3, "accepted": "x"}'])
def test_a_damaged_record_costs_a_check_not_an_error(tmp_path: Path, damage: str) -> None:
    path = paths.checked_schemas_path()
    path.parent.mkdir(parents=True)
    path.write_text(damage, encoding="utf-8")
    assert not checked_schemas.accepted(checked_schemas.schema_key(VALID))
    load_collection(_library(tmp_path / "libs", "good", VALID).parent)
    assert checked_schemas.schema_key(VALID) in _remembered()
    with pytest.raises(ConstraintError):
        check_schema(INVALID)


def test_the_record_keeps_the_most_recent_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checked_schemas, "LIMIT", 3)
    keys = [checked_schemas.schema_key({"type": "object", "title": f"s{i}"}) for i in range(5)]
    for key in keys:
        checked_schemas.remember([key])
    assert _remembered() == keys[2:]


def test_a_start_that_knows_every_schema_writes_nothing(tmp_path: Path) -> None:
    libs = _library(tmp_path / "libs", "good", VALID).parent
    load_collection(libs)
    written = paths.checked_schemas_path().stat().st_mtime_ns
    checked_schemas.forget_in_memory()
    paths.checked_schemas_path().touch()
    touched = paths.checked_schemas_path().stat().st_mtime_ns
    load_collection(libs)
    assert paths.checked_schemas_path().stat().st_mtime_ns == touched
    assert written <= touched
