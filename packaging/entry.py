"""Entry point of the frozen app.

The model runs in a ``multiprocessing`` spawn child. In a frozen app that child is this same
executable started again, and ``freeze_support()`` is what turns it into the worker instead of a
second copy of the CLI. It runs before the CLI is imported so that a worker does not pay for
importing it.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from playground.cli import main

    sys.exit(main())
