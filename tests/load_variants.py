"""Model loads under the numerics of another machine, for `make test-variants`.

A thread count, flash attention and the batch size each change the last bits of the logits the
way another CPU does. ``PLAYGROUND_TEST_THREADS``, ``PLAYGROUND_TEST_FLASH_ATTN`` and
``PLAYGROUND_TEST_BATCH`` become the defaults of :class:`playground.engine.options.LoadOptions`,
the one place every model load in the app takes its settings from, so every load a test makes
without choosing these settings itself gets them: integration fixtures, the window's model hub,
the CLI.
The pytest process applies them from ``tests/conftest.py``; every Python process a test starts
(the CLI, the window's self-test, a server) applies them through ``load_variants_site`` on
``PYTHONPATH``. A test that needs a setting of its own (a tiny batch for a slow prefill) still
passes it explicitly and keeps it.

Only the standard library at module level: the site hook imports this file by path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

#: Environment variable -> LoadOptions field.
VARIABLES = {
    "PLAYGROUND_TEST_THREADS": "n_threads",
    "PLAYGROUND_TEST_FLASH_ATTN": "flash_attn",
    "PLAYGROUND_TEST_BATCH": "n_batch",
}
#: The folder whose ``sitecustomize`` applies the variables in child Python processes.
SITE_DIR = Path(__file__).resolve().with_name("load_variants_site")

_TRUE = {"1", "true", "on", "yes"}
_FALSE = {"0", "false", "off", "no"}


def requested(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """The LoadOptions fields the environment sets, parsed; a bad value is an error."""
    env = os.environ if environ is None else environ
    out: dict[str, Any] = {}
    for variable, name in VARIABLES.items():
        raw = env.get(variable, "").strip()
        if not raw:
            continue
        if name == "flash_attn":
            if raw.lower() not in _TRUE | _FALSE:
                raise ValueError(f"{variable} must be 0 or 1, got {raw!r}")
            out[name] = raw.lower() in _TRUE
        else:
            try:
                out[name] = int(raw)
            except ValueError:
                raise ValueError(f"{variable} must be a whole number, got {raw!r}") from None
    return out


def apply(settings: dict[str, Any]) -> None:
    """Make ``settings`` the defaults of LoadOptions in this process."""
    import dataclasses

    from playground.engine.options import LoadOptions

    init = LoadOptions.__init__
    names = [f.name for f in dataclasses.fields(LoadOptions) if f.init and not f.kw_only]
    defaults = list(init.__defaults__ or ())
    positional = names[len(names) - len(defaults):]
    kw_defaults = dict(init.__kwdefaults__ or {})
    for name, value in settings.items():
        if name in positional:
            defaults[positional.index(name)] = value
        elif name in kw_defaults:
            kw_defaults[name] = value
        else:
            raise RuntimeError(f"LoadOptions has no default for {name}")
    init.__defaults__ = tuple(defaults)
    if kw_defaults:
        init.__kwdefaults__ = kw_defaults
    made = LoadOptions()
    wrong = {k: getattr(made, k) for k, v in settings.items() if getattr(made, k) != v}
    if wrong:
        raise RuntimeError(f"LoadOptions() did not take the test settings: {wrong}")


def describe(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(settings.items())) or "defaults"
