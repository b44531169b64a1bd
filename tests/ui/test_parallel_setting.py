"""The Models tab's "Parallel runs" load setting: typed in, it is the model's load setting for
the next load (comparisons then decode that many runs at once) and the memory estimate counts
the KV cache of every sequence."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.ui.actions import click_tab, type_over
from ui.context import AppContext
from ui.main_window import MainWindow


def test_parallel_runs_are_a_load_setting_counted_in_the_memory_estimate(
    qtbot: QtBot, context: AppContext, laptop: MainWindow
) -> None:
    click_tab(qtbot, laptop, laptop.models)
    view = laptop.models
    qtbot.waitUntil(lambda: not view.listing, timeout=10000)
    key = context.hub.current
    spin = view.settings_box.parallel_spin
    assert spin.value() == 1 and context.hub.options_for(key).parallel == 1
    one = view.memory_label.text()

    type_over(qtbot, spin, "4")
    qtbot.waitUntil(lambda: context.hub.options_for(key).parallel == 4, timeout=5000)
    four = view.memory_label.text()
    assert "4 × " in four and "4 × " not in one
    assert four != one

    type_over(qtbot, spin, "1")
    qtbot.waitUntil(lambda: context.hub.options_for(key).parallel == 1, timeout=5000)
    assert view.memory_label.text() == one
