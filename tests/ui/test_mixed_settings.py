"""A comparison whose runs were made with different engine settings says so in the window,
once, under the winner sentence. The runs are hand-made with their records."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from playground.comparison import ComparisonSpec, Input, Variant
from playground.events import Result
from playground.runs.runner import make_scorer
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.ui.actions import open_comparison_from_history
from ui.main_window import MainWindow

TEMPLATE = "Translate to French: {{ text }}"
ROWS = [("Good morning", "Bonjour"), ("Thank you", "Merci"), ("Goodbye", "Au revoir")]


@pytest.fixture
def mixed_comparison(isolated_profile: Path) -> int:
    variants = tuple(Variant(name, "translate", TEMPLATE, SamplingParams(temperature=0.0),
                             "/models/hand.gguf") for name in ("fa-on", "fa-off"))
    inputs = tuple(Input(f"row-{i}", {"text": t}, (ref,)) for i, (t, ref) in enumerate(ROWS))
    spec = ComparisonSpec("Flash attention check", variants, inputs)
    score = make_scorer(spec.metrics, spec.language)
    with Store(isolated_profile / "history.db") as store:
        cid = store.save_comparison(spec)
        variant_ids, input_ids = store.variant_ids(cid), store.input_ids(cid)
        for variant in variants:
            record = {"backend": "local", "cpu_path": "AVX2", "n_threads": 2,
                      "flash_attn": variant.name == "fa-on"}
            for item, (_, reference) in zip(inputs, ROWS, strict=True):
                result = Result(
                    text=reference, finish_reason="stop", prompt_tokens=8, completion_tokens=3,
                    ttft_s=0.01, tokens_per_second=50.0, total_s=0.1, rendered_prompt=TEMPLATE,
                    params=SamplingParams(temperature=0.0),
                    model={"name": "Hand", "path": "/models/hand.gguf"}, record=record)
                store.save_run(comparison_id=cid, variant_id=variant_ids[variant.name],
                               input_id=input_ids[item.id], sample=0, seed=1,
                               run_key=f"{variant.name}-{item.id}", result=result, status="ok",
                               error=None, scores=score(reference, [reference]))
        store.set_status(cid, "done")
    return cid


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
