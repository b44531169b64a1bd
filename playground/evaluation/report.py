"""A comparison's results as numbers: per-variant scores with confidence intervals, paired
significance and a winner (written out as files by :mod:`playground.evaluation.exports`).

When people have rated or judged the outputs, the report also carries their verdict beside the
metrics (:class:`HumanEvaluation`): Likert means per criterion, the Bradley–Terry ranking from
blind pairwise judgements, and how far each automatic metric agrees with that ranking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playground import provenance
from playground.evaluation.judge_report import JudgeEvaluation
from playground.evaluation.judge_scores import is_judge_metric
from playground.evaluation.preferences import Rating, agreement, bradley_terry
from playground.evaluation.scales import DIGITS, format_value, shown
from playground.evaluation.scales import PERCENT_SCALE as PERCENT_SCALE
from playground.evaluation.stats import (
    Estimate,
    PairedResult,
    bootstrap_ci_clustered,
    overall_winner,
    pairwise,
    summarize,
)
from playground.ratings import Judgement

#: Metrics where a lower value is better; everything else is "higher is better".
LOWER_IS_BETTER = frozenset({"ref_ppl"})
#: The metric that decides the winner: the task metric where there is one, else overlap.
PREFERRED_PRIMARY = ("accuracy", "entity_f1", "token_f1", "rougeL_f", "bleu", "chrf", "rouge1_f",
                     "ref_ppl")


def mean_digits(metric: str) -> int:
    """Decimals a metric's mean is shown with wherever means are compared (report tables, the
    window's columns and score table), on the scale it is shown on
    (:mod:`playground.evaluation.scales`): a thousandth of the scale. Ties are decided at these
    digits too (:func:`leaders`)."""
    del metric  # one scale per table: the same resolution for every metric
    return DIGITS


def format_mean(metric: str, value: float) -> str:
    return format_value(metric, value)


def leaders(means: Mapping[str, float], metric: str) -> tuple[str, ...]:
    """The names with the best mean on ``metric``, in the order given; more than one is a tie.

    Two means tie when they are equal at the digits they are shown with (:func:`mean_digits`):
    a reader who sees the same number is not told that one is better, and a difference below
    the last shown digit is float noise or a coin flip, not a finding. Rounding, unlike a
    tolerance, is transitive, so "tied" never depends on which other variants are present.
    When every variant ties, every one is marked, with the word "tie": the same rule at every
    size, and a reader sees at once that the metric does not separate them.
    """
    digits = mean_digits(metric)
    shown_means = {name: round(shown(metric, value), digits) for name, value in means.items()}
    if not shown_means:
        return ()
    pick = min if metric in LOWER_IS_BETTER else max
    top = pick(shown_means.values())
    return tuple(name for name, value in shown_means.items() if value == top)


def and_list(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def primary_metric(metrics: Sequence[str]) -> str | None:
    """The metric that decides the winner: the first of :data:`PREFERRED_PRIMARY` present;
    without any (no references), a judge's rubric score (``judge:<criterion>``, the first by
    name) rather than a log-probability, which says how sure the model was, not how good the
    output is; else the first metric by name."""
    preferred = next((m for m in PREFERRED_PRIMARY if m in metrics), None)
    judged = next((m for m in sorted(metrics) if is_judge_metric(m)), None)
    return preferred or judged or (sorted(metrics)[0] if metrics else None)


@dataclass(frozen=True)
class ReportRun:
    """One run as the report needs it, whatever it was read from."""

    variant: str
    input_id: str
    sample: int
    seed: int
    status: str
    prompt: str
    output: str
    references: tuple[str, ...]
    scores: Mapping[str, float | None]
    tokens_per_second: float | None = None
    total_s: float | None = None
    ttft_s: float | None = None
    error: str | None = None
    run_id: int | None = None
    #: Likert ratings of this run: criterion → 1–5.
    criteria: Mapping[str, int] = field(default_factory=dict)
    #: The run's reproducibility record (playground.provenance); None when not recorded.
    record: Mapping[str, Any] | None = None
    #: metric → the reason its score carries (a JSON score's first problem), for display.
    reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HumanEvaluation:
    """What people said about a comparison's outputs, next to what the metrics said."""

    #: The Likert criteria, in the comparison's order.
    criteria: tuple[str, ...]
    #: variant → criterion → mean rating with its interval (inputs are the unit), None unrated.
    likert: Mapping[str, Mapping[str, Estimate | None]]
    #: variant → how many of its runs carry at least one rating.
    rated_runs: Mapping[str, int]
    #: Bradley–Terry ratings from the pairwise judgements, best first.
    ranking: tuple[Rating, ...]
    judgements: int
    ties: int
    #: metric → Kendall's tau-b between the metric's variant means and the ranking (NaN when
    #: there is no untied pair to compare).
    agreement: Mapping[str, float]

    @property
    def rated(self) -> bool:
        return any(self.rated_runs.values())


@dataclass(frozen=True)
class VariantSummary:
    name: str
    runs: int
    failed: int
    metrics: Mapping[str, Estimate | None]
    tokens_per_second: Mapping[str, float]
    latency_s: Mapping[str, float]
    #: Corpus BLEU over all the variant's outputs (n-gram statistics pooled, not averaged).
    corpus_bleu: float | None = None
    #: Variety across the k samples of each input, averaged over inputs (k ≥ 2 only):
    #: distinct_1, distinct_2 (0–1, higher = more varied) and self_bleu (stored 0–100, lower =
    #: more varied).
    diversity: Mapping[str, float] = field(default_factory=dict)
    #: Outputs whose mean token log-probability is under ``LOW_CONFIDENCE`` (None: not measured).
    low_confidence: int | None = None


@dataclass(frozen=True)
class ComparisonReport:
    name: str
    variants: tuple[VariantSummary, ...]
    metrics: tuple[str, ...]
    primary: str | None
    pairs: tuple[tuple[str, str, PairedResult], ...]
    winner: str | None
    runs: tuple[ReportRun, ...] = field(default_factory=tuple)
    #: For a sweep: (setting value, variant) in increasing order of the value.
    sweep: tuple[tuple[float, str], ...] = ()
    sweep_param: str | None = None
    #: Likert ratings and pairwise judgements, when there are any.
    human: HumanEvaluation | None = None
    #: What a judge model said beyond its scores (N/A, position bias, agreement with people).
    judge: JudgeEvaluation | None = None

    @property
    def how_made(self) -> list[tuple[str, str]]:
        """How these runs were made: each recorded setting once, or each value with a count."""
        return provenance.summary([r.record for r in self.runs])

    @property
    def mixed_settings(self) -> str | None:
        """A plain sentence when the runs mix backends or settings that change the numbers."""
        return provenance.mixed_settings_note(r.record for r in self.runs)

    def sweep_series(self, metric: str) -> list[tuple[float, float | None]]:
        """The metric's mean at each value of the swept setting (for charts)."""
        by_name = {v.name: v for v in self.variants}
        out: list[tuple[float, float | None]] = []
        for value, name in self.sweep:
            summary = by_name.get(name)
            if summary is None:
                continue
            if metric in ("distinct_1", "distinct_2", "self_bleu"):
                out.append((value, summary.diversity.get(metric)))
            else:
                estimate = summary.metrics.get(metric)
                out.append((value, None if estimate is None else estimate.mean))
        return out

    @property
    def table_metrics(self) -> tuple[str, ...]:
        """The columns of the score table: F1 for ROUGE (precision and recall stay in the
        CSV/JSONL exports), then everything else."""
        return tuple(m for m in self.metrics if not m.endswith(("_p", "_r")))

    def best(self, metric: str) -> tuple[str, ...]:
        """Every variant with the best mean on ``metric``, in report order: several when they
        tie (see :func:`leaders`), none when no variant has a score. Not a claim of
        significance: :attr:`winner` is that."""
        return leaders({v.name: e.mean for v in self.variants
                        if (e := v.metrics.get(metric)) is not None and e.n}, metric)

    def marked(self, metric: str, variant: str) -> str | None:
        """How a table marks ``variant``'s mean on ``metric``: ``"best"``, ``"tie"`` (one of
        several best) or None; nothing is marked with a single variant."""
        best = self.best(metric)
        if len(self.variants) < 2 or variant not in best:
            return None
        return "tie" if len(best) > 1 else "best"


#: Default mean token log-probability under which an output counts as low-confidence (about 37%
#: per token on average): a place to look for made-up content, not a verdict.
LOW_CONFIDENCE = -1.0


def build_report(
    name: str,
    runs: Sequence[ReportRun],
    *,
    seed: int = 0,
    language: str | None = None,
    sweep: Mapping[str, float] | None = None,
    sweep_param: str | None = None,
    criteria: Sequence[str] = (),
    judgements: Sequence[Judgement] = (),
    low_confidence_below: float = LOW_CONFIDENCE,
) -> ComparisonReport:
    """Aggregate runs per variant; inputs (not samples) are the unit of every interval and test.

    Outputs whose mean token log-probability is under ``low_confidence_below`` are counted as
    low-confidence.

    ``criteria`` orders the Likert columns (ratings on other criteria are left out; without it,
    every rated criterion in name order) and ``judgements`` are the blind pairwise verdicts;
    the report has a human evaluation when either carries anything.
    """
    variant_names = list(dict.fromkeys(r.variant for r in runs))
    metrics = sorted({m for r in runs for m, v in r.scores.items() if v is not None})
    by_variant: dict[str, list[ReportRun]] = defaultdict(list)
    for run in runs:
        by_variant[run.variant].append(run)
    summaries = []
    for vname in variant_names:
        vruns = by_variant[vname]
        ok = [r for r in vruns if r.status == "ok"]
        estimates: dict[str, Estimate | None] = {}
        for metric in metrics:
            estimates[metric] = bootstrap_ci_clustered(_by_input(ok, metric), seed=seed)
        tps = [r.tokens_per_second for r in ok if r.tokens_per_second is not None]
        latency = [r.total_s for r in ok if r.total_s is not None]
        summaries.append(
            VariantSummary(
                vname, len(vruns), sum(r.status == "failed" for r in vruns), estimates,
                _numbers(summarize(tps)) if tps else {},
                _numbers(summarize(latency)) if latency else {},
                _corpus_bleu(ok, language),
                _diversity(ok),
                _low_confidence(ok, low_confidence_below),
            )
        )
    primary = primary_metric(metrics)
    pairs: list[tuple[str, str, PairedResult]] = []
    winner = None
    if primary is not None and len(variant_names) > 1:
        sign = -1.0 if primary in LOWER_IS_BETTER else 1.0
        data = {
            v: {k: [sign * x for x in xs] for k, xs in _by_input(
                [r for r in by_variant[v] if r.status == "ok"], primary).items()}
            for v in variant_names
        }
        pairs = pairwise(data, seed=seed)
        winner = overall_winner(pairs)
    ordered = tuple(sorted((value, vname) for vname, value in (sweep or {}).items()))
    human = human_evaluation(runs, summaries, criteria, judgements, seed=seed)
    return ComparisonReport(name, tuple(summaries), tuple(metrics), primary, tuple(pairs), winner,
                            tuple(runs), ordered, sweep_param, human)


def human_evaluation(
    runs: Sequence[ReportRun],
    summaries: Sequence[VariantSummary],
    criteria: Sequence[str] = (),
    judgements: Sequence[Judgement] = (),
    *,
    seed: int = 0,
) -> HumanEvaluation | None:
    """Likert means per variant and criterion, the Bradley–Terry ranking and its agreement with
    each metric; None when nobody has rated or judged anything.

    Likert intervals resample inputs, like the metrics' intervals, since the samples of one
    input share how hard it is. A metric's agreement compares its variant means (negated where
    lower is better) with the ranking, over the variants both cover.
    """
    rated = [r for r in runs if r.criteria]
    if not rated and not judgements:
        return None
    names = tuple(criteria) or tuple(sorted({c for r in rated for c in r.criteria}))
    variant_names = list(dict.fromkeys(
        [s.name for s in summaries] + [r.variant for r in rated]))
    likert: dict[str, dict[str, Estimate | None]] = {}
    rated_runs: dict[str, int] = {}
    for vname in variant_names:
        vruns = [r for r in rated if r.variant == vname]
        rated_runs[vname] = sum(1 for r in vruns if any(c in r.criteria for c in names))
        per_criterion: dict[str, Estimate | None] = {}
        for criterion in names:
            grouped: dict[str, list[float]] = defaultdict(list)
            for run in vruns:
                if criterion in run.criteria:
                    grouped[run.input_id].append(float(run.criteria[criterion]))
            per_criterion[criterion] = bootstrap_ci_clustered(grouped, seed=seed)
        likert[vname] = per_criterion
    ranking = tuple(bradley_terry(judgements, seed=seed)) if judgements else ()
    agreements: dict[str, float] = {}
    if len(ranking) > 1:
        for metric in sorted({m for s in summaries for m, e in s.metrics.items() if e}):
            sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
            means = {s.name: sign * e.mean for s in summaries
                     if (e := s.metrics.get(metric)) is not None and e.n}
            agreements[metric] = agreement(ranking, means)
    return HumanEvaluation(
        criteria=names,
        likert=likert,
        rated_runs=rated_runs,
        ranking=ranking,
        judgements=len(judgements),
        ties=sum(1 for j in judgements if j.choice == "tie"),
        agreement=agreements,
    )


def _low_confidence(runs: Sequence[ReportRun], below: float = LOW_CONFIDENCE) -> int | None:
    measured = [r.scores["mean_logprob"] for r in runs if r.scores.get("mean_logprob") is not None]
    if not measured:
        return None
    return sum(1 for value in measured if value is not None and value < below)


def _diversity(runs: Sequence[ReportRun]) -> dict[str, float]:
    from playground.evaluation.taskmetrics import distinct_n, self_bleu

    by_input: dict[str, list[str]] = defaultdict(list)
    for run in runs:
        by_input[run.input_id].append(run.output)
    groups = [outputs for outputs in by_input.values() if len(outputs) > 1]
    if not groups:
        return {}
    result: dict[str, float] = {}
    for name, fn in (("distinct_1", lambda s: distinct_n(s, 1)),
                     ("distinct_2", lambda s: distinct_n(s, 2)), ("self_bleu", self_bleu)):
        values = [v for v in (fn(g).value for g in groups) if v is not None]
        if values:
            result[name] = sum(values) / len(values)
    return result


def _corpus_bleu(runs: Sequence[ReportRun], language: str | None) -> float | None:
    with_refs = [r for r in runs if r.references]
    if not with_refs:
        return None
    from playground.evaluation.scoring import corpus_bleu

    score = corpus_bleu([r.output for r in with_refs], [list(r.references) for r in with_refs],
                        language=language)
    return score.value


def _numbers(summary: Mapping[str, object]) -> dict[str, float]:
    return {k: float(v) for k, v in summary.items() if isinstance(v, (int, float))}


def _by_input(runs: Sequence[ReportRun], metric: str) -> dict[str, list[float]]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        value = run.scores.get(metric)
        if value is not None:
            grouped[run.input_id].append(value)
    return dict(grouped)
