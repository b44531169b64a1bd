"""A comparison's judges in History, by clicks at 1366×768: a comparison selected shows that it
was not judged; "Judge…" opens the judge dialog there (Compare never opened); the judge is
listed under the comparison with what it found; Re-run runs it again as a new judge whose
scores replace the old ones; Delete judge… gives the scores back to the judge left."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from playground.storage.store import Store
from tests.fakes import FakeEngine, Script
from tests.ui.actions import click, click_cell, history_row, type_over
from tests.ui.hand_made import save_answers
from ui.main_window import MainWindow

#: The judge's first token and its alternatives: 70 % on 4, 20 % on 3.
FOURISH = (("4", 0.6), (" 4", 0.1), ("3", 0.2), (" the", 0.05))
#: 80 % on 2, 20 % on 1: expected 1.8.
TWOISH = (("2", 0.8), ("1", 0.2))


@pytest.fixture
def stored(isolated_profile: Path) -> int:
    return save_answers(isolated_profile / "history.db")


def _scores(window: MainWindow, cid: int, metric: str) -> set[float | None]:
    with Store(window.context.db_path) as store:
        found = [run.score(metric) for run in store.runs(cid)]
    return {None if s is None or s.value is None else round(s.value, 6) for s in found}


def test_history_lists_a_comparisons_judges_and_reruns_and_deletes_them(
    qtbot: QtBot, stored: int, window: MainWindow, fake_engine: FakeEngine
) -> None:
    window.resize(1366, 768)
    history = window.history
    judges = history.judges
    row = history_row(qtbot, window, stored)
    with qtbot.waitSignal(judges.loaded, timeout=10000):
        click_cell(qtbot, history.table, history.model.index(row, 1))
    assert judges.status_label.text() == "not judged yet"
    assert not judges.judges_list.isVisible()
    assert not judges.rerun_button.isEnabled() and not judges.delete_button.isEnabled()

    # Judge… from History: the dialog of the selected comparison, Compare never shown.
    fake_engine.script(Script(text="4", first_top=FOURISH))
    click(qtbot, judges.judge_button)
    dialog = judges.dialog
    assert dialog is not None and dialog.comparison_id == stored
    qtbot.waitUntil(dialog.isVisible)
    type_over(qtbot, dialog.criteria_edit, "relevance, coherence")
    with qtbot.waitSignal(judges.loaded, timeout=30000):
        click(qtbot, dialog.judge_button)
    qtbot.waitUntil(lambda: not dialog.running, timeout=10000)
    click(qtbot, dialog.close_button)
    assert window.tabs.currentWidget() is history
    qtbot.waitUntil(lambda: judges.judges_list.count() == 1, timeout=10000)
    line = judges.judges_list.item(0).text()
    assert line.startswith("Judged by ") and " on relevance, coherence · today " in line
    assert line.endswith(" · 12 scored, 0 N/A")  # six outputs on two criteria
    assert judges.judges_list.isVisible() and judges.status_label.text() == "1 judge"
    first_value = round((4 * 0.7 + 3 * 0.2) / 0.9, 6)
    assert _scores(window, stored, "judge:coherence") == {first_value}
    # The runs below show the judge's scores once History has read them again.
    qtbot.waitUntil(lambda: "judge" in history.run_label.text(), timeout=10000)

    # Re-run: a new judge from the stored spec; its scores replace the old ones.
    fake_engine.script(Script(text="2", first_top=TWOISH))
    click_cell(qtbot, judges.judges_list, judges.judges_list.model().index(0, 0))
    click(qtbot, judges.rerun_button)
    qtbot.waitUntil(lambda: judges.judges_list.count() == 2, timeout=30000)
    assert judges.status_label.text() == (
        "2 judges · Re-run done: 12 judge runs (12 outputs scored, 0 N/A)")
    newest, older = (judges.judges_list.item(n).text() for n in range(2))
    assert newest.endswith(" · 12 scored, 0 N/A")
    assert older.endswith(" · replaced by a newer judge")
    assert _scores(window, stored, "judge:coherence") == {1.8}
    with Store(window.context.db_path) as store:
        old, new = store.judges(stored)
        old_runs, new_runs = store.runs(old.id), store.runs(new.id)
    assert len(new_runs) == 12 and all(r.record is not None for r in new_runs)
    assert not {r.id for r in old_runs} & {r.id for r in new_runs}

    # Delete the newer judge: the older one's scores come back.
    asked: list[str] = []

    def confirm(text: str) -> bool:  # the person reads the question and says yes
        asked.append(text)
        return True

    judges.confirm = confirm
    click_cell(qtbot, judges.judges_list, judges.judges_list.model().index(0, 0))
    click(qtbot, judges.delete_button)
    qtbot.waitUntil(lambda: judges.judges_list.count() == 1, timeout=10000)
    assert asked and "Its scores give way to the comparison's other judges" in asked[0]
    assert not judges.judges_list.item(0).text().endswith("replaced by a newer judge")
    assert _scores(window, stored, "judge:coherence") == {first_value}
