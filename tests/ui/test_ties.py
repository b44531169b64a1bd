"""Two variants that score the same: reopened from History, the window marks both as tied
best and says "tie", in the columns, the score table, the winner sentence and History's hint.
The runs are hand-made (no generation) and scored by the real scorer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from playground.comparison import ComparisonSpec, Input, Variant
from playground.events import Result
from playground.runs.runner import make_scorer
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.ui.actions import history_row, open_comparison_from_history
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
    variants = tuple(Variant(name, "summary", TEMPLATE, SamplingParams(temperature=0.0),
                             "/models/hand.gguf") for name in ("first", "second"))
    inputs = tuple(Input(f"row-{i}", {"dialogue": d}, (ref,)) for i, (d, ref, _) in
                   enumerate(ROWS))
    spec = ComparisonSpec("Twin prompts", variants, inputs)
    score = make_scorer(spec.metrics, spec.language)
    with Store(isolated_profile / "history.db") as store:
        cid = store.save_comparison(spec)
        variant_ids, input_ids = store.variant_ids(cid), store.input_ids(cid)
        for variant in variants:
            for item, (_, reference, output) in zip(inputs, ROWS, strict=True):
                result = Result(
                    text=output, finish_reason="stop", prompt_tokens=20, completion_tokens=9,
                    ttft_s=0.01, tokens_per_second=50.0, total_s=0.2,
                    rendered_prompt=TEMPLATE, params=SamplingParams(temperature=0.0),
                    model={"name": "Hand", "path": "/models/hand.gguf"})
                store.save_run(comparison_id=cid, variant_id=variant_ids[variant.name],
                               input_id=input_ids[item.id], sample=0, seed=1,
                               run_key=f"{variant.name}-{item.id}", result=result, status="ok",
                               error=None, scores=score(output, [reference]))
        store.set_status(cid, "done")
    return cid


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
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    metric_columns = [headers.index(m) for m in ("rougeL_f", "bleu", "chrf")]
    for r in range(model.rowCount()):
        for c in metric_columns:
            assert str(model.index(r, c).data()).endswith("tie")
        assert model.index(r, len(headers) - 1).data() == "best · tie"
    assert "first and second tie for the highest mean" in compare.winner_label.text()
