"""The ``playground`` command: the same core functions the GUI uses, from a terminal.

Each command's handler lives with the others of its kind (generate, templates, compare,
history, endpoints); the parser knows every command and flag, and :func:`main` runs one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from playground.cli.compare import cmd_compare, cmd_score
from playground.cli.endpoints import cmd_endpoints
from playground.cli.generate import (
    cmd_demo,
    cmd_generate,
    cmd_models,
    gpu_offload_supported,
    self_test,
)
from playground.cli.history import (
    cmd_history,
    cmd_judgements_export,
    cmd_replay,
    cmd_show_or_export,
)
from playground.cli.hub import cmd_models_hub
from playground.cli.parser import build_parser
from playground.cli.templates import (
    cmd_library,
    cmd_templates_list,
    cmd_templates_render,
    cmd_templates_show,
)
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


#: Each command's handler, by its name on the command line (templates by its sub-command).
COMMANDS: dict[str, Command] = {
    "generate": cmd_generate,
    "models": lambda args, out, err: cmd_models(args, out),
    "models hub": cmd_models_hub,
    "templates list": cmd_templates_list,
    "templates show": cmd_templates_show,
    "templates render": cmd_templates_render,
    "library": cmd_library,
    "score": lambda args, out, err: cmd_score(args, out),
    "endpoints": lambda args, out, err: cmd_endpoints(args, out),
    "compare": cmd_compare,
    "history": cmd_history,
    "show": cmd_show_or_export,
    "export": cmd_show_or_export,
    "replay": cmd_replay,
    "judgements": cmd_judgements_export,
    "demo": cmd_demo,
}


def _run(
    parser: argparse.ArgumentParser, args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    name = args.command
    try:
        if args.self_test:
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
