"""A comparison whose runs were made with different engine settings says so in the window,
once, under the winner sentence. The runs are hand-made with their records."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from playground.comparison import Input
from tests.ui.actions import open_comparison_from_history
from tests.ui.hand_made import save_hand_comparison
from ui.main_window import MainWindow

TEMPLATE = "Translate to French: {{ text }}"
ROWS = [("Good morning", "Bonjour"), ("Thank you", "Merci"), ("Goodbye", "Au revoir")]


@pytest.fixture
def mixed_comparison(isolated_profile: Path) -> int:
    inputs = [Input(f"row-{i}", {"text": t}, (ref,)) for i, (t, ref) in enumerate(ROWS)]
    return save_hand_comparison(
        isolated_profile / "history.db", "Flash attention check", TEMPLATE, ("fa-on", "fa-off"),
        inputs, lambda _, item: item.references[0],
        record=lambda variant: {"backend": "local", "cpu_path": "AVX2", "n_threads": 2,
                                "flash_attn": variant == "fa-on"})


def test_mixed_engine_settings_are_named_under_the_winner_sentence(
    qtbot: QtBot, mixed_comparison: int, window: MainWindow
) -> None:
    window.resize(1366, 768)
    open_comparison_from_history(qtbot, window, mixed_comparison)
    compare = window.compare
    qtbot.waitUntil(lambda: "made the same way" in compare.winner_label.text(), timeout=10000)
    text = compare.winner_label.text()
    assert text.count("These runs were not all made the same way") == 1
    assert "flash attention (off in 3 runs, on in 3 runs)" in text
    assert "threads" not in text  # the same everywhere: not a difference
