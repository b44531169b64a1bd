"""The command line's flags map onto the core settings; argparse's own errors and --version."""

from __future__ import annotations

import pytest

from playground import __version__
from playground.cli import main
from playground.cli.parser import build_parser, generation_request, load_options, sampling_params
from playground.engine.options import LoadOptions
from playground.events import ChatMessage
from playground.sampling import SamplingParams


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
    assert sampling_params(args) == SamplingParams(
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
    params = sampling_params(args)
    assert params.temperature == 0
    assert params.greedy
    assert params.max_tokens == 5


def test_no_flags_gives_default_params() -> None:
    """The CLI defaults are the library defaults, with no fixed seed."""
    args = build_parser().parse_args(["generate", "x"])
    assert sampling_params(args) == SamplingParams()
    assert load_options(args) == LoadOptions(n_ctx=4096, n_threads=None, n_gpu_layers=0)


def test_load_flags_map_onto_load_options() -> None:
    """Model-loading flags reach LoadOptions."""
    args = build_parser().parse_args(
        ["generate", "--n-ctx", "0", "--threads", "3", "--gpu-layers", "-1", "--batch", "64", "x"]
    )
    assert load_options(args) == LoadOptions(n_ctx=0, n_threads=3, n_gpu_layers=-1, n_batch=64)


def test_system_flag_makes_a_chat_request() -> None:
    """``--system`` implies chat mode with the system message first."""
    args = build_parser().parse_args(["generate", "--system", "Be brief.", "--logprobs", "3", "Hi"])
    request = generation_request(args, args.prompt)
    assert request.messages == (ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"))
    assert request.prompt is None
    assert request.logprobs == 3


def test_plain_prompt_and_chat_flag() -> None:
    """Without ``--chat`` the prompt is raw text; with it, one user message."""
    parser = build_parser()
    raw = generation_request(parser.parse_args(["generate", "Hi"]), "Hi")
    assert raw.prompt == "Hi"
    assert raw.messages is None
    chat = generation_request(parser.parse_args(["generate", "--chat", "Hi"]), "Hi")
    assert chat.messages == (ChatMessage("user", "Hi"),)


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
