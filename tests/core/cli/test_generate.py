"""Generation commands fail before any model is loaded on bad input, and ``models`` lists what
the app can find from the files' headers alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground.cli import main
from playground.engine.models import DEFAULT_MODEL_FILE


def test_out_of_range_flag_reports_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad setting is a usage error, reported in one line without a traceback."""
    assert main(["generate", "--top-p", "2", "x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "playground: error: top_p must be between 0 and 1, got 2.0\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["generate", "--logprobs", "25", "x"], "logprobs must be between 0 and 20, got 25"),
        (["generate", "--n-ctx", "-5", "x"], "context size must be between 0 and 1048576, got -5"),
        (["generate", "--stop", "", "x"], "a stop sequence cannot be empty"),
        (["generate", "--seed", "-1", "x"], "seed must be between 0 and"),
    ],
)
def test_other_bad_settings_return_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every validated setting fails the same way."""
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"playground: error: {message}")


def test_missing_model_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    """The message names what the user typed and what is available."""
    assert main(["generate", "--model", "/nonexistent.gguf", "x"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "playground: error: no model file or known model named '/nonexistent.gguf' "
        f"(known: {Path(DEFAULT_MODEL_FILE).stem})\n"
    )


# -- models -------------------------------------------------------------------------------------


def test_models_json_lists_bundled(
    default_model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``models --json`` reads GGUF headers only and describes the bundled model."""
    assert main(["models", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data["gpu_offload_supported"], bool)
    [row] = data["models"]
    assert row["source"] == "bundled"
    assert row["error"] is None
    assert row["architecture"] == "llama"
    assert row["quant"] == "Q4_1"
    assert row["chat_template"] is True
    assert row["file_size"] == default_model_path.stat().st_size
    assert Path(row["path"]).resolve() == default_model_path.resolve()


def test_models_json_reports_unreadable_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken file in a models folder is listed with its error, not a crash."""
    broken = tmp_path / "env" / "broken.gguf"
    broken.parent.mkdir()
    broken.write_bytes(b"not a gguf file at all")
    monkeypatch.setenv("PLAYGROUND_MODELS", str(broken.parent))
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["models"]
    assert [r["source"] for r in rows] == ["bundled", "env"]
    assert rows[1]["name"] == "broken"
    assert rows[1]["error"]
