"""Where in a template file an error points, so the editor can mark the line."""

from __future__ import annotations

import re

from playground.prompts.templates import HEADER_PATTERN

_LINE = re.compile(r"\bline (\d+)\b")


def error_line(message: str, source: str) -> int | None:
    """The line of the template file (1-based) a template error names, if any. Errors in the
    metadata header count lines from the start of its YAML, so they are moved down to where the
    YAML starts in the file."""
    match = _LINE.search(message)
    if match is None:
        return None
    line = int(match.group(1))
    if "metadata header" in message:
        header = HEADER_PATTERN.match(source)
        if header is not None:
            line += source[: header.start("yaml")].count("\n")
    return line
