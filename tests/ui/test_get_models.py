"""The Models tab's Get models page, used as a person uses it at 1366x768 against a local fake of
the Hugging Face hub: search, a repository's files with fits / tight, a download watched and
cancelled on a slow server, resumed to a checked model that the list offers, a gated
repository's HF_TOKEN advice, and Remove freeing the file. No test here reaches the internet:
``HF_ENDPOINT`` points at the fake hub in every one."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from playground.engine import hub, models
from playground.engine.memory import format_bytes
from tests.core.engine.test_hub import tiny_model
from tests.fake_hub import FakeHub, serve
from tests.ui.actions import click, click_cell, click_page, click_tab, type_over
from ui.main_window import MainWindow
from ui.views.models.get_models_panel import FIT, FIT_COLOURS, GetModelsPanel
from ui.widgets.item_models import ModelTableModel

REPO = "test-org/Tiny-GGUF"
GATED = "gated-org/Gated-GGUF"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = serve(tmp_path, monkeypatch)
    assert os.environ["HF_ENDPOINT"] == server.url.rstrip("/")
    server.add_file(REPO, "Tiny-Q4_K_M.gguf", tiny_model(tmp_path, "small.gguf", pad=64))
    server.add_file(REPO, "Tiny-Q8_0.gguf", tiny_model(tmp_path, "big.gguf", pad=3072))
    server.add_file(GATED, "Gated-Q4_K_M.gguf", tmp_path / "small.gguf")
    server.repos[GATED].gated = True
    yield server
    server.stop()


def open_page(qtbot: QtBot, window: MainWindow) -> GetModelsPanel:
    window.resize(1366, 768)
    click_tab(qtbot, window, window.models)
    panel = window.models.get_models
    with qtbot.waitSignal(panel.results_shown, timeout=10000):
        click_page(qtbot, window.models.pages, "Get models")
    return panel


def search(qtbot: QtBot, panel: GetModelsPanel, words: str) -> list[str]:
    with qtbot.waitSignal(panel.results_shown, timeout=10000):
        type_over(qtbot, panel.search_field, words)
        QTest.keyClick(panel.search_field, Qt.Key.Key_Return)
    return [panel.results.item(i).text() for i in range(panel.results.count())]


def open_repo(qtbot: QtBot, panel: GetModelsPanel, repo_id: str) -> None:
    rows = [panel.results.item(i).text() for i in range(panel.results.count())]
    with qtbot.waitSignal(panel.files_shown, timeout=20000):
        click_cell(qtbot, panel.results, panel.results.model().index(rows.index(repo_id), 0))


def file_rows(panel: GetModelsPanel) -> list[list[str]]:
    table = panel.table
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def listed_models(window: MainWindow) -> list[tuple[str, str, str | None]]:
    table = window.models.model
    return [(str(table.data(table.index(r, ModelTableModel.NAME))),
             str(table.data(table.index(r, ModelTableModel.SOURCE))), table.entry(r).path)
            for r in range(table.rowCount())]


def test_search_judge_download_cancel_resume_use_and_remove(
    qtbot: QtBot, fake: FakeHub, window: MainWindow
) -> None:
    panel = open_page(qtbot, window)
    recommended = [panel.results.item(i).text() for i in range(panel.results.count())]
    assert len(recommended) >= 10 and "Recommended" in panel.results_label.text()
    assert fake.requests == []  # the recommended list is the app's own: nothing was asked yet

    assert search(qtbot, panel, "tiny") == [REPO]
    # Memory between the two files' needs: the small one fits, the big one is tight.
    needs = {a.file.filename: a.estimate.cpu_bytes
             for a in hub.assess_files(hub.list_gguf_files(REPO), 4096, available=1 << 40)
             if a.estimate}
    panel.available_memory = lambda: needs["Tiny-Q8_0.gguf"]
    open_repo(qtbot, panel, REPO)
    rows = file_rows(panel)
    served = fake.repos[REPO].files
    size = {name: format_bytes(f.length) for name, f in served.items()}
    assert [r[1:3] for r in rows] == [["Q4_K_M", size["Tiny-Q4_K_M.gguf"]],
                                      ["Q8_0", size["Tiny-Q8_0.gguf"]]]
    assert rows[0][0] == "★ Tiny-Q4_K_M.gguf" and rows[1][0] == "Tiny-Q8_0.gguf"
    assert [r[FIT] for r in rows] == ["fits", "tight"]
    tight = panel.table.item(1, FIT)
    assert tight.foreground().color() == QColor(FIT_COLOURS["tight"])
    assert tight.foreground().color() != panel.table.item(0, FIT).foreground().color()
    assert re.search(r"100% of the .* available now: over 80 %", tight.toolTip())
    assert "Recommended (★): Tiny-Q4_K_M.gguf" in panel.memory_label.text()

    # A slow server: the download shows bytes and speed, and Cancel stops it.
    big = served["Tiny-Q8_0.gguf"]
    big.delay = 0.2
    click_cell(qtbot, panel.table, panel.table.model().index(1, 0))
    click(qtbot, panel.download_button)
    [row] = panel.rows
    moving = re.compile(rf"iB of {re.escape(size['Tiny-Q8_0.gguf'])}, .*/s")
    qtbot.waitUntil(lambda: moving.search(row.status_label.text()) is not None, timeout=20000)
    assert 0 < row.bar.value() < row.bar.maximum()
    assert not panel.download_button.isEnabled()  # one download of a file at a time
    click(qtbot, row.cancel_button)  # how fast a cancel stops is the core's test to time
    qtbot.waitUntil(lambda: not row.running, timeout=10000)
    assert "Stopped:" in row.status_label.text() and "resumes" in row.status_label.text()

    # The partial file is not a model.
    click_page(qtbot, window.models.pages, "On this computer")
    with qtbot.waitSignal(window.models.models_listed, timeout=10000):
        click(qtbot, window.models.refresh_button)
    assert not [m for m in listed_models(window) if "Tiny-Q8_0" in (m[2] or "")]

    # Download again: it resumes, is checked, and the list offers it.
    big.delay = 0.0
    click_page(qtbot, window.models.pages, "Get models")
    with qtbot.waitSignal(window.models.models_listed, timeout=30000):
        click(qtbot, panel.download_button)
    [row] = panel.rows
    assert row.status_label.text().startswith("done (SHA-256 checked)")
    last_get = fake.resolve_requests("GET")[-1][2]
    assert last_get.startswith("bytes=") and not last_get.startswith("bytes=0-")
    target = models.user_models_dir() / "Tiny-Q8_0.gguf"
    assert target.is_file()
    click_page(qtbot, window.models.pages, "On this computer")
    view = window.models
    [(name, source, _path)] = [m for m in listed_models(window) if m[2] == str(target)]
    assert source != "added" and name
    row_index = view.model.row_of(str(target))
    assert row_index is not None
    click_cell(qtbot, view.table, view.model.index(row_index, ModelTableModel.NAME))
    click(qtbot, view.use_button)
    assert window.context.hub.current == str(target)

    # Remove frees the file and it leaves the list.
    click_page(qtbot, window.models.pages, "Get models")
    qtbot.waitUntil(lambda: panel.downloaded_list.count() == 1, timeout=10000)
    assert panel.downloaded_list.item(0).text() == f"Tiny-Q8_0 ({size['Tiny-Q8_0.gguf']})"
    click_cell(qtbot, panel.downloaded_list, panel.downloaded_list.model().index(0, 0))
    with qtbot.waitSignal(view.models_listed, timeout=10000):
        click(qtbot, panel.remove_button)
    assert panel.remove_label.text() == f"Removed Tiny-Q8_0: freed {size['Tiny-Q8_0.gguf']}"
    assert not target.exists()
    assert not [m for m in listed_models(window) if m[2] == str(target)]
    qtbot.waitUntil(lambda: panel.downloaded_list.count() == 0, timeout=10000)


def test_a_gated_repository_says_to_set_hf_token(
    qtbot: QtBot, fake: FakeHub, window: MainWindow
) -> None:
    panel = open_page(qtbot, window)
    assert search(qtbot, panel, "gated") == [GATED]
    open_repo(qtbot, panel, GATED)
    assert "HF_TOKEN" in panel.message_label.text() and "gated" in panel.message_label.text()
    [row] = file_rows(panel)
    assert row[0].endswith("Gated-Q4_K_M.gguf") and row[FIT] == "?"
    assert "HF_TOKEN" in panel.table.item(0, FIT).toolTip()


def test_offline_mode_and_a_missing_repository_are_said_plainly(
    qtbot: QtBot, fake: FakeHub, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    panel = open_page(qtbot, window)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert search(qtbot, panel, "tiny") == []
    assert "offline mode is on" in panel.results_label.text()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    fake.stop()
    assert search(qtbot, panel, "tiny") == []
    assert "could not reach" in panel.results_label.text()


def test_the_page_fits_a_1024_by_700_window(qtbot: QtBot, fake: FakeHub,
                                            window: MainWindow) -> None:
    panel = open_page(qtbot, window)
    window.resize(1024, 700)
    assert search(qtbot, panel, "tiny") == [REPO]
    open_repo(qtbot, panel, REPO)
    qtbot.waitUntil(lambda: window.width() <= 1024 and window.height() <= 700, timeout=2000)
    for widget in (panel.search_button, panel.download_button, panel.remove_button,
                   panel.destination, panel.ctx_spin, panel.table, panel.downloaded_list):
        corner = widget.mapTo(window, widget.rect().bottomRight())
        assert widget.isVisible() and window.rect().contains(corner), widget
    assert panel.table.height() >= 120  # room for a few files
