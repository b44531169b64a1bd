"""The app's own JSON files are replaced whole: a failed write leaves the old file as it was and
no temporary file behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground.files import write_json


def test_a_write_creates_folders_and_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.json"
    write_json(path, {"b": 1, "a": [1, 2]}, sort_keys=True)
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": [1, 2], "b": 1}
    assert path.read_text(encoding="utf-8").index('"a"') < path.read_text().index('"b"')
    write_json(path, {"c": 3})
    assert json.loads(path.read_text(encoding="utf-8")) == {"c": 3}
    assert [p.name for p in path.parent.iterdir()] == ["cache.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.json"
    write_json(path, {"endpoints": []})
    with pytest.raises(TypeError):
        write_json(path, {"endpoints": [object()]})  # not JSON: fails halfway through
    assert json.loads(path.read_text(encoding="utf-8")) == {"endpoints": []}
    assert [p.name for p in tmp_path.iterdir()] == ["endpoints.json"]
