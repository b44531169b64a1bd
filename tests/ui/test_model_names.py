"""A model goes by one name in every tab: the Playground's chooser, the Compare columns, the
Models list and details, and a run reopened from the History. The window is driven as a person
would, at 1366×768."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot

from playground.engine.endpoints import Endpoint, save_endpoint
from playground.engine.gguf import read_gguf
from playground.engine.models import catalog_entry
from playground.runs.single_run import SingleRun
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.gguf_factory import valid_builder
from tests.ui.actions import click_tab, double_click_history_row, history_row
from tests.ui.hand_made import save_greeting_run
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.services.model_list import ADDED_KEY
from ui.widgets.item_models import ModelTableModel

SOURCE = "Say hello to {{ who }}."


@pytest.fixture
def tiny_model(tmp_path: Path, settings: QSettings) -> Path:
    """A valid GGUF header added in an earlier session; its header names it "Tiny Test Model"
    and the catalog does not know it."""
    path = tmp_path / "tiny-test.gguf"
    path.write_bytes(valid_builder().build())
    settings.setValue(ADDED_KEY, [str(path)])
    return path


@pytest.fixture
def window(qtbot: QtBot, context: AppContext, tiny_model: Path) -> Iterator[MainWindow]:
    """The window at a common laptop size with a file added and an endpoint saved earlier,
    once the model lists have been read."""
    save_endpoint(Endpoint("lab", "http://127.0.0.1:9/v1", "served-model", None))
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: context.tasks.running == 0, timeout=20000)
    yield win
    win.close()


def combo_names(combo: QComboBox) -> dict[str, str]:
    return {str(combo.itemData(i)): combo.itemText(i) for i in range(combo.count())}


def test_every_tab_calls_each_model_by_the_same_name(
    qtbot: QtBot, window: MainWindow, context: AppContext, default_model_path: Path,
    tiny_model: Path,
) -> None:
    catalog = catalog_entry(default_model_path)
    assert catalog is not None
    header_name = read_gguf(default_model_path).name
    assert header_name and header_name != catalog["name"]  # the two names the issue saw
    expected = {str(default_model_path): catalog["name"], str(tiny_model): "tiny-test",
                "remote:lab": "remote:lab"}

    playground = window.playground
    assert window.tabs.currentWidget() is playground
    assert playground.model_combo.isVisible()
    assert combo_names(playground.model_combo) == expected
    assert playground.model_combo.currentText() == catalog["name"]

    click_tab(qtbot, window, window.models)
    models = window.models
    qtbot.waitUntil(lambda: not models.listing, timeout=20000)
    table = models.model
    listed = {table.entry(r).key: str(table.data(table.index(r, ModelTableModel.NAME)))
              for r in range(table.rowCount())}
    assert listed == expected
    for key, name, in_file in ((str(tiny_model), "tiny-test", "Tiny Test Model"),
                               (str(default_model_path), catalog["name"], header_name)):
        row = table.row_of(key)
        assert row is not None
        rect = models.table.visualRect(table.index(row, ModelTableModel.NAME))
        qtbot.mouseClick(models.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert models.selected_key() == key
        qtbot.waitUntil(lambda: models.detail_labels["layers"].text() != "", timeout=10000)
        assert models.detail_labels["display"].text() == name
        assert models.detail_labels["name"].text() == in_file

    click_tab(qtbot, window, window.compare)
    qtbot.waitUntil(lambda: context.tasks.running == 0, timeout=20000)
    columns = window.compare.columns
    assert columns
    for column in columns:
        assert combo_names(column.model_combo) == expected
        assert column.model_combo.currentText() == catalog["name"]


def test_a_run_reopened_from_the_history_names_its_model_as_the_chooser_does(
    qtbot: QtBot, context: AppContext, default_model_path: Path,
) -> None:
    setup = SingleRun("greeting", SOURCE, str(default_model_path),
                      SamplingParams(temperature=0, max_tokens=8), {"who": "Ada"})
    model = {"name": read_gguf(default_model_path).name, "path": str(default_model_path)}
    comparison_id = save_greeting_run(context.db_path, setup, model)
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    try:
        row = history_row(qtbot, win, comparison_id)
        double_click_history_row(qtbot, win, row)
        playground = win.playground
        qtbot.waitUntil(lambda: playground.output.toPlainText() == "Hello, Ada.", timeout=10000)
        assert win.tabs.currentWidget() is playground
        status = playground.status_label.text()
        name = playground.model_combo.currentText()
        with Store(context.db_path) as store:
            label = store.comparison(comparison_id).label
        assert label.startswith("Run ") and status.startswith(f"{label}, made today ")
        assert f"model {name}" in status and name == catalog_entry(default_model_path)["name"]
        assert playground.editor.toPlainText() == SOURCE
        assert playground.variables.values()["who"] == "Ada"
        assert playground.params.params().seed == 77
    finally:
        qtbot.waitUntil(lambda: context.tasks.running == 0, timeout=20000)
        win.close()
