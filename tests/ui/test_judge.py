"""Judging a stored comparison from Compare, by clicks at 1366×768: "Judge…", a criterion
typed, "Judge"; the scripted judge answers "4" with known alternatives, and the expected score
the core reads from them appears in every column, the grid and the score table."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from playground.evaluation.scales import format_value
from playground.storage.store import Store
from tests.fakes import FakeEngine, Script
from tests.ui.actions import click, open_comparison_from_history, type_over
from tests.ui.hand_made import save_answers
from ui.main_window import MainWindow

#: The judge's first token and its alternatives: 70 % on 4 (as "4" and " 4"), 20 % on 3.
JUDGE_TOP = (("4", 0.6), (" 4", 0.1), ("3", 0.2), (" the", 0.05))
EXPECTED = (4 * 0.7 + 3 * 0.2) / 0.9


@pytest.fixture
def stored(isolated_profile: Path) -> int:
    return save_answers(isolated_profile / "history.db")


def test_judge_action_scores_every_output_and_shows_judge_columns(
    qtbot: QtBot, stored: int, window: MainWindow, fake_engine: FakeEngine
) -> None:
    fake_engine.script(Script(text="4", first_top=JUDGE_TOP))
    window.resize(1366, 768)
    compare = window.compare
    open_comparison_from_history(qtbot, window, stored)

    click(qtbot, compare.judge_button)
    dialog = compare.judge_button.dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.template_combo.currentText().startswith("Judge (rubric")
    type_over(qtbot, dialog.criteria_edit, "coherence")
    with qtbot.waitSignal(compare.comparison_opened, timeout=30000):
        click(qtbot, dialog.judge_button)
    qtbot.waitUntil(lambda: not dialog.running, timeout=10000)
    assert dialog.status_label.text().startswith("Done: 6 judge runs (6 outputs scored, 0 N/A)")
    assert dialog.progress.value() == dialog.progress.maximum() == 6

    shown = format_value("judge:coherence", EXPECTED)
    for column in compare.columns:
        label = column.scores.labels["judge:coherence"]
        assert shown in label.text()  # both columns tie: the same score everywhere
    assert "judge:coherence" in compare.grid.model.metrics
    headers = [str(compare.score_model.headerData(c, Qt.Orientation.Horizontal))
               for c in range(compare.score_model.columnCount())]
    assert any("judge: coherence" in h.replace("\n", " ") for h in headers)
    with Store(window.context.db_path) as store:
        (judge,) = store.judges(stored)
        assert judge.status == "done" and len(store.runs(judge.id)) == 6
    click(qtbot, dialog.close_button)
    qtbot.waitUntil(lambda: not dialog.isVisible())



def test_evaluate_results_show_the_judge_beside_the_people(
    qtbot: QtBot, stored: int, window: MainWindow, fake_engine: FakeEngine
) -> None:
    """A judge's rubric scores saved on the comparison: Evaluate's results say what it found."""
    from playground.scores import Score

    with Store(window.context.db_path) as store:
        store.set_scores({run.id: [Score("judge:fluency", 4.0, "judge:fluency|model:M|"
                                         "template:judge-rubric@x|run:1|source:logprobs|"
                                         "scale:1-5")] for run in store.runs(stored)})
    from tests.ui.actions import choose, click_page, click_tab

    window.resize(1366, 768)
    click_tab(qtbot, window, window.evaluate)
    evaluate = window.evaluate
    qtbot.waitUntil(lambda: evaluate.picker.count() >= 1, timeout=10000)
    with qtbot.waitSignal(evaluate.loaded, timeout=10000):
        choose(qtbot, evaluate.picker, evaluate.picker.itemText(evaluate.picker.count() - 1))
    click_page(qtbot, evaluate.modes, "Results")
    label = evaluate.results_panel.judge_label
    qtbot.waitUntil(label.isVisible, timeout=10000)
    assert "6 of 6 outputs scored, 0 N/A" in label.text()
