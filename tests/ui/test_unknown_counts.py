"""A count the backend could not report (a server that sends no usage) is shown as "?" in
History and in the Playground it reopens into, never as 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from playground.comparison import ComparisonSpec, Input, Variant
from playground.events import Result
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.ui.actions import click
from ui.main_window import MainWindow

TEMPLATE = "Say hello to {{ name }}."


@pytest.fixture
def remote_run(isolated_profile: Path) -> int:
    """A saved Playground run of a remote model whose server sent no usage."""
    variant = Variant("greeting", "greeting", TEMPLATE, SamplingParams(seed=5), "remote:quiet")
    spec = ComparisonSpec("Playground: greeting", (variant,), (Input("input", {"name": "Ada"}),),
                          metrics=(), kind="run")
    result = Result(text="Hello, Ada!", finish_reason="stop", prompt_tokens=None,
                    completion_tokens=4, ttft_s=0.05, tokens_per_second=30.0, total_s=0.2,
                    rendered_prompt="Say hello to Ada.", params=SamplingParams(seed=5),
                    model={"name": "fake-model", "backend": "remote", "endpoint": "quiet"})
    with Store(isolated_profile / "history.db") as store:
        cid = store.save_comparison(spec)
        run_id = store.save_run(comparison_id=cid, variant_id=store.variant_ids(cid)["greeting"],
                                input_id=store.input_ids(cid)["input"], sample=0, seed=5,
                                run_key="k", result=result, status="ok", error=None)
        store.set_status(cid, "done")
    return run_id


def test_an_unknown_prompt_count_shows_as_a_question_mark(
    qtbot: QtBot, remote_run: int, window: MainWindow
) -> None:
    window.resize(1366, 768)
    history, playground = window.history, window.playground
    tabs = window.tabs.tabBar()
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton,
                     pos=tabs.tabRect(window.tabs.indexOf(history)).center())
    click(qtbot, history.kind_buttons["run"])
    qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=10000)
    rect = history.table.visualRect(history.model.index(0, 1))
    qtbot.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: f"run id {remote_run}" in history.run_label.text(), timeout=10000)
    details = history.run_label.text()
    assert "4 tokens · prompt ? tokens" in details and "prompt 0" not in details

    qtbot.mouseClick(history.open_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is playground
    qtbot.waitUntil(lambda: playground.status_label.text().startswith("Run 1, made "),
                    timeout=10000)
    status = playground.status_label.text()
    assert "prompt ? tokens" in status and "prompt 0" not in status
