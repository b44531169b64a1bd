"""`playground show` and `export` say what the window says, from the same core functions: the
winner sentence, the too-few-inputs note, labelled columns on 0–1 and the method."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from playground.cli import main
from playground.comparison import Input
from playground.evaluation.summary import method_note, too_few_inputs_note, winner_sentence
from playground.runs.history import stored_report
from playground.storage.store import Store
from tests.ui.hand_made import save_hand_comparison

REFERENCES = ["Ann and Bo meet for lunch at noon.", "Di takes the bus as the train is late.",
              "Fay sent the report this morning.", "The shop is open until six today.",
              "Jo will feed the cat after work."]


def test_show_and_export_say_the_core_sentences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "history.db"
    inputs = [Input(f"row-{i}", {"text": f"dialogue {i}"}, (ref,))
              for i, ref in enumerate(REFERENCES)]
    cid = save_hand_comparison(
        db, "Five inputs", "Summarize: {{ text }}", ("gist", "copy"), inputs,
        lambda variant, item: item.references[0] if variant == "copy"
        else " ".join(item.references[0].split()[:3]))
    with Store(db) as store:
        report = stored_report(store, cid)
    sentence, note = winner_sentence(report), too_few_inputs_note(report)
    assert sentence.startswith("copy scored highest on ROUGE-L (1.000 vs ")
    assert note is not None and note.startswith("Too few inputs: 5 inputs; about ")

    assert main(["show", str(cid), "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert f"\n{sentence}\n" in shown
    assert f"**{note}**" in shown
    assert "| BLEU (mean [95 % interval], 0–1) |" in shown
    assert "| p (paired test) | Holm-adjusted p | significantly better |" in shown
    assert f"## Method\n\n{method_note(report)}" in shown

    assert main(["export", str(cid), "-f", "html", "--db", str(db)]) == 0
    page = capsys.readouterr().out
    assert f"<p>{html.escape(sentence)}</p>" in page
    assert html.escape(method_note(report)) in page
