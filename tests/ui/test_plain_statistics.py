"""A finished comparison over five inputs, read as an analyst reads it at 1366×768: the winner
sentence says who scored highest, that five inputs cannot tell, and how many would; the method
is in its tooltip; a "too few inputs" note is shown; every column of the score table is
labelled and on screen. The runs are hand-made (no generation) and scored by the real scorer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QStackedWidget, QTabWidget, QWidget
from pytestqt.qtbot import QtBot

from playground.comparison import Input
from playground.evaluation.summary import method_note, too_few_inputs_note, winner_sentence
from tests.ui.actions import open_comparison_from_history
from tests.ui.hand_made import save_hand_comparison
from ui.main_window import MainWindow

TEMPLATE = "Summarize in one sentence: {{ dialogue }}"
ROWS = [
    ("Ann: Lunch at noon?\nBo: Yes, at the usual place.", "Ann and Bo meet for lunch at noon."),
    ("Cy: The train is late.\nDi: Then I will take the bus.",
     "Di takes the bus as the train is late."),
    ("Ed: Did you send the report?\nFay: Yes, this morning.", "Fay sent the report this morning."),
    ("Gil: Is the shop open?\nHal: Until six today.", "The shop is open until six today."),
    ("Ivy: Can you feed the cat?\nJo: Sure, after work.", "Jo will feed the cat after work."),
]
#: Column headers that are not a metric's mean.
PLAIN_HEADERS = {"variant", "runs", "95 % interval", "p vs best (paired, Holm)"}


@pytest.fixture
def five_inputs(isolated_profile: Path) -> int:
    """"copy" answers with the reference itself, "gist" with its first three words."""
    inputs = [Input(f"row-{i}", {"dialogue": d}, (ref,)) for i, (d, ref) in enumerate(ROWS)]

    def answer(variant: str, item: Input) -> str:
        ref = item.references[0]
        return ref if variant == "copy" else " ".join(ref.split()[:3])

    return save_hand_comparison(isolated_profile / "history.db", "Five inputs", TEMPLATE,
                                ("gist", "copy"), inputs, answer)


def show_page(qtbot: QtBot, page: QWidget) -> None:
    """Click every tab that stands between the window and ``page``, outermost first."""
    chain: list[tuple[QTabWidget, QWidget]] = []
    child: QWidget | None = page
    while child is not None:
        parent = child.parentWidget()
        if isinstance(parent, QStackedWidget) and isinstance(parent.parentWidget(), QTabWidget):
            tabs = parent.parentWidget()
            assert isinstance(tabs, QTabWidget)
            chain.append((tabs, child))
        child = parent
    for tabs, child in reversed(chain):
        index = tabs.indexOf(child)
        if tabs.currentIndex() != index:
            bar = tabs.tabBar()
            rect = bar.tabRect(index)
            assert bar.isVisible() and rect.width() >= 16 and rect.height() >= 16
            QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=rect.center())
        assert tabs.currentIndex() == index
    qtbot.waitUntil(page.isVisible, timeout=2000)


def test_a_finished_comparison_reads_in_plain_words_at_laptop_size(
    qtbot: QtBot, five_inputs: int, window: MainWindow
) -> None:
    window.resize(1366, 768)
    compare = window.compare
    open_comparison_from_history(qtbot, window, five_inputs)
    qtbot.waitUntil(lambda: compare.summary.report is not None
                    and bool(compare.summary.winner_label.text()), timeout=10000)
    summary = compare.summary
    report = summary.report
    assert report is not None
    show_page(qtbot, summary.score_table)

    # The winner sentence, as the core says it: who, by how much, and that 5 inputs cannot tell.
    sentence = summary.winner_label.text()
    assert summary.winner_label.isVisible()
    assert sentence == winner_sentence(report)
    assert sentence.startswith("copy scored highest on ROUGE-L (1.000 vs ")
    assert "with 5 inputs the difference is not significant (p = " in sentence
    assert "inputs would be needed to detect a difference this size." in sentence
    # The method behind it, in its tooltip.
    tip = summary.winner_label.toolTip()
    assert tip == method_note(report)
    assert "paired permutation test" in tip and "80 % power" in tip and "divided by 100" in tip
    # Five inputs: the note says so, computed from the data.
    note = summary.few_inputs_label
    assert note.isVisible() and note.text() == too_few_inputs_note(report)
    assert note.text().startswith("Too few inputs: 5 inputs; about ")

    # Every column labelled, every metric on 0–1, every column on screen.
    table, model = summary.score_table, summary.score_model
    headers = [" ".join(str(model.headerData(c, Qt.Orientation.Horizontal)).split())
               for c in range(model.columnCount())]
    assert headers[:5] == ["variant", "runs", "ROUGE-L (mean, 0–1)", "95 % interval",
                           "p vs best (paired, Holm)"]
    for header in headers:
        assert header in PLAIN_HEADERS or header.endswith(("(mean, 0–1)", "lower is better)")), \
            header
    for metric in ("BLEU", "chrF"):
        column = headers.index(f"{metric} (mean, 0–1)")
        values = [str(model.index(r, column).data()).removeprefix("★ ") for r in range(2)]
        assert all(0.0 <= float(v.split()[0]) <= 1.0 for v in values), values
    width = table.viewport().width()
    for column in range(model.columnCount()):
        left = table.columnViewportPosition(column)
        assert left >= 0 and left + table.columnWidth(column) <= width, headers[column]
    assert table.horizontalScrollBar().maximum() == 0
    # Details in tooltips: the p cell says what its number is.
    rows = {model.index(r, 0).data(): r for r in range(model.rowCount())}
    p_column = headers.index("p vs best (paired, Holm)")
    assert model.index(rows["copy"], p_column).data() == "best"
    p_tip = str(model.index(rows["gist"], p_column).data(Qt.ItemDataRole.ToolTipRole))
    assert p_tip.startswith("gist against copy on ROUGE-L: paired test over 5 inputs, p = ")
