"""The ``playground`` command: the same core functions the GUI uses, from a terminal.

Each command's handler lives with the others of its kind (generate, templates, compare,
history, endpoints); the parser knows every command and flag, and :func:`main` runs one.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from playground.cli.parser import build_parser
from playground.errors import PlaygroundError
from playground.terminal import escaping, for_terminal

__all__ = ["COMMANDS", "build_parser", "gpu_offload_supported", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Every message is escaped; model output and reports only on a terminal, so piped output
    # stays byte-exact (see playground.terminal).
    out, err = for_terminal(sys.stdout), escaping(sys.stderr)
    try:
        return _run(parser, args, out, err)
    finally:
        for stream in (out, err):
            if stream is not sys.stdout:
                stream.close()  # writes a carriage return still held back; sys's stay open


Command = Callable[[argparse.Namespace, TextIO, TextIO], int]


def _handler(module: str, name: str, streams: int = 2) -> Command:
    """A command's handler, imported from ``playground.cli.<module>`` when the command runs.

    A command that loads no model must start at once; importing every handler module up front
    would bring in the store, the scorers, the Hugging Face client and numpy for all of them.
    ``streams``: 1 for a handler that takes (args, out), 2 for (args, out, err).
    """

    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        function = getattr(importlib.import_module(f"playground.cli.{module}"), name)
        return int(function(args, out, err) if streams == 2 else function(args, out))

    return run


#: Each command's handler, by its name on the command line (templates by its sub-command).
COMMANDS: dict[str, Command] = {
    "generate": _handler("generate", "cmd_generate"),
    "models": _handler("generate", "cmd_models", streams=1),
    "models hub": _handler("hub", "cmd_models_hub"),
    "templates list": _handler("templates", "cmd_templates_list"),
    "templates show": _handler("templates", "cmd_templates_show"),
    "templates render": _handler("templates", "cmd_templates_render"),
    "library": _handler("templates", "cmd_library"),
    "score": _handler("score", "cmd_score", streams=1),
    "endpoints": _handler("endpoints", "cmd_endpoints", streams=1),
    "compare": _handler("compare", "cmd_compare"),
    "history": _handler("history", "cmd_history"),
    "show": _handler("history", "cmd_show_or_export"),
    "export": _handler("history", "cmd_show_or_export"),
    "replay": _handler("history", "cmd_replay"),
    "judgements": _handler("history", "cmd_judgements_export"),
    "judge": _handler("judge", "cmd_judge"),
    "demo": _handler("generate", "cmd_demo"),
}


def __getattr__(name: str) -> Any:
    """``gpu_offload_supported`` stays importable from here without importing it up front."""
    if name == "gpu_offload_supported":
        from playground.cli.generate import gpu_offload_supported

        return gpu_offload_supported
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _run(
    parser: argparse.ArgumentParser, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    name = args.command
    try:
        if args.self_test:
            from playground.cli.generate import self_test

            return self_test(out)
        if name is None:
            name, args = "demo", parser.parse_args(["demo"])
        elif name == "models" and args.models_command:
            name = "models hub"
        elif name == "templates":
            name = f"templates {args.templates_command or 'render'}"
        command = COMMANDS.get(name)
        if command is not None:
            return command(args, out, err)
    except PlaygroundError as exc:
        err.write(f"playground: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        err.write("\ninterrupted\n")
        return 130
    parser.print_help(err)
    return 2
