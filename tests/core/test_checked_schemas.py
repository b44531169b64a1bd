"""Schemas the installed jsonschema accepted are remembered across starts: never a refused one,
and everything is checked again when the checker's files change or the record is damaged."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground import checked_schemas, paths
from playground.output_constraint import ConstraintError, check_schema

VALID = {"type": "object", "properties": {"answer": {"type": "string"}}}
INVALID = {"type": "object", "properties": {"answer": {"type": "strnig"}}}


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checked_schemas.forget_in_memory()
    yield tmp_path / "cache"
    checked_schemas.forget_in_memory()


def _remembered() -> list[str]:
    data = json.loads(paths.checked_schemas_path().read_text(encoding="utf-8"))
    return list(data["accepted"])


def test_the_key_is_the_schema_not_its_spelling() -> None:
    assert checked_schemas.schema_key({"a": 1, "b": [1, 2]}) == checked_schemas.schema_key(
        json.loads('{ "b": [1,2],\n  "a": 1 }'))
    assert checked_schemas.schema_key({"a": 1}) != checked_schemas.schema_key({"a": 2})


def test_an_accepted_schema_is_remembered_and_a_refused_one_never() -> None:
    check_schema(VALID)
    assert _remembered() == [checked_schemas.schema_key(VALID)]
    for _ in range(2):
        with pytest.raises(ConstraintError, match=r"not valid at \$\.properties\.answer\.type"):
            check_schema(INVALID)
    assert checked_schemas.schema_key(INVALID) not in _remembered()


def test_a_second_start_does_not_import_the_checker_for_a_schema_it_accepted(
    own_cache: Path,
) -> None:
    code = ("import sys\nfrom playground.output_constraint import check_schema\n"
            f"check_schema({VALID!r})\nprint('jsonschema' in sys.modules)")
    env = {"XDG_CACHE_HOME": str(own_cache), "HOME": str(own_cache), "PATH": "/usr/bin:/bin"}

    def start() -> str:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=120, check=True).stdout.strip()

    assert start() == "True"
    assert start() == "False"


def test_new_checker_files_check_every_schema_again(monkeypatch: pytest.MonkeyPatch) -> None:
    check_schema(VALID)
    key = checked_schemas.schema_key(VALID)
    assert checked_schemas.accepted(key)
    monkeypatch.setattr(checked_schemas, "installed_checkers", lambda: "jsonschema=elsewhere@1")
    checked_schemas.forget_in_memory()
    assert not checked_schemas.accepted(key)
    check_schema(VALID)  # checked by the "new" checker, and remembered under it
    assert json.loads(paths.checked_schemas_path().read_text())["checkers"] == (
        "jsonschema=elsewhere@1")
    assert checked_schemas.accepted(key)


@pytest.mark.parametrize("damage", ["{not json", "[1, 2]", '{"checkers": 3, "accepted": "x"}'])
def test_a_damaged_record_costs_a_check_not_an_error(damage: str) -> None:
    path = paths.checked_schemas_path()
    path.parent.mkdir(parents=True)
    path.write_text(damage, encoding="utf-8")
    assert not checked_schemas.accepted(checked_schemas.schema_key(VALID))
    check_schema(VALID)
    assert _remembered() == [checked_schemas.schema_key(VALID)]
    with pytest.raises(ConstraintError):
        check_schema(INVALID)


def test_the_record_keeps_the_most_recent_schemas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checked_schemas, "LIMIT", 3)
    schemas = [{"type": "object", "title": f"s{i}"} for i in range(5)]
    for schema in schemas:
        check_schema(schema)
    assert _remembered() == [checked_schemas.schema_key(s) for s in schemas[2:]]
