"""The model-load settings of the test run reach every model the tests load.

`make test-variants` sets PLAYGROUND_TEST_THREADS, PLAYGROUND_TEST_FLASH_ATTN and
PLAYGROUND_TEST_BATCH to compute the way another machine would (tests/load_variants.py). A load
that missed them would pass both runs with the same numbers and prove nothing, so each way the
tests load a model is checked against what the worker reports llama.cpp was given. Without the
variables the app's own defaults are expected.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest

from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions, default_threads
from playground.runs.runner import BackendPool
from tests.integration.llama_server import server_load_args

pytestmark = pytest.mark.model


def expected() -> dict[str, Any]:
    """Read from the environment here, apart from the code that applies the variables."""
    defaults = {f.name: f.default for f in dataclasses.fields(LoadOptions)}
    threads = os.environ.get("PLAYGROUND_TEST_THREADS", "").strip()
    flash = os.environ.get("PLAYGROUND_TEST_FLASH_ATTN", "").strip()
    batch = os.environ.get("PLAYGROUND_TEST_BATCH", "").strip()
    return {
        "n_threads": int(threads) if threads else default_threads(),
        "flash_attn": flash.lower() in ("1", "true", "on", "yes") if flash
        else defaults["flash_attn"],
        "n_batch": int(batch) if batch else defaults["n_batch"],
    }


def engine_settings(engine: Mapping[str, Any]) -> dict[str, Any]:
    return {k: engine.get(k) for k in ("n_threads", "flash_attn", "n_batch")}


def test_the_shared_integration_model_has_them(backend: LocalBackend) -> None:
    assert backend.loaded is not None
    assert engine_settings(backend.loaded.engine) == expected()
    assert backend.loaded.engine["n_threads_batch"] == expected()["n_threads"]


def test_a_comparison_pool_loads_with_them() -> None:
    pool = BackendPool(LoadOptions(n_ctx=512))
    try:
        backend = pool.get("")
        assert isinstance(backend, LocalBackend)
        loaded = backend.start()
    finally:
        pool.close()
    assert engine_settings(loaded.engine) == expected()


def test_the_command_line_in_its_own_process_loads_with_them() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "playground", "generate", "--json", "-t", "0", "-n", "1",
         "--n-ctx", "512", "Hello"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)["record"]
    assert engine_settings(record) == expected()


def test_the_remote_test_server_is_started_with_them() -> None:
    args = server_load_args()
    given = dict(zip(args[::2], args[1::2], strict=True))
    want = expected()
    assert given["--n_threads"] == given["--n_threads_batch"] == str(want["n_threads"])
    assert given["--n_batch"] == str(want["n_batch"])
    assert given["--flash_attn"] == str(want["flash_attn"]).lower()
