"""The Evaluate tab: rating outputs and judging blind pairs with the keyboard, then reading the
ranking, the Likert means and the exported preference dataset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QListView
from pytestqt.qtbot import QtBot

from playground.comparison import ComparisonSpec, Input, Variant
from playground.evaluation.preferences import read_preferences
from playground.events import Result
from playground.ratings import DEFAULT_CRITERIA, Judgement
from playground.sampling import SamplingParams
from playground.scores import Score
from playground.storage.store import Store
from tests.ui.actions import click
from ui.context import AppContext
from ui.views.evaluate.evaluate_view import EvaluateView

#: Variant → how good its outputs are (higher is better) and the BLEU it is given, which
#: orders the variants the same way.
QUALITY = {"good": 3, "meh": 2, "bad": 1}
BLEU = {"good": 90.0, "meh": 50.0, "bad": 10.0}
INPUTS = {"q1": "capital of France", "q2": "largest planet", "q3": "boiling point of water"}
REFERENCES = {"q1": "Paris is the capital of France.", "q2": "Jupiter is the largest planet.",
              "q3": "Water boils at 100 degrees Celsius."}


def output(variant: str, input_id: str) -> str:
    if variant == "good":
        return REFERENCES[input_id]
    if variant == "meh":
        return f"I think it is something about the {INPUTS[input_id]}."
    return "lorem ipsum " * 3 + input_id


#: Every output text → its variant, which is how the test reads a blind pair.
BY_TEXT = {output(v, i): v for v in QUALITY for i in INPUTS}


def make_comparison(db_path: Path) -> tuple[int, dict[tuple[str, str], int]]:
    params = SamplingParams(temperature=0.0, max_tokens=16)
    spec = ComparisonSpec(
        name="capitals and planets",
        variants=tuple(Variant(v, "adhoc", f"{v} prompt: {{{{ question }}}}", params, "smol")
                       for v in QUALITY),
        inputs=tuple(Input(i, {"question": q}, (REFERENCES[i],)) for i, q in INPUTS.items()),
        metrics=("bleu",),
    )
    runs: dict[tuple[str, str], int] = {}
    with Store(db_path) as store:
        cid = store.save_comparison(spec)
        variant_ids, input_ids = store.variant_ids(cid), store.input_ids(cid)
        for v in QUALITY:
            for i, question in INPUTS.items():
                result = Result(
                    text=output(v, i), finish_reason="stop", prompt_tokens=6,
                    completion_tokens=8, ttft_s=0.01, tokens_per_second=80.0, total_s=0.1,
                    rendered_prompt=f"{v} prompt: {question}", params=params,
                    model={"name": "SmolLM2-135M-Instruct", "file_size": 1},
                )
                runs[v, i] = store.save_run(
                    comparison_id=cid, variant_id=variant_ids[v], input_id=input_ids[i],
                    sample=0, seed=1, run_key=f"{v}-{i}", result=result, status="ok",
                    error=None, scores=[Score("bleu", BLEU[v], "bleu|test")],
                )
        store.set_status(cid, "done")
    return cid, runs


@pytest.fixture
def comparison(context: AppContext) -> tuple[int, dict[tuple[str, str], int]]:
    return make_comparison(context.db_path)


@pytest.fixture
def view(qtbot: QtBot, context: AppContext) -> Iterator[EvaluateView]:
    widget = EvaluateView(context)
    qtbot.addWidget(widget)
    widget.resize(1100, 760)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    qtbot.waitUntil(lambda: not widget.busy, timeout=10000)


def open_comparison(qtbot: QtBot, view: EvaluateView, cid: int) -> None:
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.set_comparison(cid)
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)


@pytest.fixture
def export_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The export dialog opens in the home folder: this test's folder, not the user's."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def export_clicked(qtbot: QtBot, view: EvaluateView, path: Path) -> None:
    """The Results tab's "Export preference dataset…", then the path typed over the dialog's
    file name and Enter."""
    tabs = view.modes.tabBar()
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(2).center())
    assert view.export_button.isVisible() and view.export_button.isEnabled()
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QFileDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, QFileDialog)
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    files = dialog.findChild(QListView, "listView")
    assert name is not None and files is not None, "not Qt's own file dialog"
    # Typing before the folder is listed loses the text to the dialog's completion.
    qtbot.waitUntil(lambda: files.model().rowCount(files.rootIndex()) > 0)
    assert name.text() == f"comparison-{view.comparison_id}-preferences.jsonl"
    QTest.keyClick(name, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(name, str(path))
    QTest.keyClick(name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def shown_variants(view: EvaluateView) -> tuple[str, str]:
    panel = view.pairwise_widget
    return BY_TEXT[panel.left_view.toPlainText()], BY_TEXT[panel.right_view.toPlainText()]


def test_judging_every_pair_by_keyboard_ranks_the_good_variant_first(
    qtbot: QtBot, context: AppContext, view: EvaluateView,
    comparison: tuple[int, dict[tuple[str, str], int]], export_home: Path,
) -> None:
    cid, _ = comparison
    open_comparison(qtbot, view, cid)
    view.modes.setCurrentWidget(view.pairwise_widget)
    panel = view.pairwise_widget
    assert view.pairs_total == 9  # three pairs of variants on three inputs
    assert panel.progress.text() == "Pair 1 of 9"
    assert not panel.results_button.isVisible()  # only once judging is over

    # A wrong key is taken back with Backspace, and its pair comes back.
    first = view.current_pair
    assert first is not None
    assert first.prompt in INPUTS.values()
    with qtbot.waitSignal(view.judged, timeout=10000):
        QTest.keyClick(panel, Qt.Key.Key_3)
    assert view.current_pair != first
    QTest.keyClick(panel, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: view.current_pair == first, timeout=10000)
    assert panel.progress.text() == "Pair 1 of 9"

    seen: list[Judgement] = []
    view.judged.connect(seen.append)
    ties = 0
    while view.current_pair is not None:
        left, right = shown_variants(view)
        # The pair is blind: nothing on screen names a variant.
        assert all(name not in panel.progress.text() for name in QUALITY)
        if {left, right} == {"meh", "bad"} and view.current_pair.input_id == "q3":
            key, ties = Qt.Key.Key_3, ties + 1
        else:
            key = Qt.Key.Key_1 if QUALITY[left] > QUALITY[right] else Qt.Key.Key_2
        QTest.keyClick(panel, key)
    assert panel.progress.text() == "All 9 pairs judged."
    qtbot.waitUntil(lambda: len(seen) == 9, timeout=10000)
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    assert ties == 1
    for judgement in seen:
        if judgement.choice != "tie":
            winner = judgement.variant_a if judgement.choice == "a" else judgement.variant_b
            loser = judgement.variant_b if judgement.choice == "a" else judgement.variant_a
            assert QUALITY[winner] > QUALITY[loser]

    # The end of judging points to the results: one click shows them.
    click(qtbot, panel.results_button)
    assert view.modes.currentWidget() is view.results_panel
    assert view.ranking_table.isVisible()
    model = view.ranking_table.model()
    assert model.rowCount() == 3
    ranked = [model.index(row, 1).data() for row in range(3)]
    assert ranked == ["good", "meh", "bad"]
    strengths = [float(model.index(row, 2).data()) for row in range(3)]
    assert strengths[0] > strengths[1] > strengths[2]
    assert model.index(0, 4).data() == "6"  # good won all six of its pairs
    assert "bleu +1.00" in view.agreement_label.text()
    assert view.summary_label.text().startswith("9 judgements, 1 tie.")

    # Reopening the comparison finds every pair judged.
    open_comparison(qtbot, view, cid)
    assert view.current_pair is None and view.pairs_judged == 9

    path = export_home / "prefs.jsonl"
    assert view.export_button.isEnabled()
    with qtbot.waitSignal(view.exported, timeout=10000) as blocker:
        export_clicked(qtbot, view, path)
    assert blocker.args == [str(path)]
    records = read_preferences(path.read_text(encoding="utf-8"))
    assert len(records) == 8  # the tie is left out
    for record in records:
        assert QUALITY[record["chosen_variant"]] > QUALITY[record["rejected_variant"]]
        assert BY_TEXT[record["chosen"]] == record["chosen_variant"]
        assert record["prompt"] == INPUTS[record["input_id"]]
        assert record["chosen_model"] == "SmolLM2-135M-Instruct"


def test_likert_ratings_by_keyboard_and_mouse_give_the_means(
    qtbot: QtBot, context: AppContext, view: EvaluateView,
    comparison: tuple[int, dict[tuple[str, str], int]],
) -> None:
    cid, runs = comparison
    open_comparison(qtbot, view, cid)
    panel = view.likert_widget
    assert view.modes.currentWidget() is panel
    assert panel.criteria == DEFAULT_CRITERIA
    assert panel.title.text().startswith("Output 1 of 9")
    # good: 5 on every criterion, meh: 3, bad: 1, except fluency of bad on q1 which gets a 2
    wanted = {"good": 5, "meh": 3, "bad": 1}
    visited = set()
    for _ in range(9):
        item = panel.current_item
        assert item is not None
        variant = BY_TEXT[item.output]
        assert variant not in panel.title.text()
        assert panel.input_view.toPlainText() == INPUTS[item.input_key]
        visited.add(item.run_id)
        for _criterion in DEFAULT_CRITERIA:
            QTest.keyClick(panel, getattr(Qt.Key, f"Key_{wanted[variant]}"))
        if variant == "bad" and item.input_key == "q1":
            QTest.keyClick(panel, Qt.Key.Key_Up)
            QTest.keyClick(panel, Qt.Key.Key_Up)
            assert panel.criteria[panel.current_criterion] == "fluency"
            panel.score_groups["fluency"].button(2).click()
            panel.note_edit.setFocus()
            panel.note_edit.setText("reads like filler")
            QTest.keyClick(panel.note_edit, Qt.Key.Key_Return)
            assert item.ratings["fluency"] == 2
        QTest.keyClick(panel, Qt.Key.Key_Right)
    assert visited == set(runs.values())
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)

    model = view.likert_table.model()
    rows = {model.index(r, 0).data(): r for r in range(model.rowCount())}
    assert set(rows) == set(QUALITY)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Variant", "Rated outputs", *DEFAULT_CRITERIA]
    assert model.index(rows["good"], 1).data() == "3"
    assert model.index(rows["good"], 2).data().startswith("5.00 ")
    assert model.index(rows["meh"], 5).data() == "3.00 [3.00, 3.00]"
    fluency = view.likert_model.estimate("bad", "fluency")
    assert fluency is not None and fluency.mean == pytest.approx((2 + 1 + 1) / 3)
    assert model.index(rows["bad"], 3).data().startswith("1.33 [")

    with Store(context.db_path) as store:
        ratings = store.criterion_ratings(cid)
        assert len(ratings) == 9 * 4
        assert store.run(runs["bad", "q1"]).rating.note == "reads like filler"  # type: ignore[union-attr]

    # "Unrated only" has nothing left to show once everything is rated.
    panel.unrated_only.setChecked(True)
    before = panel.position
    QTest.keyClick(panel, Qt.Key.Key_Left)
    assert panel.position == before


def test_a_shared_input_is_named_as_such_in_the_likert_title(
    qtbot: QtBot, context: AppContext, view: EvaluateView
) -> None:
    """A comparison on one typed input stores it under the id "input": the title says "the
    shared input", not "input input"."""
    params = SamplingParams(max_tokens=16)
    spec = ComparisonSpec(
        name="one input", inputs=(Input("input", {"question": "capital of France"}),),
        variants=tuple(Variant(v, "adhoc", "{{ question }}", params, "smol") for v in "ab"),
    )
    with Store(context.db_path) as store:
        cid = store.save_comparison(spec)
        variant_ids, input_ids = store.variant_ids(cid), store.input_ids(cid)
        for v in "ab":
            result = Result(
                text=f"answer {v}", finish_reason="stop", prompt_tokens=6, completion_tokens=2,
                ttft_s=0.01, tokens_per_second=80.0, total_s=0.1,
                rendered_prompt="capital of France", params=params, model={"name": "smol"},
            )
            store.save_run(comparison_id=cid, variant_id=variant_ids[v],
                           input_id=input_ids["input"], sample=0, seed=1, run_key=v,
                           result=result, status="ok", error=None, scores=[])
        store.set_status(cid, "done")
    open_comparison(qtbot, view, cid)
    title = view.likert_widget.title.text()
    assert title.startswith("Output 1 of 2 · the shared input · ")
    assert "input input" not in title


def test_criteria_are_renamed_added_and_removed_in_the_list(
    qtbot: QtBot, context: AppContext, view: EvaluateView,
    comparison: tuple[int, dict[tuple[str, str], int]],
) -> None:
    cid, _ = comparison
    open_comparison(qtbot, view, cid)
    panel = view.likert_widget
    QTest.keyClick(panel, Qt.Key.Key_Down)
    QTest.keyClick(panel, Qt.Key.Key_Down)
    QTest.keyClick(panel, Qt.Key.Key_Down)
    QTest.keyClick(panel, Qt.Key.Key_4)  # factuality of the first output
    rated_run = panel.current_item.run_id  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)

    with qtbot.waitSignal(view.loaded, timeout=10000):
        panel.criteria_list.item(3).setText("accuracy")
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    assert panel.criteria == ("coherence", "fluency", "relevance", "accuracy")
    assert panel.current_item.run_id == rated_run  # type: ignore[union-attr]
    assert panel.current_item.ratings == {"accuracy": 4}  # type: ignore[union-attr]
    assert panel.score_groups["accuracy"].checkedId() == 4

    with qtbot.waitSignal(view.loaded, timeout=10000):
        panel.add_criterion_button.click()
    assert panel.criteria[-1] == "criterion 5"
    panel.criteria_list.setCurrentRow(0)
    with qtbot.waitSignal(view.loaded, timeout=10000):
        panel.remove_criterion_button.click()
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    assert panel.criteria == ("fluency", "relevance", "accuracy", "criterion 5")
    with Store(context.db_path) as store:
        assert store.criteria(cid) == panel.criteria
    headers = [view.likert_model.headerData(c, Qt.Orientation.Horizontal)
               for c in range(view.likert_model.columnCount())]
    assert headers[2:] == list(panel.criteria)

    # A duplicate name is refused with the store's message, and the list goes back.
    panel.criteria_list.item(0).setText("Accuracy")
    qtbot.waitUntil(lambda: view.message.isVisible(), timeout=10000)
    assert view.message.text() == "the criterion 'accuracy' is listed twice"
    assert panel.criteria_list.item(0).text() == "fluency"


def test_the_picker_lists_comparisons_and_opens_one(
    qtbot: QtBot, context: AppContext, view: EvaluateView,
) -> None:
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    assert view.picker.count() == 0
    assert view.pairwise_widget.progress.text().startswith("Choose a comparison")
    cid, _ = make_comparison(context.db_path)
    context.history_changed.emit()
    qtbot.waitUntil(lambda: view.picker.count() == 1, timeout=10000)
    assert view.picker.itemText(0).startswith(f"#{cid}  capitals and planets")
    view.picker.setFocus()
    with qtbot.waitSignal(view.loaded, timeout=10000) as blocker:
        QTest.keyClick(view.picker, Qt.Key.Key_Down)
    assert blocker.args == [cid]
    assert view.comparison_id == cid
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)

    # A comparison deleted elsewhere after it was listed cannot be opened.
    gone, _ = make_comparison(context.db_path)
    context.history_changed.emit()
    qtbot.waitUntil(lambda: view.picker.count() == 2, timeout=10000)
    with Store(context.db_path) as store:
        store.delete_comparison(gone)
    view.picker.setFocus()
    QTest.keyClick(view.picker, Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: view.message.isVisible(), timeout=10000)
    assert view.message.text() == (f"Could not open comparison {gone}: there is no comparison "
                                   f"with id {gone}")
    assert view.comparison_id == cid  # what was shown stays


def test_item_models_pass_the_model_tester(
    qtbot: QtBot, qtmodeltester: object, view: EvaluateView,
    comparison: tuple[int, dict[tuple[str, str], int]],
) -> None:
    cid, _ = comparison
    open_comparison(qtbot, view, cid)
    view.modes.setCurrentWidget(view.pairwise_widget)
    for _ in range(3):
        QTest.keyClick(view.pairwise_widget, Qt.Key.Key_1)
    QTest.keyClick(view.likert_widget, Qt.Key.Key_4)
    with qtbot.waitSignal(view.results_updated, timeout=10000):
        QTest.keyClick(view.likert_widget, Qt.Key.Key_2)
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    assert view.ranking_model.rowCount() >= 2
    assert view.likert_model.rowCount() == 3
    qtmodeltester.check(view.ranking_model)  # type: ignore[attr-defined]
    qtmodeltester.check(view.likert_model)  # type: ignore[attr-defined]


def test_a_judgement_that_cannot_be_saved_is_reported_and_its_pair_comes_back(
    qtbot: QtBot, context: AppContext, view: EvaluateView,
    comparison: tuple[int, dict[tuple[str, str], int]],
) -> None:
    cid, _ = comparison
    open_comparison(qtbot, view, cid)
    view.modes.setCurrentWidget(view.pairwise_widget)
    first = view.current_pair
    with Store(context.db_path) as store:  # deleted elsewhere (the History tab, the CLI)
        store.delete_comparison(cid)
    QTest.keyClick(view.pairwise_widget, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: view.message.isVisible(), timeout=10000)
    assert view.message.text().startswith("there is no run with id ")
    assert view.current_pair == first
    assert view.pairwise_widget.progress.text() == "Pair 1 of 9"


def test_the_shown_comparison_is_remembered(
    qtbot: QtBot, context: AppContext, view: EvaluateView,
    comparison: tuple[int, dict[tuple[str, str], int]],
) -> None:
    cid, _ = comparison
    open_comparison(qtbot, view, cid)
    view.save_settings(context.settings)
    again = EvaluateView(context)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.comparison_id == cid and not again.busy, timeout=10000)
    assert again.likert_widget.current_item is not None


def test_exporting_before_any_judgement_says_so(
    qtbot: QtBot, context: AppContext, view: EvaluateView,
    comparison: tuple[int, dict[tuple[str, str], int]], export_home: Path,
) -> None:
    cid, _ = comparison
    open_comparison(qtbot, view, cid)
    assert not view.export_button.isEnabled()
    # One pair judged here, then taken back elsewhere (another window) before the export.
    view.modes.setCurrentWidget(view.pairwise_widget)
    with qtbot.waitSignal(view.results_updated, timeout=10000):
        QTest.keyClick(view.pairwise_widget, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    with Store(context.db_path) as store:
        assert store.undo_last_judgement(cid) is not None
    export_clicked(qtbot, view, export_home / "none.jsonl")
    qtbot.waitUntil(lambda: view.message.isVisible(), timeout=10000)
    assert view.message.text() == ("Could not export the preferences: there are no judgements "
                                   "to export yet: judge some pairs first")
    assert not (export_home / "none.jsonl").exists()
