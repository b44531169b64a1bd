"""What a reader is told about a comparison: the report in setup order, the estimates shown,
best marks with ties, p against the best, the winner sentence and run names."""

from __future__ import annotations

import pytest

from playground.comparison import ComparisonSpec, Input, Variant
from playground.evaluation.report import ReportRun, build_report
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import (
    BASE_METRICS,
    TIE,
    best_marks,
    display_metrics,
    format_estimate,
    format_p,
    p_against_best,
    p_against_best_tip,
    run_label,
    shown_estimates,
    spec_report,
    winner_sentence,
)
from playground.sampling import SamplingParams


def variant(name: str) -> Variant:
    return Variant(name, name, "{{ text }}", SamplingParams(), "")


def spec(names: tuple[str, ...], n_inputs: int, samples: int = 1,
         metrics: tuple[str, ...] = ("rougeL",)) -> ComparisonSpec:
    inputs = tuple(Input(f"row-{i}", {"text": str(i)}) for i in range(1, n_inputs + 1))
    return ComparisonSpec("s", tuple(variant(n) for n in names), inputs, samples=samples,
                          metrics=metrics)


def run(name: str, input_id: str, sample: int, score: float | None,
        status: str = "ok") -> ReportRun:
    return ReportRun(name, input_id, sample, 1234 + sample, status, "p", "o", ("r",),
                     {"rougeL_f": score})


def test_the_report_lists_variants_and_runs_in_setup_order() -> None:
    comparison = spec(("b", "a"), 2)
    # saved in prompt order: a first
    runs = [run("a", "row-2", 0, 0.2), run("a", "row-1", 0, 0.1), run("b", "row-2", 0, 0.4),
            run("b", "row-1", 0, 0.3)]
    report = spec_report(comparison, runs)
    assert [v.name for v in report.variants] == ["b", "a"]
    assert [(r.variant, r.input_id) for r in report.runs] == [
        ("b", "row-1"), ("b", "row-2"), ("a", "row-1"), ("a", "row-2")]
    doubtful = [ReportRun("a", "row-1", 0, 1, "ok", "p", "o", ("r",),
                          {"rougeL_f": 0.1, "mean_logprob": -2.0})]
    flagged = spec_report(comparison, doubtful, low_confidence_below=-1.0)
    assert flagged.variants[0].low_confidence == 1
    assert spec_report(comparison, doubtful, low_confidence_below=-3.0).variants[0] \
        .low_confidence == 0


def test_on_one_input_the_interval_is_over_its_samples() -> None:
    one = spec(("a", "b"), 1, samples=3)
    runs = [run("a", "row-1", k, v) for k, v in enumerate((0.1, 0.3, 0.5))]
    runs += [run("b", "row-1", k, 0.2) for k in range(3)]
    report = spec_report(one, runs)
    shown = shown_estimates(one, report)
    a = shown["a"]["rougeL_f"]
    assert a is not None and a.n == 3 and a.mean == pytest.approx(0.3)
    assert a.low < a.mean < a.high  # spread over the samples
    # the report's own interval has one input to spread over
    own = report.variants[0].metrics["rougeL_f"]
    assert own is not None and own.n == 1
    many = spec(("a", "b"), 3)
    report = spec_report(many, [run(n, f"row-{i}", 0, 0.1 * i) for n in "ab" for i in (1, 2, 3)])
    assert shown_estimates(many, report) == {v.name: dict(v.metrics) for v in report.variants}


def test_best_marks_star_the_highest_and_tie_equal_means_at_the_digits_shown() -> None:
    def est(mean: float) -> Estimate:
        return Estimate(mean, mean, mean, 2)

    marks = best_marks({"a": {"rougeL": est(0.3001), "bleu": est(10.0)},
                        "b": {"rougeL": est(0.3004), "bleu": est(12.0)},
                        "c": {"rougeL": est(0.1), "bleu": None}}, ["rougeL", "bleu"])
    assert marks["a"] == (frozenset({"rougeL"}), frozenset({"rougeL"}))
    assert marks["b"] == (frozenset({"rougeL", "bleu"}), frozenset({"rougeL"}))
    assert marks["c"] == (frozenset(), frozenset())
    assert best_marks({"a": {"rougeL": est(0.5)}}, ["rougeL"]) == {
        "a": (frozenset(), frozenset())}  # one variant: nothing to be best against


def test_p_against_the_best_and_the_winner_sentence() -> None:
    comparison = spec(("high", "low"), 8)
    runs = [run("high", f"row-{i}", 0, 0.8 + 0.01 * i) for i in range(1, 9)]
    runs += [run("low", f"row-{i}", 0, 0.1 + 0.01 * i) for i in range(1, 9)]
    report = spec_report(comparison, runs)
    assert report.winner == "high"
    assert p_against_best(report, "high") == "best"
    pair = report.pairs[0][2]
    # the cell is the Holm-adjusted p alone; its header says so, the tooltip adds the raw one
    assert p_against_best(report, "low") == format_p(pair.p_adjusted or 1.0)
    assert float(p_against_best(report, "low")) < 0.05
    assert f"p = {format_p(pair.p_value)}" in p_against_best_tip(report, "low")
    assert winner_sentence(report) == (
        "high scored highest on ROUGE-L (0.845 vs 0.145 for low) and is significantly higher "
        f"(paired test over 8 inputs, p = {format_p(pair.p_adjusted or 1.0)}).")
    tied = spec_report(comparison, [run(n, f"row-{i}", 0, 0.5) for n in ("high", "low")
                                    for i in range(1, 9)])
    assert p_against_best(tied, "low") == "best" + TIE
    assert winner_sentence(tied).startswith("high and low tie for the highest ROUGE-L (0.500 each")
    single = spec(("a", "b"), 1)
    one = spec_report(single, [run("a", "row-1", 0, 0.4), run("b", "row-1", 0, 0.2)])
    assert "one input cannot show a significant difference" in winner_sentence(one)
    unscored = build_report("s", [run("a", "row-1", 0, None)])
    assert winner_sentence(unscored).startswith("No scores")


def test_runs_and_metrics_are_named_for_a_reader() -> None:
    assert run_label(spec(("a",), 1, samples=2), "row-1", 0) == "sample 1"
    assert run_label(spec(("a",), 3), "row-2", 0) == "row-2"
    assert run_label(spec(("a",), 3, samples=2), "row-2", 1) == "row-2 · sample 2"
    assert display_metrics(spec(("a",), 1)) == list(BASE_METRICS)
    assert display_metrics(spec(("a",), 1, metrics=("rougeL", "accuracy"))) == [
        *BASE_METRICS, "accuracy"]
    assert format_estimate("rougeL", Estimate(0.41234, 0.4, 0.45, 3), spread=False) == "0.412"
    assert format_estimate("rougeL", Estimate(0.41234, 0.4, 0.45, 3), spread=True) == \
        "0.412 ± 0.038"
    # BLEU is stored on sacreBLEU's 0–100 and shown on 0–1, like every table's metrics
    assert format_estimate("bleu", Estimate(12.345, 11.0, 13.0, 3), spread=False) == "0.123"
    assert format_estimate("bleu", Estimate(12.345, 11.0, 13.0, 3), spread=True) == \
        "0.123 ± 0.013"
    assert format_estimate("bleu", None, spread=False) == "N/A"
