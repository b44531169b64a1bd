"""The output-constraint flags of ``generate`` and ``compare``: ``--json-schema FILE``,
``--grammar FILE`` and ``--any-json`` (``generate --json`` already means "print one JSON
result"). The constraint itself is built and checked in the core."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from playground.errors import PlaygroundError
from playground.output_constraint import OutputConstraint, constraint_from_file

if TYPE_CHECKING:  # building comparisons reads libraries (Jinja, YAML): not for --help
    from playground.runs.build import FromTemplate


def add_constraint_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output format")
    group.add_argument("--json-schema", metavar="FILE",
                       help="constrain the output to this JSON Schema (local: grammar sampling; "
                            "a server: response_format json_schema)")
    group.add_argument("--grammar", metavar="FILE",
                       help="constrain the output to this GBNF grammar (local models and "
                            "llama.cpp servers)")
    group.add_argument("--any-json", action="store_true",
                       help="constrain the output to any JSON value")
    group.add_argument("--free-text", action="store_true",
                       help="no output constraint, even where a template's header sets one")


def constraint_from_args(args: argparse.Namespace) -> OutputConstraint | FromTemplate | None:
    """The constraint the flags ask for; FROM_TEMPLATE when none is given."""
    from playground.runs.build import FROM_TEMPLATE

    given = [flag for flag, value in (("--json-schema", args.json_schema),
                                      ("--grammar", args.grammar), ("--any-json", args.any_json),
                                      ("--free-text", args.free_text)) if value]
    if len(given) > 1:
        raise PlaygroundError(f"give one output format, not {' and '.join(given)}")
    if args.json_schema:
        return constraint_from_file("json_schema", Path(args.json_schema))
    if args.grammar:
        return constraint_from_file("grammar", Path(args.grammar))
    if args.any_json:
        return OutputConstraint("json")
    return None if args.free_text else FROM_TEMPLATE
