"""The History tab on a real database: runs made by the scripted model (tests/fakes.py), plus
hand-made rows for paging and filters; a replay compares a run of the real model with a new one."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, QThreadPool
from PySide6.QtGui import QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QListView,
    QTableView,
    QToolTip,
)
from pytestqt.qtbot import QtBot

from playground.comparison import ComparisonSpec, Input, Variant
from playground.engine.models import default_model_path, model_display_name
from playground.engine.options import LoadOptions
from playground.events import Result
from playground.prompts.library import load_builtin_library
from playground.runs.runner import BackendPool, ComparisonFinished, make_scorer, run_comparison
from playground.sampling import SamplingParams
from playground.storage.store import StorageError, Store
from tests.fakes import FakeEngine
from tests.ui.actions import click
from ui.context import AppContext
from ui.views.history.history_view import HistoryView
from ui.widgets.replay_dialog import ReplayDialog

HAND_COUNT = 55


@dataclass(frozen=True)
class Seed:
    path: Path
    single_id: int
    single_run_id: int
    multi_id: int
    multi_run_ids: tuple[int, ...]
    failed_ids: tuple[int, ...]


def _hand_result(n: int) -> Result:
    return Result(
        text=f"hand output {n}", finish_reason="stop", prompt_tokens=5, completion_tokens=3,
        ttft_s=0.01, tokens_per_second=100.0, total_s=0.05, rendered_prompt=f"hand prompt {n}",
        params=SamplingParams(), model={"name": "Hand", "path": "/models/hand.gguf"},
    )


def _hand_made(store: Store) -> list[int]:
    """Single runs without generation, older than the real ones: enough for a second page."""
    failed = []
    for n in range(HAND_COUNT):
        variant = Variant("hand-template", "hand-template", "Say {{ word }}", SamplingParams(),
                          "/models/hand.gguf")
        spec = ComparisonSpec(f"Playground: hand-template {n}", (variant,),
                              (Input("input", {"word": str(n)}),), metrics=(), kind="run")
        cid = store.save_comparison(spec)
        store.save_run(comparison_id=cid, variant_id=store.variant_ids(cid)[variant.name],
                       input_id=store.input_ids(cid)["input"], sample=0, seed=1,
                       run_key=f"key-{n}", result=_hand_result(n), status="ok", error=None)
        status = "failed" if n in (3, 4) else "done"
        store.set_status(cid, status)
        if status == "failed":
            failed.append(cid)
    return failed


def _sentiment_specs(model: str) -> tuple[ComparisonSpec, ComparisonSpec]:
    """A Playground run and a 2 × 2 comparison of the sentiment template, 8 tokens each."""
    library = load_builtin_library()
    template = library.template("sentiment-zero-shot")
    assert template is not None
    greedy = SamplingParams.from_dict({**template.meta.params, "max_tokens": 8, "stop": []})
    warm = SamplingParams(temperature=0.9, max_tokens=8, seed=7)
    single = ComparisonSpec(
        "Playground: sentiment-zero-shot",
        (Variant("sentiment-zero-shot", "sentiment-zero-shot", template.source, greedy, model),),
        (Input("input", {"review": "The zanzibar blender is superb and quiet."}, ("positive",)),),
        kind="run",
    )
    multi = ComparisonSpec(
        "Sentiment check",
        (Variant("greedy", "sentiment-zero-shot", template.source, greedy, model),
         Variant("warm", "sentiment-zero-shot", template.source, warm, model)),
        (Input("r1", {"review": "The quokka café served cold soup."}, ("negative",)),
         Input("r2", {"review": "Quokka mugs arrived fast and look lovely."}, ("positive",))),
    )
    return single, multi


def _run_all(store: Store, specs: tuple[ComparisonSpec, ...], pool: BackendPool) -> list[int]:
    ids: list[int] = []
    try:
        for spec in specs:
            for event in run_comparison(spec, pool, store=store, perplexity=False,
                                        scorer=make_scorer(spec.metrics, spec.language)):
                if isinstance(event, ComparisonFinished):
                    assert event.status == "done" and event.comparison_id is not None
                    ids.append(event.comparison_id)
    finally:
        pool.close()
    return ids


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """One database made once per module: a Playground run and a 2 × 2 comparison generated
    by the scripted model under the default model's name, after 55 hand-made runs."""
    path = tmp_path_factory.mktemp("history") / "seed.db"
    model = default_model_path()
    assert model is not None
    options = LoadOptions(n_ctx=1024)
    engine = FakeEngine()
    pool = BackendPool(options, factory=lambda key: engine.open(Path(key), options))
    with Store(path) as store:
        failed = _hand_made(store)
        ids = _run_all(store, _sentiment_specs(str(model)), pool)
        single_runs = store.runs(ids[0])
        multi_runs = store.runs(ids[1])
    assert len(single_runs) == 1 and len(multi_runs) == 4
    return Seed(path, ids[0], single_runs[0].id, ids[1], tuple(r.id for r in multi_runs),
                tuple(failed))


@pytest.fixture
def history_db(seed: Seed, isolated_profile: Path) -> Path:
    target = isolated_profile / "history.db"
    shutil.copy(seed.path, target)
    return target


@pytest.fixture
def real_run(history_db: Path, default_model_path: Path) -> tuple[int, int]:
    """(comparison id, run id) of a Playground run the real model made in this test's database:
    what a replay on the same machine must reproduce."""
    single, _ = _sentiment_specs(str(default_model_path))
    with Store(history_db) as store:
        (comparison_id,) = _run_all(store, (single,), BackendPool(LoadOptions(n_ctx=1024)))
        (run,) = store.runs(comparison_id)
    return comparison_id, run.id


@pytest.fixture
def view(qtbot: QtBot, history_db: Path, context: AppContext) -> HistoryView:
    assert context.db_path == history_db
    widget = HistoryView(context)
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    qtbot.waitUntil(lambda: not widget.loading, timeout=10000)
    return widget


def _row_of(view: HistoryView, comparison_id: int) -> int:
    row = view.model.row_of_comparison(comparison_id)
    assert row is not None, f"comparison {comparison_id} is not in the table"
    return row


def _show(qtbot: QtBot, view: HistoryView, kind: str) -> None:
    """Click the switch to the list of comparisons ("comparison") or Playground runs ("run")."""
    button = view.kind_buttons[kind]  # type: ignore[index]
    if not button.isChecked():
        with qtbot.waitSignal(view.history_loaded, timeout=10000):
            click(qtbot, button)
    assert button.isChecked()


def _select(qtbot: QtBot, view: HistoryView, comparison_id: int) -> None:
    if view.model.row_of_comparison(comparison_id) is None:  # in the other list
        other = "run" if view.kind_buttons["comparison"].isChecked() else "comparison"
        _show(qtbot, view, other)
    row = _row_of(view, comparison_id)
    with qtbot.waitSignal(view.details_loaded, timeout=10000) as blocker:
        rect = view.table.visualRect(view.model.index(row, 1))
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [comparison_id]


def _text(view: HistoryView, row: int, column: int) -> str:
    return str(view.model.data(view.model.index(row, column)))


@pytest.fixture
def export_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The export dialog opens in the home folder: this test's folder, not the user's."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def _export_clicked(qtbot: QtBot, view: HistoryView, path: Path, file_type: str = "") -> None:
    """Export…, then the file type chosen with the arrow keys (when given), the path typed
    over the dialog's file name, and Enter."""
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QFileDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, QFileDialog)
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    files = dialog.findChild(QListView, "listView")
    assert name is not None and files is not None, "not Qt's own file dialog"
    # Typing before the folder is listed loses the text to the dialog's completion.
    qtbot.waitUntil(lambda: files.model().rowCount(files.rootIndex()) > 0)
    assert name.text() == "report.html"
    if file_type:
        types = dialog.findChild(QComboBox, "fileTypeCombo")
        assert types is not None
        while types.currentText() != file_type:
            QTest.keyClick(types, Qt.Key.Key_Up)
    QTest.keyClick(name, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(name, str(path))
    QTest.keyClick(name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_comparisons_and_playground_runs_are_listed_apart_each_numbered_from_one(
    qtbot: QtBot, view: HistoryView, seed: Seed, qtmodeltester: object
) -> None:
    model = view.model
    # Comparisons first: the 56 Playground runs saved before it did not use up its number.
    assert view.kind_buttons["comparison"].isChecked()
    assert [i.comparison.id for i in model.items] == [seed.multi_id]
    assert _text(view, 0, model.NUMBER) == "#1"
    assert _text(view, 0, model.SIZE) == "2 × 2 × 1"
    default = default_model_path()
    assert default is not None
    # The one display name every view uses (the catalog's), not the file header's label.
    assert _text(view, 0, model.MODEL) == model_display_name(default)
    assert _text(view, 0, model.STATUS) == "done"
    assert view.count_label.text() == "1 comparison"

    _show(qtbot, view, "run")
    assert model.rowCount() == 50
    assert view.more_button.isVisible() and view.more_available
    assert model.item(0).comparison.id == seed.single_id
    assert _text(view, 0, model.NUMBER) == f"Run {HAND_COUNT + 1}"
    assert _text(view, 0, model.NAME) == "Playground: sentiment-zero-shot"
    assert _text(view, 1, model.NUMBER) == f"Run {HAND_COUNT}"
    assert _text(view, 1, model.OUTPUT) == "hand output 54"
    assert _text(view, 1, model.MODEL) == "hand"  # not in the catalog: the file's name
    assert view.count_label.text() == "50 Playground runs (more available)"

    with qtbot.waitSignal(view.history_loaded, timeout=10000):
        click(qtbot, view.more_button)
    assert model.rowCount() == HAND_COUNT + 1
    assert not view.more_button.isVisible()
    assert _text(view, model.rowCount() - 1, model.OUTPUT) == "hand output 0"
    assert _text(view, model.rowCount() - 1, model.NUMBER) == "Run 1"
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_search_text_finds_runs_by_prompt_and_output(
    qtbot: QtBot, view: HistoryView, seed: Seed, qtmodeltester: object
) -> None:
    _show(qtbot, view, "run")
    with qtbot.waitSignal(view.history_loaded, timeout=10000):
        qtbot.keyClicks(view.search_edit, "zanzibar")
    assert view.model.rowCount() == 1
    item = view.model.item(0)
    assert item.kind == "run" and item.run is not None and item.run.id == seed.single_run_id
    assert view.count_label.text() == "1 matching run"

    view.search_edit.clear()
    with qtbot.waitSignal(view.history_loaded, timeout=10000):
        qtbot.keyClicks(view.search_edit, "hand output 17")
    assert [i.comparison.name for i in view.model.items] == ["Playground: hand-template 17"]

    # The switch applies to the search too: no Playground run says quokka.
    view.search_edit.clear()
    with qtbot.waitSignal(view.history_loaded, timeout=10000):
        qtbot.keyClicks(view.search_edit, "QUOKKA")
    assert view.model.rowCount() == 0
    assert view.count_label.text() == "0 matching runs · 4 more matches in comparisons"
    _show(qtbot, view, "comparison")
    assert sorted(i.run.id for i in view.model.items if i.run) == sorted(seed.multi_run_ids)
    assert {_text(view, r, view.model.NUMBER) for r in range(4)} == {"#1"}
    assert {i.kind for i in view.model.items} == {"run in comparison"}
    assert {_text(view, r, view.model.NAME) for r in range(4)} == {
        "Sentiment check · greedy", "Sentiment check · warm"}
    qtmodeltester.check(view.model)  # type: ignore[attr-defined]


def test_a_newer_search_wins_over_an_older_one(
    qtbot: QtBot, view: HistoryView, seed: Seed
) -> None:
    _show(qtbot, view, "run")
    # Enter searches at once: the second search starts while the first is still running.
    qtbot.keyClicks(view.search_edit, "quokka")
    QTest.keyClick(view.search_edit, Qt.Key.Key_Return)
    QTest.keyClick(view.search_edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(view.search_edit, "zanzibar")
    QTest.keyClick(view.search_edit, Qt.Key.Key_Return)
    assert QThreadPool.globalInstance().waitForDone(10000)
    qtbot.waitUntil(lambda: not view.loading, timeout=10000)
    qtbot.wait(50)  # let every queued result arrive; the older one must be ignored
    assert [i.run.id for i in view.model.items if i.run] == [seed.single_run_id]


def test_filters_for_status_and_model(qtbot: QtBot, view: HistoryView, seed: Seed) -> None:
    assert [i.comparison.id for i in view.model.items] == [seed.multi_id]

    _show(qtbot, view, "run")
    with qtbot.waitSignal(view.history_loaded, timeout=10000):
        view.status_combo.setCurrentIndex(view.status_combo.findData("failed"))
    assert sorted(i.comparison.id for i in view.model.items) == sorted(seed.failed_ids)
    assert _text(view, 0, view.model.STATUS).startswith("failed")

    with qtbot.waitSignal(view.history_loaded, timeout=10000):
        view.status_combo.setCurrentIndex(0)
        qtbot.keyClicks(view.contains_edit, "smollm2")
    assert [i.comparison.id for i in view.model.items] == [seed.single_id]
    _show(qtbot, view, "comparison")
    assert [i.comparison.id for i in view.model.items] == [seed.multi_id]

    view.contains_edit.clear()
    with qtbot.waitSignal(view.history_loaded, timeout=10000):
        qtbot.keyClicks(view.contains_edit, "hand-template")
    assert view.model.rowCount() == 0
    _show(qtbot, view, "run")
    assert view.model.rowCount() == 50 and view.more_available


@pytest.mark.parametrize(("saved", "shown"), [("run", "run"), ("comparison", "comparison"),
                                              ("all", "comparison")])  # "all": older versions
def test_the_list_shown_survives_a_restart(
    qtbot: QtBot, history_db: Path, context: AppContext, seed: Seed, saved: str, shown: str
) -> None:
    context.settings.setValue("history/kind", saved)
    view = HistoryView(context)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: not view.loading, timeout=10000)
    assert view.kind_buttons[shown].isChecked()  # type: ignore[index]
    first = seed.single_id if shown == "run" else seed.multi_id
    assert view.model.item(0).comparison.id == first


def test_selecting_a_comparison_shows_its_runs_and_the_full_output(
    qtbot: QtBot, view: HistoryView, seed: Seed, context: AppContext, qtmodeltester: object
) -> None:
    _select(qtbot, view, seed.multi_id)
    runs = view.runs_model
    assert runs.rowCount() == 4
    assert sorted({d.variant for d in runs.rows}) == ["greedy", "warm"]
    assert sorted({d.input for d in runs.rows}) == ["r1", "r2"]
    assert all("rouge" in str(runs.data(runs.index(r, runs.SCORES))) for r in range(4))
    qtmodeltester.check(runs)  # type: ignore[attr-defined]
    # The table has a heading of its own, between the judges' line and the table.
    heading = view.details.title_label
    assert heading.isVisible() and heading.text() == "Runs (4)"
    table_top = view.runs_table.mapTo(view, view.runs_table.rect().topLeft()).y()
    heading_top = heading.mapTo(view, heading.rect().topLeft()).y()
    judges_title = view.judges.title_label
    assert judges_title.mapTo(view, judges_title.rect().topLeft()).y() < heading_top < table_top

    rect = view.runs_table.visualRect(runs.index(2, 0))
    qtbot.mouseClick(view.runs_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    chosen = runs.detail(2).run
    with Store(context.db_path) as store:
        stored = store.run(chosen.id)
    assert view.output_text.toPlainText() == (stored.output or "")
    assert view.prompt_text.toPlainText() == stored.rendered_prompt
    assert "quokka" in view.prompt_text.toPlainText().lower()
    assert f"run id {chosen.id} · sample 1 ·" in view.run_label.text()


def test_open_emits_open_run_for_a_single_run_and_open_comparison_for_a_comparison(
    qtbot: QtBot, view: HistoryView, seed: Seed, context: AppContext
) -> None:
    _select(qtbot, view, seed.single_id)
    with qtbot.waitSignal(context.open_run, timeout=2000) as opened:
        view.open_button.click()
    assert opened.args == [seed.single_run_id]

    _show(qtbot, view, "comparison")
    row = _row_of(view, seed.multi_id)
    rect = view.table.visualRect(view.model.index(row, 1))
    with qtbot.waitSignal(context.open_comparison, timeout=2000) as compared:
        # A real double-click starts with a press; the item view reacts only to the pair.
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert compared.args == [seed.multi_id]
    assert QThreadPool.globalInstance().waitForDone(10000)


def test_rating_with_thumbs_stars_and_note_is_stored_and_shown(
    qtbot: QtBot, view: HistoryView, seed: Seed, context: AppContext
) -> None:
    _select(qtbot, view, seed.single_id)
    run_id = seed.single_run_id
    with qtbot.waitSignal(view.rating_saved, timeout=5000):
        view.thumbs_up.click()
    with qtbot.waitSignal(view.rating_saved, timeout=5000):
        view.star_buttons[3].click()
    view.note_edit.clear()
    qtbot.keyClicks(view.note_edit, "clear and short")
    with qtbot.waitSignal(view.rating_saved, timeout=5000):
        view.note_button.click()
    with Store(context.db_path) as store:
        rating = store.rating(run_id)
    assert rating is not None
    assert (rating.thumbs, rating.stars, rating.note) == (1, 4, "clear and short")

    row = _row_of(view, seed.single_id)
    shown = _text(view, row, view.model.RATING)
    assert "▲ good" in shown and "★★★★☆" in shown and "clear and short" in shown
    assert "★★★★☆" in str(view.runs_model.data(view.runs_model.index(0, view.runs_model.RATING)))
    assert view.thumbs_up.isChecked() and not view.thumbs_down.isChecked()
    assert [b.text() for b in view.star_buttons] == ["★", "★", "★", "★", "☆"]

    with qtbot.waitSignal(view.rating_saved, timeout=5000):
        view.thumbs_down.click()
    with Store(context.db_path) as store:
        rating = store.rating(run_id)
    assert rating is not None and (rating.thumbs, rating.stars) == (-1, 4)

    with qtbot.waitSignal(view.rating_saved, timeout=5000):
        view.clear_rating_button.click()
    with Store(context.db_path) as store:
        assert store.rating(run_id) is None
    assert _text(view, row, view.model.RATING) == ""


def test_delete_asks_first_and_keeps_the_item_when_declined(
    qtbot: QtBot, view: HistoryView, seed: Seed, context: AppContext
) -> None:
    asked: list[str] = []

    def decline(text: str) -> bool:
        asked.append(text)
        return False

    def accept(text: str) -> bool:
        asked.append(text)
        return True

    view.confirm = decline
    _select(qtbot, view, seed.single_id)
    view.delete_button.click()
    assert asked and asked[0].startswith(
        f"Delete Run {HAND_COUNT + 1} “Playground: sentiment-zero-shot” and its saved 1 run?")
    assert QThreadPool.globalInstance().waitForDone(10000)
    with Store(context.db_path) as store:
        assert store.comparison(seed.single_id).id == seed.single_id

    view.confirm = accept
    with qtbot.waitSignal(view.deleted, timeout=5000) as deleted, \
            qtbot.waitSignal(view.history_loaded, timeout=10000):
        view.delete_button.click()
    assert deleted.args == [[seed.single_id]]
    with Store(context.db_path) as store, pytest.raises(StorageError):
        store.comparison(seed.single_id)
    assert view.model.row_of_comparison(seed.single_id) is None
    # Nothing is renumbered: the next run keeps its number.
    assert _text(view, 0, view.model.NUMBER) == f"Run {HAND_COUNT}"


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "md", "html"])
def test_export_writes_a_report_per_format(
    qtbot: QtBot, view: HistoryView, seed: Seed, export_home: Path, fmt: str
) -> None:
    tmp_path = export_home
    _select(qtbot, view, seed.multi_id)
    target = tmp_path / f"report.{fmt}"
    with qtbot.waitSignal(view.exported, timeout=20000) as exported:
        _export_clicked(qtbot, view, target)
    assert exported.args == [[str(target)]]
    text = target.read_text(encoding="utf-8")
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][:2] == ["run_id", "variant"]
        assert sorted(int(r[0]) for r in rows[1:]) == sorted(seed.multi_run_ids)
    elif fmt == "jsonl":
        records = [json.loads(line) for line in text.splitlines()]
        assert sorted(r["run_id"] for r in records) == sorted(seed.multi_run_ids)
    elif fmt == "md":
        assert "Sentiment check" in text and "greedy" in text and "warm" in text
    else:
        assert text.lstrip().lower().startswith("<!doctype html") and "Sentiment check" in text


def test_export_of_several_items_writes_one_file_each(
    qtbot: QtBot, view: HistoryView, seed: Seed, export_home: Path
) -> None:
    tmp_path = export_home
    _show(qtbot, view, "run")
    selection = view.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in (0, 1):
        selection.select(view.model.index(row, 0), flags)
    with qtbot.waitSignal(view.exported, timeout=20000) as exported:
        _export_clicked(qtbot, view, tmp_path / "both", "Markdown (*.md)")
    # Named by the numbers the list shows.
    newest, older = f"run{HAND_COUNT + 1}", f"run{HAND_COUNT}"
    assert exported.args == [[str(tmp_path / f"both-{newest}.md"),
                              str(tmp_path / f"both-{older}.md")]]
    assert "sentiment-zero-shot" in (tmp_path / f"both-{newest}.md").read_text()
    assert QThreadPool.globalInstance().waitForDone(10000)


def test_history_reloads_when_something_is_saved(
    qtbot: QtBot, view: HistoryView, context: AppContext
) -> None:
    variant = Variant("new", "new", "Hello", SamplingParams(), "/models/other.gguf")
    with Store(context.db_path) as store:
        cid = store.save_comparison(ComparisonSpec("Brand new comparison", (variant,),
                                                   (Input("a", {}), Input("b", {}))))
    with qtbot.waitSignal(view.history_loaded, timeout=10000):
        context.history_changed.emit()
    assert view.model.item(0).comparison.id == cid
    assert _text(view, 0, view.model.STATUS) == "running (0/2)"
    assert _text(view, 0, view.model.MODEL) == "other"


def _replay_clicked(qtbot: QtBot, view: HistoryView, comparison_id: int) -> ReplayDialog:
    """Select the comparison, click its first run, click Replay…; the dialog that opens."""
    view.resize(1366, 768)
    _select(qtbot, view, comparison_id)
    rect = view.runs_table.visualRect(view.runs_model.index(0, 0))
    qtbot.mouseClick(view.runs_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    button = view.replay_button
    assert button.isVisible() and button.isEnabled()
    assert button.width() >= 16 and button.height() >= 16
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialogs = view.findChildren(ReplayDialog)
    assert len(dialogs) == 1
    qtbot.waitUntil(lambda: not dialogs[0].stop_button.isEnabled(), timeout=120000)
    return dialogs[0]


@pytest.mark.model
def test_replay_of_a_run_on_the_same_machine_says_identical(
    qtbot: QtBot, real_run: tuple[int, int], view: HistoryView
) -> None:
    comparison_id, run_id = real_run
    dialog = _replay_clicked(qtbot, view, comparison_id)
    assert dialog.report is not None, dialog.status_label.text()
    assert dialog.status_label.text().startswith("Identical")
    assert dialog.report_text.isVisible()
    text = dialog.report_text.toPlainText()
    assert text.startswith(f"run {run_id}: identical")
    assert "no recorded setting differs now" in text
    assert dialog.output.toPlainText() == dialog.report.original.output
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(
        QDialogButtonBox.StandardButton.Close), Qt.MouseButton.LeftButton)


def test_replay_of_a_run_whose_model_is_gone_says_so(
    qtbot: QtBot, view: HistoryView, seed: Seed
) -> None:
    with Store(view.context.db_path) as store:
        hand = next(c for c in store.history(limit=100) if c.name.startswith("Playground: hand"))
    dialog = _replay_clicked(qtbot, view, hand.id)
    assert dialog.report is None
    message = dialog.status_label.text()
    assert "could not be replayed" in message
    assert "/models/hand.gguf, which is not there any more" in message
    assert "Traceback" not in message
    dialog.close()


def _hover_tooltip(qtbot: QtBot, table: QTableView, row: int, column: int) -> str:
    """Rest the pointer on a cell, as a person does to read its tooltip; the tooltip shown."""
    rect = table.visualRect(table.model().index(row, column))
    QTest.mouseMove(table.viewport(), rect.center())
    # A resting pointer makes Qt send the cell a tooltip event; sent here at once.
    event = QHelpEvent(QEvent.Type.ToolTip, rect.center(), table.viewport().mapToGlobal(
        rect.center()))
    QApplication.sendEvent(table.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    return QToolTip.text()


def test_a_person_reads_times_numbers_and_samples_and_opens_a_run_with_a_double_click(
    qtbot: QtBot, view: HistoryView, seed: Seed, context: AppContext
) -> None:
    view.resize(1366, 768)
    model = view.model
    with Store(context.db_path) as store:
        multi = store.comparison(seed.multi_id)
        single = store.comparison(seed.single_id)
    # Made a moment ago: "today 14:02", the ISO time in the tooltip.
    shown = _text(view, 0, model.CREATED)
    assert shown.startswith("today ") and len(shown) == len("today 14:02"), shown
    assert _hover_tooltip(qtbot, view.table, 0, model.CREATED) == multi.created_at

    # Samples count from 1 in the runs table and in the run's facts.
    _select(qtbot, view, seed.multi_id)
    runs = view.runs_model
    assert runs.headerData(runs.SAMPLE, Qt.Orientation.Horizontal) == "Sample"
    assert {runs.data(runs.index(r, runs.SAMPLE)) for r in range(runs.rowCount())} == {"1"}
    assert all(d.run.sample == 0 for d in runs.rows)  # the file's field stays 0-based
    rect = view.runs_table.visualRect(runs.index(0, 0))
    qtbot.mouseClick(view.runs_table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "sample 1" in view.run_label.text() and "sample 0" not in view.run_label.text()
    default = default_model_path()
    assert default is not None
    assert model_display_name(default) in view.run_label.text()

    # The other list, by its switch: the Playground run by its own number; a double-click
    # opens it in the Playground.
    _show(qtbot, view, "run")
    row = _row_of(view, seed.single_id)
    assert _text(view, row, model.NUMBER) == single.label == f"Run {HAND_COUNT + 1}"
    rect = view.table.visualRect(model.index(row, model.NAME))
    with qtbot.waitSignal(context.open_run, timeout=2000) as opened:
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [seed.single_run_id]
    assert QThreadPool.globalInstance().waitForDone(10000)
