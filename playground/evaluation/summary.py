"""What a reader is told about a comparison: the report of its runs in the variants' order, the
estimate shown per variant and metric, which variants are marked best, the winner sentence and
how runs and metrics are named.

Plain rules on a :class:`~playground.evaluation.report.ComparisonReport`, kept out of the window
so every face that summarises a comparison says the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from playground.comparison import ComparisonSpec
from playground.evaluation.report import (
    LOW_CONFIDENCE,
    ComparisonReport,
    ReportRun,
    and_list,
    build_report,
    leaders,
    mean_digits,
)
from playground.evaluation.stats import Estimate, bootstrap_ci

#: Stored score names of the short metric names a variant's scores are shown under.
SCORE_NAMES = {"rouge1": "rouge1_f", "rouge2": "rouge2_f", "rougeL": "rougeL_f",
               "bleu": "bleu", "chrf": "chrf", "accuracy": "accuracy",
               "exact_match": "exact_match", "token_f1": "token_f1", "entity_f1": "entity_f1"}
#: Shown for every comparison.
BASE_METRICS = ("rouge1", "rouge2", "rougeL", "bleu", "chrf")
#: Shown beside the base metrics when a template's task has one.
TASK_DISPLAY_METRICS = ("accuracy", "exact_match", "token_f1", "entity_f1")
#: Before a best score, and after one that other variants share (equal at the digits shown).
STAR = "★"
TIE = " · tie"

Estimates = Mapping[str, Mapping[str, Estimate | None]]


def display_metrics(spec: ComparisonSpec) -> list[str]:
    """The short metric names shown for a comparison: the base ones and its task metrics."""
    return [*BASE_METRICS, *(m for m in TASK_DISPLAY_METRICS if m in spec.metrics)]


def run_label(spec: ComparisonSpec, input_id: str, sample: int) -> str:
    """How a run is named beside its variant: the sample on a shared input, the row on a
    dataset (samples counted from 1)."""
    if len(spec.inputs) == 1:
        return f"sample {sample + 1}"
    if spec.samples == 1:
        return input_id
    return f"{input_id} · sample {sample + 1}"


def format_estimate(metric: str, estimate: Estimate | None, *, spread: bool) -> str:
    """``0.412`` or, with samples to spread over, ``0.412 ± 0.033`` (the 95% interval's
    half-width, the larger side), with the report's digits: BLEU and chrF are on 0–100 and get
    one decimal."""
    if estimate is None or estimate.n == 0:
        return "N/A"
    digits = mean_digits(SCORE_NAMES.get(metric, metric))
    text = f"{estimate.mean:.{digits}f}"
    if spread:
        half = max(estimate.mean - estimate.low, estimate.high - estimate.mean)
        text += f" ± {half:.{digits}f}"
    return text


def spec_report(
    spec: ComparisonSpec, runs: Sequence[ReportRun], *, low_confidence_below: float = LOW_CONFIDENCE
) -> ComparisonReport:
    """The report of a comparison's runs with the variants in the spec's order (the runner
    saves runs in prompt order), so the report lists them as they were set up."""
    variants = {v.name: n for n, v in enumerate(spec.variants)}
    inputs = {i.id: n for n, i in enumerate(spec.inputs)}
    ordered = sorted(runs, key=lambda r: (variants.get(r.variant, len(variants)),
                                          inputs.get(r.input_id, len(inputs)), r.sample))
    return build_report(spec.name, ordered, language=spec.language, sweep=spec.sweep_values(),
                        sweep_param=spec.sweep_param, low_confidence_below=low_confidence_below)


def shown_estimates(
    spec: ComparisonSpec, report: ComparisonReport
) -> dict[str, dict[str, Estimate | None]]:
    """Per variant and stored metric, the estimate shown. Over a dataset: the report's, with
    its interval over inputs. On one shared input the report's interval has a single input to
    spread over, so the interval is over the k samples of that input instead (the mean is the
    same)."""
    if len(spec.inputs) > 1:
        return {v.name: dict(v.metrics) for v in report.variants}
    out: dict[str, dict[str, Estimate | None]] = {}
    for summary in report.variants:
        runs = [r for r in report.runs if r.variant == summary.name and r.status == "ok"]
        out[summary.name] = {
            metric: bootstrap_ci([v for r in runs if (v := r.scores.get(metric)) is not None])
            for metric in report.metrics
        }
    return out


def best_marks(
    estimates: Estimates, metrics: Sequence[str]
) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per variant (``estimates`` by short metric name), the metrics it is best on and those
    of them it ties on (equal at the digits shown, the report's rule); nothing is marked when
    there are fewer than two variants."""
    best: dict[str, set[str]] = {name: set() for name in estimates}
    tied: dict[str, set[str]] = {name: set() for name in estimates}
    if len(estimates) >= 2:
        for metric in metrics:
            means = {name: e.mean for name, scores in estimates.items()
                     if (e := scores.get(metric)) is not None and e.n > 0}
            top = leaders(means, SCORE_NAMES.get(metric, metric))
            for name in top:
                best[name].add(metric)
                if len(top) > 1:
                    tied[name].add(metric)
    return {name: (frozenset(best[name]), frozenset(tied[name])) for name in estimates}


def p_against_best(report: ComparisonReport, name: str) -> str:
    """``p = 0.031 (0.062)``: raw and Holm-adjusted p of the pair (best, ``name``); ``best``
    for the best variant itself."""
    top = report.best(report.primary) if report.primary else ()
    if not top:
        return ""
    if name in top:
        return "best" + (TIE if len(top) > 1 else "")
    for a, b, result in report.pairs:
        if {a, b} == {name, top[0]}:
            adjusted = "" if result.p_adjusted is None else f" ({result.p_adjusted:.3f})"
            return f"p = {result.p_value:.3f}{adjusted}"
    return ""


def winner_sentence(report: ComparisonReport) -> str:
    """One sentence: which variant is best on the primary metric and whether that is a
    finding (significant over the inputs) or only the highest mean."""
    if report.primary is None:
        return "No scores: the input has no reference to compare the outputs with."
    if len(report.variants) < 2:
        return f"One variant; primary metric {report.primary}."
    n_inputs = len({r.input_id for r in report.runs})
    if report.winner:
        return (f"{report.winner} is best on {report.primary}, significantly better than every "
                f"other variant (paired test over {n_inputs} inputs, Holm-adjusted p < 0.05).")
    top = report.best(report.primary)
    why = ("one input cannot show a significant difference; use a dataset"
           if n_inputs < 2 else "Holm-adjusted p ≥ 0.05 for at least one pair")
    if len(top) > 1:
        return (f"{and_list(top)} tie for the highest mean {report.primary} (equal at the "
                f"digits shown), and no variant is significantly better ({why}).")
    return (f"{and_list(top)} has the highest mean {report.primary}, but no variant is "
            f"significantly better ({why}).")
