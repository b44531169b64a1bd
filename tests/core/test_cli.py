"""The command line: flags map onto the core settings, and bad input fails before any model
is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground import __version__, cli
from playground.cli import _load_options, _request, _sampling, build_parser, main
from playground.engine import models
from playground.engine.models import DEFAULT_MODEL_FILE
from playground.engine.worker import LoadOptions
from playground.events import ChatMessage
from playground.sampling import SamplingParams


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the bundled model is visible, and starting a model backend fails the test."""
    monkeypatch.delenv("PLAYGROUND_MODELS", raising=False)
    monkeypatch.setattr(models, "user_models_dir", lambda: tmp_path / "no-user-models")

    def no_backend(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the CLI started a model backend")

    monkeypatch.setattr(cli, "LocalBackend", no_backend)


# -- parsing ------------------------------------------------------------------------------------


def test_every_sampling_flag_maps_onto_params() -> None:
    """Each flag reaches the setting of the same name, none is dropped or swapped."""
    args = build_parser().parse_args(
        [
            "generate",
            "--temperature", "0.3",
            "--top-k", "12",
            "--top-p", "0.5",
            "--min-p", "0.1",
            "--repeat-penalty", "1.2",
            "--presence-penalty", "0.4",
            "--frequency-penalty", "-0.3",
            "--max-tokens", "33",
            "--seed", "99",
            "--stop", "END",
            "--stop", "\n\n",
            "Tell me a story",
        ]
    )  # fmt: skip
    assert args.command == "generate"
    assert args.prompt == "Tell me a story"
    assert _sampling(args) == SamplingParams(
        temperature=0.3,
        top_k=12,
        top_p=0.5,
        min_p=0.1,
        repeat_penalty=1.2,
        presence_penalty=0.4,
        frequency_penalty=-0.3,
        max_tokens=33,
        seed=99,
        stop=("END", "\n\n"),
    )


def test_short_flags() -> None:
    """``-t`` and ``-n`` are the temperature and max-tokens shorthands."""
    args = build_parser().parse_args(["generate", "-t", "0", "-n", "5", "x"])
    params = _sampling(args)
    assert params.temperature == 0
    assert params.greedy
    assert params.max_tokens == 5


def test_no_flags_gives_default_params() -> None:
    """The CLI defaults are the library defaults, with no fixed seed."""
    args = build_parser().parse_args(["generate", "x"])
    assert _sampling(args) == SamplingParams()
    assert _load_options(args) == LoadOptions(n_ctx=4096, n_threads=None, n_gpu_layers=0)


def test_load_flags_map_onto_load_options() -> None:
    """Model-loading flags reach LoadOptions."""
    args = build_parser().parse_args(
        ["generate", "--n-ctx", "0", "--threads", "3", "--gpu-layers", "-1", "--batch", "64", "x"]
    )
    assert _load_options(args) == LoadOptions(n_ctx=0, n_threads=3, n_gpu_layers=-1, n_batch=64)


def test_system_flag_makes_a_chat_request() -> None:
    """``--system`` implies chat mode with the system message first."""
    args = build_parser().parse_args(["generate", "--system", "Be brief.", "--logprobs", "3", "Hi"])
    request = _request(args, args.prompt)
    assert request.messages == (ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"))
    assert request.prompt is None
    assert request.logprobs == 3


def test_plain_prompt_and_chat_flag() -> None:
    """Without ``--chat`` the prompt is raw text; with it, one user message."""
    parser = build_parser()
    raw = _request(parser.parse_args(["generate", "Hi"]), "Hi")
    assert raw.prompt == "Hi"
    assert raw.messages is None
    chat = _request(parser.parse_args(["generate", "--chat", "Hi"]), "Hi")
    assert chat.messages == (ChatMessage("user", "Hi"),)


# -- failing before any model is loaded ----------------------------------------------------------


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


def test_wrong_flag_type_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse rejects non-numbers itself, with its usual exit status 2."""
    with pytest.raises(SystemExit) as info:
        main(["generate", "--top-k", "many", "x"])
    assert info.value.code == 2
    assert "invalid int value: 'many'" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``--version`` prints the package version and exits successfully."""
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"playground {__version__}\n"


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


def test_opening_an_older_database_says_it_was_upgraded_and_where_the_copy_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlite_utils import Database

    from playground.storage.migrations import migrations

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m005_reproducibility_record")
    old.close()
    assert main(["history", "--db", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"playground: {path} was upgraded to this version's format" in err
    assert f"{path.name}.bak-v4" in err
    # Opened again: nothing to upgrade, nothing said.
    assert main(["history", "--db", str(path)]) == 0
    assert capsys.readouterr().err == ""
