from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.conftest import StallProbe
from ui.context import AppContext


def test_loading_the_default_model_keeps_the_window_responsive(
    qtbot: QtBot, context: AppContext, stall_probe: StallProbe
) -> None:
    hub = context.hub
    assert hub.current.endswith(".gguf")
    states: list[str] = []
    hub.state_changed.connect(lambda model, state: states.append(state))
    stall_probe.start()
    with qtbot.waitSignal(hub.loaded, timeout=60000) as blocker:
        hub.load(hub.current)
    worst = stall_probe.stop()
    print(f"longest event-loop stall while loading: {worst:.1f} ms")
    assert blocker.args[0] == hub.current
    assert blocker.args[1].info.architecture == "llama"
    assert hub.state(hub.current) == "ready"
    assert states[0] == "loading"
    assert worst <= 50.0


def test_a_bad_model_file_is_reported_not_raised(
    qtbot: QtBot, context: AppContext, tmp_path
) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"<html>not a model</html>")
    with qtbot.waitSignal(context.hub.failed, timeout=10000) as blocker:
        context.hub.load(str(bad))
    assert blocker.args[0] == str(bad)
    assert "GGUF" in blocker.args[1] or "gguf" in blocker.args[1]
