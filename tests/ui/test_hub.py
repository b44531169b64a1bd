from __future__ import annotations

import time

import pytest
from pytestqt.qtbot import QtBot

from tests.integration.test_load_settings import engine_settings, expected
from tests.ui.conftest import StallProbe
from ui.context import AppContext


@pytest.mark.model
def test_loading_the_default_model_keeps_the_window_responsive(
    qtbot: QtBot, context: AppContext, stall_probe: StallProbe
) -> None:
    hub = context.hub
    assert hub.current.endswith(".gguf")
    states: list[str] = []
    hub.state_changed.connect(lambda model, state: states.append(state))
    stall_probe.start()
    started = time.perf_counter()
    with qtbot.waitSignal(hub.loaded, timeout=60000) as blocker:
        hub.load(hub.current)
    loading_s = time.perf_counter() - started
    worst = stall_probe.stop()
    # The baseline: as long again with nothing to do. A busy machine stalls every program now
    # and then; only what loading adds to that counts.
    stall_probe.start()
    qtbot.wait(max(500, int(loading_s * 1000)))
    idle = stall_probe.stop()
    print(f"longest event-loop stall while loading: {worst:.1f} ms (idle: {idle:.1f} ms)")
    assert blocker.args[0] == hub.current
    assert blocker.args[1].info.architecture == "llama"
    # The window's settings path (hub, options per model) hands the test run's load settings
    # to the worker like every other load (tests/load_variants.py).
    assert engine_settings(blocker.args[1].engine) == expected()
    assert hub.state(hub.current) == "ready"
    assert states[0] == "loading"
    assert worst <= 50.0 + idle


def test_a_bad_model_file_is_reported_not_raised(
    qtbot: QtBot, context: AppContext, tmp_path
) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"<html>not a model</html>")
    with qtbot.waitSignal(context.hub.failed, timeout=10000) as blocker:
        context.hub.load(str(bad))
    assert blocker.args[0] == str(bad)
    assert "GGUF" in blocker.args[1] or "gguf" in blocker.args[1]
