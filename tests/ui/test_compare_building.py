"""Building a comparison in the Compare tab as a person does (the "+ Column" button, a template
chosen from the list, a dataset file picked in the file dialog, "Run all") gives the comparison
the CLI builds from the same templates, dataset and settings: the same variants, inputs and
prompts, stored the same way."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QListView
from pytestqt.qtbot import QtBot

from playground.storage.store import RunRow, Store
from tests.ui.actions import choose_template, click, type_over
from ui.context import AppContext
from ui.views.compare.compare_column import CompareColumn
from ui.views.compare.compare_view import CompareView

TEMPLATES = ("summarization-zero-shot", "summarization-few-shot", "sentiment-zero-shot")
DIALOGUE = (
    "Maya: Did you book the train for Saturday?\n"
    "Leo: Not yet, the 9:10 was sold out.\n"
    "Maya: Take the 10:40 then, we can still make lunch with Grandma.\n"
    "Leo: Booked. Two seats, coach C."
)
TIMEOUT_MS = 180000


@pytest.fixture
def view(qtbot: QtBot, context: AppContext) -> CompareView:
    compare = CompareView(context)
    qtbot.addWidget(compare)
    compare.resize(1366, 768)
    compare.show()
    qtbot.waitExposed(compare)
    qtbot.waitUntil(lambda: context.tasks.running == 0)  # the model list
    return compare


def set_up_column(qtbot: QtBot, column: CompareColumn, template_id: str, max_tokens: int) -> None:
    """The column header's Edit opens its settings; Done folds them again."""
    click(qtbot, column.edit_button)
    choose_template(qtbot, column, template_id)
    type_over(qtbot, column.name_edit, template_id)
    type_over(qtbot, column.params["max_tokens"], str(max_tokens))
    QTest.keyClick(column.params["max_tokens"], Qt.Key.Key_Tab)
    click(qtbot, column.edit_button)
    assert not column.template_combo.isVisible()


def pick_file(qtbot: QtBot, view: CompareView, path: Path) -> None:
    """"File…", then the path typed into the dialog's file name field and Enter."""
    click(qtbot, view.file_button)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QFileDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, QFileDialog)
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    files = dialog.findChild(QListView, "listView")
    assert name is not None and files is not None, "not Qt's own file dialog"
    # Typing before the folder is listed loses the text to the dialog's completion.
    qtbot.waitUntil(lambda: files.model().rowCount(files.rootIndex()) > 0)
    QTest.keyClicks(name, str(path))
    QTest.keyClick(name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())


def write_dataset(path: Path) -> Path:
    """Its text column is named after no template's variable: it fills dialogue and review."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["conversation", "expected"])
        writer.writerow([DIALOGUE, "Leo booked the 10:40 train for Saturday."])
        writer.writerow(["Ana: Lunch at noon?\nBen: Yes, see you there.", "They meet at noon."])
    return path


def stored_runs(store: Store, comparison_id: int) -> dict[tuple[str, str, int], RunRow]:
    """A comparison's runs by (variant name, input id, sample)."""
    variants = {v.id: v.name for v in store.variants(comparison_id)}
    inputs = {i.id: i.input_key for i in store.inputs(comparison_id)}
    return {(variants.get(r.variant_id or -1, ""), inputs.get(r.input_id or -1, ""), r.sample): r
            for r in store.runs(comparison_id)}


def test_the_add_column_button_adds_columns_up_to_six(
    qtbot: QtBot, view: CompareView
) -> None:
    """Clicking "+ Column" once passed the button's checked flag as the column's setup."""
    assert len(view.columns) == 2
    last = view.columns[-1]
    click(qtbot, view.add_button)
    assert len(view.columns) == 3
    added = view.columns[-1]
    assert added.template_key() == last.template_key()  # a copy of the last column's setup
    assert added.model() == last.model()
    assert added.name_edit.text() not in {c.name_edit.text() for c in view.columns[:-1]}
    assert not view.message_label.isVisible()
    while len(view.columns) < 6:
        click(qtbot, view.add_button)
    assert not view.add_button.isEnabled()
    click(qtbot, view.columns[-1].remove_button)
    assert len(view.columns) == 5 and view.add_button.isEnabled()


@pytest.mark.model
def test_the_window_and_the_cli_build_and_store_the_same_comparison(
    qtbot: QtBot, view: CompareView, context: AppContext, tmp_path: Path
) -> None:
    dataset = write_dataset(tmp_path / "chats.csv")
    click(qtbot, view.add_button)
    assert len(view.columns) == 3
    for column, template_id in zip(view.columns, TEMPLATES, strict=True):
        set_up_column(qtbot, column, template_id, max_tokens=2)
    pick_file(qtbot, view, dataset)
    assert view.dataset_mode() and view.dataset_combo.currentText() == "File: chats.csv"
    with qtbot.waitSignal(view.comparison_finished, timeout=TIMEOUT_MS) as finished:
        click(qtbot, view.run_button)
    window_id = finished.args[0]
    assert isinstance(window_id, int), view.message_label.text()
    with Store(context.db_path) as store:
        window_row = store.comparison(window_id)

    model = context.hub.current
    cli = subprocess.run(
        [sys.executable, "-m", "playground", "compare", *(a for t in TEMPLATES for a in ("-T", t)),
         "--dataset", str(dataset), "--model", model, "--param", "max_tokens=2",
         "--name", window_row.name, "--no-perplexity", "--format", "jsonl"],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "PLAYGROUND_DB": str(context.db_path)})
    assert cli.returncode == 0, cli.stderr

    with Store(context.db_path) as store:
        (cli_row,) = [c for c in store.history(limit=10) if c.id != window_id]
        window_spec, cli_spec = window_row.to_spec(), store.comparison(cli_row.id).to_spec()
        runs = {cid: stored_runs(store, cid) for cid in (window_id, cli_row.id)}

    # The same comparison: variants (template, values, settings, model), inputs, samples, seed.
    assert window_spec == cli_spec
    assert [v.name for v in window_spec.variants] == list(TEMPLATES)
    assert all(v.params.max_tokens == 2 and v.model == model for v in window_spec.variants)
    # The dataset's first column filled each template's own text variable.
    assert [i.values["dialogue"] for i in window_spec.inputs] == [
        i.values["conversation"] for i in window_spec.inputs]
    assert [i.values["review"] for i in window_spec.inputs] == [
        i.values["conversation"] for i in window_spec.inputs]
    # The same runs, stored the same way: the prompt the model read, its seed, its key.
    window_runs, cli_runs = runs[window_id], runs[cli_row.id]
    assert len(window_runs) == 3 * 2 and window_runs.keys() == cli_runs.keys()
    for key, run in window_runs.items():
        other = cli_runs[key]
        assert run.status == other.status == "ok", (key, run.error, other.error)
        assert run.rendered_prompt == other.rendered_prompt, key
        assert run.seed == other.seed and run.run_key == other.run_key, key
        row = next(i for i in window_spec.inputs if i.id == key[1])
        assert row.values["conversation"] in (run.rendered_prompt or "")
