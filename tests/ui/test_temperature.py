"""The temperature slider goes 0–2, as users know it; "allow higher" extends it to 5, and a run
stored with a higher temperature reopens with it shown as it was, saying why the range grew."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QLineEdit, QScrollArea, QWidget
from pytestqt.qtbot import QtBot

from playground.runs.single_run import SingleRun
from playground.sampling import SamplingParams
from tests.ui.actions import double_click_history_row, history_row
from tests.ui.hand_made import save_greeting_run
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.views.playground.params_panel import ParamsPanel


def _into_view(qtbot: QtBot, widget: QWidget) -> None:
    """Scroll the settings to the widget, as a person does with the wheel, and check it can
    be clicked."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    if parent is not None:
        parent.ensureWidgetVisible(widget)
    qtbot.waitUntil(lambda: widget.isVisible() and widget.isEnabled())
    assert widget.width() >= 16 and widget.height() >= 16


def _type_temperature(qtbot: QtBot, panel: ParamsPanel, text: str) -> None:
    """Type into the number box beside the slider and press Enter."""
    box = panel.temperature._label
    assert isinstance(box, QLineEdit)
    _into_view(qtbot, box)
    QTest.mouseClick(box, Qt.MouseButton.LeftButton)
    QTest.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(box, text)
    QTest.keyClick(box, Qt.Key.Key_Return)


def _click_box(qtbot: QtBot, box: QCheckBox) -> None:
    """Click the check box's square (its label may end well before the widget does)."""
    _into_view(qtbot, box)
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def test_the_slider_stops_at_2_unless_higher_is_allowed(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.resize(1366, 768)
    panel = window.playground.params
    assert panel.temperature.maximum() == 2.0
    assert not panel.allow_high.isChecked()
    _type_temperature(qtbot, panel, "3.5")
    assert panel.params().temperature <= 2.0  # the box takes nothing above the slider's top

    _click_box(qtbot, panel.allow_high)
    assert panel.allow_high.isChecked() and panel.temperature.maximum() == 5.0
    _type_temperature(qtbot, panel, "3.5")
    assert panel.params().temperature == 3.5

    # Turning it off brings the temperature back within 0–2.
    _click_box(qtbot, panel.allow_high)
    assert panel.temperature.maximum() == 2.0
    assert panel.params().temperature == 2.0


def test_a_run_stored_above_2_reopens_with_its_temperature(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    params = SamplingParams(temperature=3.5, max_tokens=8)
    setup = SingleRun("greeting", "Say hello to {{ who }}.", str(tmp_path / "any.gguf"), params,
                      {"who": "Ada"})
    model = {"name": "any", "path": str(tmp_path / "any.gguf")}
    comparison_id = save_greeting_run(context.db_path, setup, model)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    panel = window.playground.params
    assert not panel.allow_high.isChecked()
    row = history_row(qtbot, window, comparison_id)
    double_click_history_row(qtbot, window, row)
    qtbot.waitUntil(lambda: window.playground.output.toPlainText() == "Hello, Ada.",
                    timeout=10000)
    assert panel.params().temperature == 3.5
    assert panel.allow_high.isChecked() and panel.temperature.maximum() == 5.0
    assert panel.note.isVisible()
    assert "3.5 is above the usual 0–2" in panel.note.text()
    window.close()
