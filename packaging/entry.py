"""Entry point of the frozen app.

The model runs in a ``multiprocessing`` spawn child. In a frozen app that child is this same
executable started again, and ``freeze_support()`` is what turns it into the worker instead of a
second copy of the app. It runs before the app is imported so that a worker does not pay for
importing Qt.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from ui.launcher import main

    sys.exit(main())
