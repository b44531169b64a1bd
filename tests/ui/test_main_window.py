from __future__ import annotations

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests.fakes import FakeEngine, Script
from ui.context import AppContext
from ui.main_window import MainWindow


def test_window_has_a_tab_per_area(window: MainWindow) -> None:
    titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
    assert titles == ["Playground", "Compare", "History", "Models", "Library", "Evaluate"]


def test_layout_and_tab_survive_a_restart(qtbot: QtBot, settings: QSettings) -> None:
    first = MainWindow(AppContext(settings))
    qtbot.addWidget(first)
    first.resize(760, 540)
    first.tabs.setCurrentIndex(3)
    first.close()

    second = MainWindow(AppContext(settings))
    qtbot.addWidget(second)
    assert second.tabs.currentIndex() == 3
    assert (second.width(), second.height()) == (760, 540)
    second.close()


def test_core_errors_appear_as_messages(window: MainWindow) -> None:
    window.context.error.emit("Could not load", "bad.gguf: not a GGUF file")
    assert window.last_error == ("Could not load", "bad.gguf: not a GGUF file")
    assert "not a GGUF file" in window.statusBar().currentMessage()


def test_the_edit_menu_acts_on_the_focused_text_field(qtbot: QtBot, window: MainWindow) -> None:
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    actions = {a.text().replace("&", ""): a for a in edit_menu.actions() if a.text()}
    assert {"Undo", "Redo", "Cut", "Copy", "Paste", "Select All"} <= set(actions)
    field = window.history.search_edit
    window.tabs.setCurrentWidget(window.history)
    window.activateWindow()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    field.setText("zeppelin")
    actions["Select All"].trigger()
    assert field.selectedText() == "zeppelin"
    actions["Cut"].trigger()
    assert field.text() == ""
    actions["Undo"].trigger()
    assert field.text() == "zeppelin"


def test_quitting_during_a_long_run_stops_it_at_once(
    qtbot: QtBot, window: MainWindow, fake_engine: FakeEngine
) -> None:
    from PySide6.QtCore import QThreadPool

    from playground.engine.options import LoadOptions
    from playground.sampling import SamplingParams
    from playground.storage.store import Store

    fake_engine.script(Script(length=None, token_delay_s=0.01))  # 3,000 tokens: 30 s
    hub = window.context.hub
    hub.set_options(hub.current, LoadOptions(n_ctx=4096))
    view = window.playground
    assert view.select_template("Built-in", "explain-zero-shot")
    view.variables.set_values({"concept": "recursion"})
    view.params.set_params(SamplingParams(temperature=0.8, max_tokens=3000, stop=(), seed=5))
    view.run()
    qtbot.waitUntil(lambda: view.output.toPlainText() != "", timeout=60000)  # it is streaming

    window.close()
    # The run in flight was cancelled at its next token, not left to reach 3,000 tokens while
    # the window waited for it.
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert hub.state(hub.current) == "unloaded"
    with Store(window.context.db_path) as store:
        assert store.history() == [] or all(c.status == "cancelled" for c in store.history())
