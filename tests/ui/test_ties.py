"""Two variants that score the same: reopened from History, the window marks both as tied
best and says "tie", in the columns, the score table, the winner sentence and History's hint.
The runs are hand-made (no generation) and scored by the real scorer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from playground.comparison import Input
from tests.ui.actions import history_row, open_comparison_from_history
from tests.ui.hand_made import save_hand_comparison
from ui.main_window import MainWindow

TEMPLATE = "Summarize in one sentence: {{ dialogue }}"
ROWS = [
    ("Ann: Lunch at noon?\nBo: Yes, at the usual place.", "They meet for lunch at noon.",
     "Ann and Bo meet for lunch at noon."),
    ("Cy: The train is late.\nDi: Then I will take the bus.", "Di takes the bus.",
     "Di will take the bus because the train is late."),
    ("Ed: Did you send the report?\nFay: Yes, this morning.", "Fay sent the report.",
     "Fay sent the report this morning."),
]


@pytest.fixture
def tied_comparison(isolated_profile: Path) -> int:
    """A stored comparison of two variants, "first" and "second", with the same outputs."""
    inputs = [Input(f"row-{i}", {"dialogue": d}, (ref,)) for i, (d, ref, _) in enumerate(ROWS)]
    outputs = {item.id: out for item, (_, _, out) in zip(inputs, ROWS, strict=True)}
    return save_hand_comparison(isolated_profile / "history.db", "Twin prompts", TEMPLATE,
                                ("first", "second"), inputs, lambda _, item: outputs[item.id])


def test_identical_variants_are_both_marked_tied_and_the_window_says_tie(
    qtbot: QtBot, tied_comparison: int, window: MainWindow
) -> None:
    window.resize(1366, 768)
    history, compare = window.history, window.compare
    row = history_row(qtbot, window, tied_comparison)
    hint = str(history.model.data(history.model.index(row, history.model.SCORE)))
    assert hint.startswith("first and second tie: ")

    # Open it as a person does: a double-click on its row.
    open_comparison_from_history(qtbot, window, tied_comparison)

    first, second = compare.columns
    assert [first.name_edit.text(), second.name_edit.text()] == ["first", "second"]
    for metric, label in first.score_labels.items():
        other = second.score_labels[metric]
        assert label.text() == other.text()  # the same number, and
        assert first.is_tied(metric) and second.is_tied(metric)  # both marked, neither alone
        for shown in (label, other):
            assert shown.text().startswith("★") and shown.text().endswith("tie")
            assert shown.font().bold()
            assert "a tie" in shown.toolTip()

    model = compare.score_table.model()
    headers = [" ".join(str(model.headerData(c, Qt.Orientation.Horizontal)).split())
               for c in range(model.columnCount())]
    metric_columns = [headers.index(f"{m} (mean, 0–1)") for m in ("ROUGE-L", "BLEU", "chrF")]
    for r in range(model.rowCount()):
        for c in metric_columns:
            assert str(model.index(r, c).data()).endswith("tie")
        assert model.index(r, headers.index("p vs best (paired, Holm)")).data() == "best · tie"
    assert "first and second tie for the highest ROUGE-L" in compare.winner_label.text()
