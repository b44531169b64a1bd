"""What a reader is told about a comparison: the report of its runs in the variants' order, the
estimate shown per variant and metric, which variants are marked best, the winner sentence and
how runs and metrics are named; the method behind those words, for a tooltip or a report.

Plain rules on a :class:`~playground.evaluation.report.ComparisonReport`, kept out of the window
so every face that summarises a comparison says the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from playground.comparison import ComparisonSpec
from playground.evaluation.judge_scores import is_judge_metric
from playground.evaluation.power import ALPHA, POWER, inputs_needed_for, smallest_testable
from playground.evaluation.report import (
    LOW_CONFIDENCE,
    LOWER_IS_BETTER,
    ComparisonReport,
    ReportRun,
    and_list,
    build_report,
    leaders,
)
from playground.evaluation.scales import SCALE_NOTE, format_value, metric_label, unit
from playground.evaluation.stats import (
    INTERVAL_RESAMPLES,
    TEST_RESAMPLES,
    Estimate,
    PairedResult,
    bootstrap_ci,
)

#: Stored score names of the short metric names a variant's scores are shown under.
SCORE_NAMES = {"rouge1": "rouge1_f", "rouge2": "rouge2_f", "rougeL": "rougeL_f",
               "bleu": "bleu", "chrf": "chrf", "accuracy": "accuracy",
               "exact_match": "exact_match", "token_f1": "token_f1", "entity_f1": "entity_f1",
               "json_parses": "json_parses", "schema_valid": "schema_valid",
               "json_exact_match": "json_exact_match", "json_field_f1": "json_field_f1"}
#: Shown for every comparison.
BASE_METRICS = ("rouge1", "rouge2", "rougeL", "bleu", "chrf")
#: Shown beside the base metrics when a template's task has one.
TASK_DISPLAY_METRICS = ("accuracy", "exact_match", "token_f1", "entity_f1", "json_parses",
                        "schema_valid", "json_exact_match", "json_field_f1")
#: Before a best score, and after one that other variants share (equal at the digits shown).
STAR = "★"
TIE = " · tie"

Estimates = Mapping[str, Mapping[str, Estimate | None]]


def display_metrics(spec: ComparisonSpec, scored: Iterable[str] = ()) -> list[str]:
    """The short metric names shown for a comparison: the base ones, its task metrics, and a
    judge's rubric scores (``judge:<criterion>``) among the metrics its runs were ``scored``
    on, which no spec names: a judge scores a comparison after it ran."""
    judged = sorted({m for m in scored if is_judge_metric(m)})
    return [*BASE_METRICS, *(m for m in TASK_DISPLAY_METRICS if m in spec.metrics), *judged]


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
    half-width, the larger side), on the shown scale (BLEU and chrF divided by 100)."""
    if estimate is None or estimate.n == 0:
        return "N/A"
    name = SCORE_NAMES.get(metric, metric)
    text = format_value(name, estimate.mean)
    if spread:
        half = max(estimate.mean - estimate.low, estimate.high - estimate.mean)
        text += f" ± {format_value(name, half)}"
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


def format_p(p: float) -> str:
    """A p-value as a reader sees it: three decimals, ``< 0.001`` below that."""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _adjusted(result: PairedResult) -> float:
    return result.p_value if result.p_adjusted is None else result.p_adjusted


def _pair(report: ComparisonReport, x: str, y: str) -> PairedResult | None:
    return next((r for a, b, r in report.pairs if {a, b} == {x, y}), None)


def _p_name(report: ComparisonReport) -> str:
    """"p" for one pair (Holm changes nothing), "Holm-adjusted p" for several."""
    return "Holm-adjusted p" if len(report.pairs) > 1 else "p"


def _means(report: ComparisonReport, metric: str) -> dict[str, float]:
    return {v.name: e.mean for v in report.variants
            if (e := v.metrics.get(metric)) is not None and e.n}


def _rival(report: ComparisonReport, best: str, means: Mapping[str, float]) -> str | None:
    """The other variant the best one is least clearly ahead of: the largest adjusted p of its
    pairs, then the closest mean."""
    others = [name for name in means if name != best]
    if not others:
        return None

    def weakness(name: str) -> tuple[float, float]:
        pair = _pair(report, best, name)
        return (-1.0 if pair is None else _adjusted(pair), -abs(means[best] - means[name]))

    return max(others, key=weakness)


def _inputs(n: int) -> str:
    return "one input" if n == 1 else f"{n:,} inputs"


def winner_sentence(report: ComparisonReport) -> str:
    """One plain sentence: which variant scored best on the primary metric, by how much, and
    whether that is a finding (significant over the inputs) — and if not, how many inputs it
    would take. The method behind it is :func:`method_note`."""
    if not report.runs or not report.variants:
        return "No runs yet: nothing to compare."
    if report.primary is None:
        if any(r.status == "ok" for r in report.runs):
            return "No scores: the inputs have no reference to compare the outputs with."
        return "No scores: every run failed."
    metric = report.primary
    label = metric_label(metric)
    means = _means(report, metric)
    if len(report.variants) < 2:
        name = report.variants[0].name
        if name not in means:
            return f"{name} has no {label} score: its runs failed or could not be scored."
        n = len({r.input_id for r in report.runs})
        return (f"{name} scored {format_value(metric, means[name])} on {label} "
                f"({unit(metric)}) over {_inputs(n)}; add a second variant to compare.")
    top = report.best(metric)
    if not top:
        return f"No variant has a {label} score: their runs failed or could not be scored."
    if len(top) > 1:
        value = format_value(metric, means[top[0]])
        rest = ("so this metric does not separate them" if len(top) == len(report.variants)
                else "and no variant is significantly better")
        return (f"{and_list(top)} tie for the {_best_word(metric)} {label} ({value} each, equal "
                f"at the digits shown), {rest}.")
    best = top[0]
    rival = _rival(report, best, means)
    if rival is None:
        return (f"{best} is the only variant with a {label} score "
                f"({format_value(metric, means[best])}).")
    head = (f"{best} scored {_best_word(metric)} on {label} ({format_value(metric, means[best])} "
            f"vs {format_value(metric, means[rival])} for {rival}"
            + ("; lower is better" if metric in LOWER_IS_BETTER else "") + ")")
    pair = _pair(report, best, rival)
    if pair is None:
        return head + "."
    n = pair.n_inputs
    if report.winner == best:
        ps = [_adjusted(r) for a, b, r in report.pairs if best in (a, b)]
        direction = "lower" if metric in LOWER_IS_BETTER else "higher"
        if len(report.variants) == 2:
            return (f"{head} and is significantly {direction} (paired test over {_inputs(n)}, "
                    f"p = {format_p(ps[0])}).")
        worst = format_p(max(ps))
        bound = worst if worst.startswith("<") else f"≤ {worst}"
        return (f"{head} and is significantly {direction} than every other variant (paired "
                f"tests over {_inputs(n)}, Holm-adjusted p {bound}).")
    if n < 2:
        return (f"{head}; one input cannot show a significant difference — run the variants "
                "over a dataset.")
    sentence = (f"{head}; with {_inputs(n)} the difference is not significant "
                f"({_p_name(report)} = {format_p(_adjusted(pair))})")
    needed = inputs_needed_for(pair)
    if needed is not None and needed > n:
        sentence += (f" — about {_inputs(needed)} would be needed to detect a difference this "
                     "size")
    return sentence + "."


def _best_word(metric: str) -> str:
    return "lowest" if metric in LOWER_IS_BETTER else "highest"


def too_few_inputs_note(report: ComparisonReport) -> str | None:
    """A warning when the comparison has too few inputs to show the difference it saw as
    significant (80 % power at α = 0.05 for the observed paired effect); None when it has
    enough, found a winner, or its leaders tie."""
    if report.primary is None or len(report.variants) < 2 or report.winner is not None:
        return None
    means = _means(report, report.primary)
    top = report.best(report.primary)
    if len(top) != 1:
        return None
    rival = _rival(report, top[0], means)
    pair = None if rival is None else _pair(report, top[0], rival)
    if pair is None:
        return None
    floor = smallest_testable(ALPHA)
    if pair.n_inputs < 2:
        return (f"Too few inputs: one input cannot show a significant difference; this test "
                f"needs at least {floor} inputs, more for small differences.")
    needed = inputs_needed_for(pair)
    if needed is None or needed <= pair.n_inputs:
        return None
    return (f"Too few inputs: {_inputs(pair.n_inputs)}; about {needed:,} would be needed to "
            f"detect a difference this size ({_percent(POWER)} power at α = {ALPHA:g}).")


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def method_note(report: ComparisonReport) -> str:
    """How the words of :func:`winner_sentence` and the table's numbers were reached: the
    test, the adjustment, the intervals, the power assumptions and the display scale."""
    method = report.pairs[0][2].method if report.pairs else "permutation"
    test = ("a two-sided paired permutation test (the per-input differences' signs flipped at "
            f"random {TEST_RESAMPLES:,} times)" if method == "permutation" else
            f"a two-sided paired bootstrap test ({TEST_RESAMPLES:,} resamples of the inputs)")
    pairs = len(report.pairs)
    holm = (f" Over the {pairs} pairs the p-values are Holm-adjusted, so the chance of any false "
            f"\"significantly better\" stays at {_percent(ALPHA)}." if pairs > 1 else "")
    one_input = len({r.input_id for r in report.runs}) == 1
    intervals = ("95 % intervals: percentile bootstrap over the samples of the single input"
                 if one_input else
                 f"95 % intervals: percentile bootstrap over inputs ({INTERVAL_RESAMPLES:,} "
                 "resamples)")
    return (
        "Each input counts once: its samples are averaged first. Variants are compared on the "
        f"inputs they share with {test}.{holm} \"Significant\" means "
        f"{'Holm-adjusted ' if pairs > 1 else ''}p < {ALPHA:g}. "
        f"{intervals}. Inputs needed: the paired t-test's sample size for {_percent(POWER)} "
        f"power at α = {ALPHA:g} (two-sided) for the observed effect (mean per-input "
        "difference ÷ its standard deviation), normal approximation with Guenther's "
        "small-sample correction; "
        f"the permutation test needs at least {smallest_testable(ALPHA)} inputs in any case"
        f"{', and Holm’s adjustment somewhat more' if pairs > 1 else ''}. {SCALE_NOTE}"
    )


def p_against_best(report: ComparisonReport, name: str) -> str:
    """The cell "p vs best (paired, Holm)": the Holm-adjusted p of the pair (best, ``name``);
    ``best`` for the best variant itself (``best · tie`` for one of several)."""
    top = report.best(report.primary) if report.primary else ()
    if not top:
        return ""
    if name in top:
        return "best" + (TIE if len(top) > 1 else "")
    pair = _pair(report, name, top[0])
    return "" if pair is None else format_p(_adjusted(pair))


def p_against_best_tip(report: ComparisonReport, name: str) -> str:
    """What the p cell's number is, in words, with the raw p beside the adjusted one."""
    top = report.best(report.primary) if report.primary else ()
    if not top or report.primary is None or name in top:
        return ""
    pair = _pair(report, name, top[0])
    if pair is None:
        return ""
    verdict = "significant" if _adjusted(pair) < pair.alpha else "not significant"
    holm = (f"; Holm-adjusted over {len(report.pairs)} pairs: {format_p(_adjusted(pair))}"
            if len(report.pairs) > 1 else "")
    return (f"{name} against {top[0]} on {metric_label(report.primary)}: paired test over "
            f"{_inputs(pair.n_inputs)}, p = {format_p(pair.p_value)}{holm} ({verdict} at "
            f"{pair.alpha:g}).")
