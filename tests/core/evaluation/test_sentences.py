"""The winner sentence, the "too few inputs" note and the method note, on constructed reports:
each case a reader can meet, in plain words, with every number labelled."""

from __future__ import annotations

import csv
import io

from playground.evaluation.exports import export
from playground.evaluation.report import ComparisonReport, ReportRun, build_report
from playground.evaluation.scales import column_label, format_interval, metric_label, shown
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import (
    format_p,
    method_note,
    too_few_inputs_note,
    winner_sentence,
)


def report_of(scores: dict[str, list[float]], metric: str = "rougeL_f",
              status: str = "ok") -> ComparisonReport:
    """Variant → its score on input 0, 1, … (one sample each)."""
    runs = [ReportRun(name, f"in-{i}", 0, 1, status, "p", "o", ("r",),
                      {metric: value if status == "ok" else None})
            for name, values in scores.items() for i, value in enumerate(values)]
    return build_report("made", runs)


FIVE = [0.2, 0.1, 0.3, 0.25, 0.15]


def test_a_clear_winner_says_how_much_higher_and_how_sure() -> None:
    report = report_of({"zero-shot": [0.2 + 0.01 * (i % 7) for i in range(40)],
                        "few-shot": [0.3 + 0.01 * (i % 5) for i in range(40)]})
    p = report.pairs[0][2].p_adjusted
    assert report.winner == "few-shot" and p is not None
    assert winner_sentence(report) == (
        "few-shot scored highest on ROUGE-L (0.320 vs 0.229 for zero-shot) and is significantly "
        f"higher (paired test over 40 inputs, p = {format_p(p)}).")
    assert too_few_inputs_note(report) is None


def test_five_inputs_say_not_significant_and_how_many_would_be_needed() -> None:
    # differences 0.1, 0.3, -0.1, 0.2, 0.0: mean 0.1, sd 0.158 → 22 inputs (test_power)
    report = report_of({"zero-shot": FIVE,
                        "few-shot": [v + d for v, d in zip(FIVE, (0.1, 0.3, -0.1, 0.2, 0.0),
                                                           strict=True)]})
    p = report.pairs[0][2].p_value
    assert report.winner is None and p >= 2 / 2**5  # five inputs can never reach 0.05
    assert winner_sentence(report) == (
        "few-shot scored highest on ROUGE-L (0.300 vs 0.200 for zero-shot); with 5 inputs the "
        f"difference is not significant (p = {format_p(p)}) — about 22 inputs would be needed "
        "to detect a difference this size.")
    assert too_few_inputs_note(report) == (
        "Too few inputs: 5 inputs; about 22 would be needed to detect a difference this size "
        "(80 % power at α = 0.05).")


def test_three_variants_name_the_holm_adjustment() -> None:
    base = [0.1 + 0.01 * (i % 6) for i in range(30)]
    report = report_of({"a": base, "b": [v + 0.2 for v in base], "c": [v + 0.5 for v in base]})
    assert report.winner == "c"
    sentence = winner_sentence(report)
    assert sentence.startswith("c scored highest on ROUGE-L (0.625 vs 0.325 for b) and is "
                               "significantly higher than every other variant (paired tests "
                               "over 30 inputs, Holm-adjusted p ")
    worst = max(r.p_adjusted or 1.0 for a, b, r in report.pairs if "c" in (a, b))
    assert sentence.endswith("p < 0.001).") if worst < 0.001 else \
        sentence.endswith(f"p ≤ {format_p(worst)}).")


def test_ties_one_variant_and_nothing_to_score_each_get_a_sentence() -> None:
    tied = report_of({"a": FIVE, "b": list(FIVE)})
    assert winner_sentence(tied) == ("a and b tie for the highest ROUGE-L (0.200 each, equal at "
                                     "the digits shown), so this metric does not separate them.")
    assert too_few_inputs_note(tied) is None
    one = report_of({"only": FIVE})
    assert winner_sentence(one) == ("only scored 0.200 on ROUGE-L (0–1) over 5 inputs; add a "
                                    "second variant to compare.")
    unreferenced = build_report("x", [ReportRun("a", "in", 0, 1, "ok", "p", "o", (), {})])
    assert winner_sentence(unreferenced) == ("No scores: the inputs have no reference to compare "
                                             "the outputs with.")
    failed = report_of({"a": FIVE, "b": FIVE}, status="failed")
    assert winner_sentence(failed) == "No scores: every run failed."
    assert winner_sentence(build_report("empty", [])) == "No runs yet: nothing to compare."


def test_one_input_cannot_decide() -> None:
    report = report_of({"a": [0.4], "b": [0.2]})
    assert winner_sentence(report) == (
        "a scored highest on ROUGE-L (0.400 vs 0.200 for b); one input cannot show a "
        "significant difference — run the variants over a dataset.")
    note = too_few_inputs_note(report)
    assert note is not None and "at least 6 inputs" in note


def test_lower_is_better_says_lowest() -> None:
    report = report_of({"a": [4.0, 5.0, 6.0], "b": [8.0, 9.5, 10.0]}, metric="ref_ppl")
    assert winner_sentence(report).startswith(
        "a scored lowest on reference perplexity (5.000 vs 9.167 for b; lower is better); with "
        "3 inputs the difference is not significant")


def test_the_method_note_names_test_adjustment_intervals_power_and_scale() -> None:
    base = [0.1 + 0.01 * (i % 6) for i in range(10)]
    report = report_of({"a": base, "b": base[::-1], "c": [v + 0.1 for v in base]})
    note = method_note(report)
    for words in ("paired permutation test", "Holm-adjusted", "3 pairs", "percentile bootstrap",
                  "80 % power at α = 0.05", "Guenther", "at least 6 inputs", "divided by 100"):
        assert words in note, words
    assert "Holm" not in method_note(report_of({"a": base, "b": base[::-1]}))


def test_one_scale_per_table_for_display_only() -> None:
    assert shown("bleu", 25.0) == 0.25 and shown("chrf", 50.0) == 0.5
    assert shown("rougeL_f", 0.25) == 0.25 and shown("ref_ppl", 4.0) == 4.0
    assert column_label("rougeL_f") == "ROUGE-L (mean, 0–1)"
    assert column_label("rougeL") == "ROUGE-L (mean, 0–1)"  # the window's short name
    assert column_label("bleu") == "BLEU (mean, 0–1)"
    assert column_label("ref_ppl") == "reference perplexity (mean, lower is better)"
    assert metric_label("made_up_metric") == "made up metric"
    assert format_interval("chrf", Estimate(40.0, 38.04, 42.5, 5)) == "0.380–0.425"
    runs = [ReportRun(v, f"in-{i}", 0, 1, "ok", "p", "o", ("r",),
                      {"bleu": 20.0 + i + (5 if v == "b" else 0), "rougeL_f": 0.2})
            for v in "ab" for i in range(3)]
    report = build_report("scale", runs)
    markdown = export(report, "md")
    assert "| BLEU (mean [95 % interval], 0–1) |" in markdown
    assert "0.260 [" in markdown and "26.0" not in markdown.partition("## Outputs")[0]
    # files keep sacreBLEU's stored values and field names
    rows = list(csv.DictReader(io.StringIO(export(report, "csv"))))
    assert [float(r["bleu"]) for r in rows] == [20.0, 21.0, 22.0, 25.0, 26.0, 27.0]
