"""``playground models`` lists the models other tools downloaded, named and labelled as the
window lists them, and leaves them out when asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground.cli import main
from playground.engine import models
from playground.engine.discovery import FOREIGN_SOURCES
from tests.other_tools import EXPECTED, build_home, look_in


@pytest.fixture(autouse=True)
def other_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = models.default_model_path()
    assert gguf is not None
    look_in(monkeypatch, build_home("linux", tmp_path, gguf))


def listed(capsys: pytest.CaptureFixture[str], *flags: str) -> list[dict[str, object]]:
    assert main(["models", "--json", *flags]) == 0
    rows: list[dict[str, object]] = json.loads(capsys.readouterr().out)["models"]
    return rows


def test_models_lists_other_tools_models_with_their_source(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = listed(capsys)
    assert [(r["name"], r["source"]) for r in rows[1:]] == EXPECTED
    assert rows[0]["source"] == "bundled"
    assert {r["source_label"] for r in rows} == {
        "bundled", "Hugging Face cache", "LM Studio", "Ollama", "GPT4All", "Jan"}
    # Each is the other tool's own file, read in place: a real model, header read.
    assert all(r["error"] is None and r["architecture"] == "llama" for r in rows)

    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "llama3.2:3b  [Ollama]" in text
    assert "sha256-" not in text.split("llama3.2:3b", 1)[1].split("\n", 1)[0]


def test_models_skips_a_source_or_every_other_tool(capsys: pytest.CaptureFixture[str]) -> None:
    rows = listed(capsys, "--skip", "ollama", "--skip", "huggingface")
    assert [r["source"] for r in rows[1:]] == ["lmstudio", "lmstudio", "gpt4all", "jan", "jan"]
    assert [r["source"] for r in listed(capsys, "--no-discover")] == ["bundled"]


def test_an_unknown_source_is_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["models", "--skip", "docker"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'docker'" in err
    assert all(f"'{source}'" in err for source in FOREIGN_SOURCES)
