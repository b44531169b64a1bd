"""Prompt Playground core: models, generation, templates, scoring and storage, without Qt."""

__version__ = "0.1.0"

import logging

# A library leaves logging to its application: without a handler of the app's own, nothing the
# core logs is printed (the CLI says what matters itself; the window installs its own handler).
logging.getLogger("playground").addHandler(logging.NullHandler())
