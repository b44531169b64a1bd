"""The ``playground`` command: the window when started without a command, the CLI otherwise.

The core's CLI cannot open the window itself (the core never imports Qt), so this small
dispatcher is the console entry point.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--self-test"]:
        from ui.selftest import main as self_test

        return int(self_test())
    if not args:
        from ui.app import main as gui

        return int(gui())
    from playground.cli import main as cli

    return int(cli(args))
