"""A comparison's results as numbers and as files: per-variant scores with confidence intervals,
paired significance and a winner, exported as CSV, JSONL, Markdown or a self-contained HTML page.

When people have rated or judged the outputs, the report also carries their verdict beside the
metrics (:class:`HumanEvaluation`): Likert means per criterion, the Bradley–Terry ranking from
blind pairwise judgements, and how far each automatic metric agrees with that ranking.
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

from playground import provenance
from playground.evaluation.preferences import Rating, agreement, bradley_terry
from playground.evaluation.stats import (
    Estimate,
    PairedResult,
    bootstrap_ci_clustered,
    overall_winner,
    pairwise,
    summarize,
)
from playground.ratings import Judgement

ExportFormat = Literal["csv", "jsonl", "md", "html"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl", "md", "html")
#: The format a report file gets from its name's extension.
EXPORT_SUFFIXES: dict[str, ExportFormat] = {".csv": "csv", ".jsonl": "jsonl", ".md": "md",
                                            ".markdown": "md", ".html": "html", ".htm": "html"}


def export_format(file_name: str) -> ExportFormat | None:
    """The format a report file's extension names (any case); None for any other name."""
    return EXPORT_SUFFIXES.get(PurePath(file_name).suffix.lower())

#: Metrics where a lower value is better; everything else is "higher is better".
LOWER_IS_BETTER = frozenset({"ref_ppl"})
#: The metric that decides the winner: the task metric where there is one, else overlap.
PREFERRED_PRIMARY = ("accuracy", "entity_f1", "token_f1", "rougeL_f", "bleu", "chrf", "rouge1_f",
                     "ref_ppl")
#: Metrics on a 0–100 scale; the rest are on 0–1 or their own scale (perplexity, log-probability).
PERCENT_SCALE = frozenset({"bleu", "chrf", "self_bleu"})


def mean_digits(metric: str) -> int:
    """Decimals a metric's mean is shown with wherever means are compared (report tables, the
    window's columns and score table): one on the 0–100 scales, as sacreBLEU prints BLEU and
    chrF, three elsewhere — the same resolution, a thousandth of the scale. Ties are decided at
    these digits too (:func:`leaders`)."""
    return 1 if metric in PERCENT_SCALE else 3


def format_mean(metric: str, value: float) -> str:
    return f"{value:.{mean_digits(metric)}f}"


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
    shown = {name: round(value, digits) for name, value in means.items()}
    if not shown:
        return ()
    pick = min if metric in LOWER_IS_BETTER else max
    top = pick(shown.values())
    return tuple(name for name, value in shown.items() if value == top)


def and_list(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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
    #: distinct_1, distinct_2 (0–1, higher = more varied) and self_bleu (0–100, lower = more).
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


#: Default mean token log-probability under which an output counts as low-confidence.
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
    primary = next((m for m in PREFERRED_PRIMARY if m in metrics), metrics[0] if metrics else None)
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


#: Mean token log-probability under which an output is flagged as low-confidence (about 37% per
#: token on average): a place to look for made-up content, not a verdict.


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


# -- exports ----------------------------------------------------------------------------------


def export(report: ComparisonReport, fmt: ExportFormat) -> str:
    if fmt == "csv":
        return to_csv(report)
    if fmt == "jsonl":
        return to_jsonl(report)
    if fmt == "md":
        return to_markdown(report)
    return to_html(report)


_RUN_FIELDS = ("run_id", "variant", "input_id", "sample", "seed", "status", "prompt", "output",
               "references", "tokens_per_second", "ttft_s", "total_s", "error", "record")


def _run_record(run: ReportRun, metrics: Sequence[str]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "run_id": run.run_id, "variant": run.variant, "input_id": run.input_id,
        "sample": run.sample, "seed": run.seed, "status": run.status, "prompt": run.prompt,
        "output": run.output, "references": list(run.references),
        "tokens_per_second": run.tokens_per_second, "ttft_s": run.ttft_s,
        "total_s": run.total_s, "error": run.error,
        "record": None if run.record is None else dict(run.record),
    }
    for metric in metrics:
        record[metric] = run.scores.get(metric)
    return record


def _likert_criteria(report: ComparisonReport) -> tuple[str, ...]:
    return report.human.criteria if report.human is not None and report.human.rated else ()


def to_csv(report: ComparisonReport) -> str:
    """One row per run; references joined by a line of three dashes, N/A scores left empty.
    Likert ratings, when there are any, follow as ``likert_<criterion>`` columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    criteria = _likert_criteria(report)
    writer.writerow([*_RUN_FIELDS, *report.metrics, *(f"likert_{c}" for c in criteria)])
    for run in report.runs:
        record = _run_record(run, report.metrics)
        record["references"] = "\n---\n".join(run.references)
        if record["record"] is not None:
            record["record"] = json.dumps(record["record"], ensure_ascii=False, sort_keys=True)
        writer.writerow(["" if record[k] is None else record[k]
                         for k in (*_RUN_FIELDS, *report.metrics)]
                        + [run.criteria.get(c, "") for c in criteria])
    return out.getvalue()


def to_jsonl(report: ComparisonReport) -> str:
    """One object per run; with Likert ratings, each carries ``likert``: criterion → 1–5."""
    criteria = _likert_criteria(report)
    lines = []
    for run in report.runs:
        record = _run_record(run, report.metrics)
        if criteria:
            record["likert"] = {c: run.criteria[c] for c in criteria if c in run.criteria}
        lines.append(json.dumps(record, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")


def _fmt(estimate: Estimate | None, digits: int = 3) -> str:
    return "N/A" if estimate is None else estimate.describe(digits)


#: Under every score table with more than one variant.
MARK_LEGEND = ("Bold: the best mean on that metric; (tie): several variants share it, equal at "
               "the digits shown.")


def _winner_sentence(report: ComparisonReport) -> str:
    if report.primary is None:
        return "No scores: the inputs have no references."
    if len(report.variants) < 2:
        return f"One variant; primary metric {report.primary}."
    if report.winner:
        return (f"**{report.winner}** is best on {report.primary}, significantly against every "
                "other variant (paired test over inputs, Holm-adjusted p < 0.05).")
    leaders = report.best(report.primary)
    tie = (f"{and_list(leaders)} tie for the best mean {report.primary}. "
           if len(leaders) > 1 else "")
    return (f"{tie}No variant is significantly better on {report.primary} "
            "(paired test over inputs, Holm-adjusted p ≥ 0.05 for at least one pair).")


def to_markdown(report: ComparisonReport) -> str:  # noqa: C901
    lines = [f"# {report.name}", "", _winner_sentence(report), ""]
    if report.mixed_settings:
        lines += [f"**Note:** {report.mixed_settings}", ""]
    lines += ["## Scores (mean [95% CI])", ""]
    confidence = any(v.low_confidence is not None for v in report.variants)
    header = ["variant", "runs", "failed", *report.table_metrics, "corpus BLEU",
              *(["low-confidence"] if confidence else []), "tokens/s", "latency s"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for v in report.variants:
        cells = [v.name, str(v.runs), str(v.failed)]
        for metric in report.table_metrics:
            cell = _fmt(v.metrics.get(metric), mean_digits(metric))
            mark = report.marked(metric, v.name)
            if mark is not None:
                cell = f"**{cell}**" + (" (tie)" if mark == "tie" else "")
            cells.append(cell)
        cells.append("N/A" if v.corpus_bleu is None else f"{v.corpus_bleu:.2f}")
        if confidence:
            cells.append("N/A" if v.low_confidence is None else f"{v.low_confidence}/{v.runs}")
        cells.append(f"{v.tokens_per_second['mean']:.1f}" if v.tokens_per_second else "")
        cells.append(f"{v.latency_s['mean']:.2f}" if v.latency_s else "")
        lines.append("| " + " | ".join(cells) + " |")
    if len(report.variants) > 1 and report.table_metrics:
        lines += ["", MARK_LEGEND]
    if report.sweep and report.primary:
        columns = [report.primary, "distinct_1", "distinct_2", "self_bleu"]
        series = {m: dict(report.sweep_series(m)) for m in columns}
        lines += ["", f"## Sweep over {report.sweep_param}", "",
                  f"| {report.sweep_param} | " + " | ".join(columns) + " |",
                  "|---" * (len(columns) + 1) + "|"]
        for value, _ in report.sweep:
            points = [series[m].get(value) for m in columns]
            lines.append(f"| {value:g} | " + " | ".join(
                "N/A" if p is None else f"{p:.3f}" for p in points) + " |")
    if any(v.diversity for v in report.variants):
        lines += ["", "## Diversity across samples (mean over inputs)", "",
                  "| variant | distinct-1 | distinct-2 | Self-BLEU |", "|---|---|---|---|"]
        for v in report.variants:
            d = v.diversity
            cells = [f"{d[k]:.3f}" if k in d else "N/A" for k in ("distinct_1", "distinct_2")]
            cells.append(f"{d['self_bleu']:.1f}" if "self_bleu" in d else "N/A")
            lines.append(f"| {v.name} | " + " | ".join(cells) + " |")
    if report.pairs:
        lines += ["", f"## Paired comparisons on {report.primary}", "",
                  "| A | B | mean A | mean B | p | Holm p | better |",
                  "|---|---|---|---|---|---|---|"]
        sign = -1.0 if report.primary in LOWER_IS_BETTER else 1.0
        for a, b, res in report.pairs:
            better = {"a": a, "b": b}.get(res.winner or "", "—")
            lines.append(
                f"| {a} | {b} | {sign * res.mean_a:.3f} | {sign * res.mean_b:.3f} | "
                f"{res.p_value:.4f} | "
                f"{'' if res.p_adjusted is None else format(res.p_adjusted, '.4f')} | "
                f"{better} |"
            )
    if report.human is not None:
        lines += ["", *_human_markdown(report.human)]
    lines += ["", *_how_made_markdown(report)]
    lines += ["", "## Outputs", ""]
    for run in report.runs:
        lines.append(f"### {run.variant} · {run.input_id} · sample {run.sample} ({run.status})")
        lines.append("")
        lines.append("Output:")
        lines.append("")
        lines += ["    " + ln for ln in (run.output or run.error or "").splitlines() or [""]]
        for ref in run.references:
            lines += ["", "Reference:", ""] + ["    " + ln for ln in ref.splitlines() or [""]]
        lines.append("")
    return "\n".join(lines)


HOW_MADE_INTRO = ("What decided these outputs besides the prompts and seeds: the engine, the CPU "
                  "path it took, its settings and the model file. `playground replay RUN_ID` "
                  "runs one again and names what differs.")


def _how_made_markdown(report: ComparisonReport) -> list[str]:
    rows = report.how_made
    if not rows:
        return []
    lines = ["## How these runs were made", "", HOW_MADE_INTRO, "", "| | |", "|---|---|"]
    lines += [f"| {label} | {value.replace('|', '/')} |" for label, value in rows]
    return lines


def _how_made_html(report: ComparisonReport) -> str:
    rows = report.how_made
    if not rows:
        return ""
    esc = html.escape
    cells = "".join(f"<tr><th>{esc(label)}</th><td>{esc(value)}</td></tr>" for label, value in rows)
    return f"<h2>How these runs were made</h2><p>{esc(HOW_MADE_INTRO)}</p><table>{cells}</table>"


def _tau(value: float) -> str:
    return "N/A" if math.isnan(value) else f"{value:+.2f}"


def _strength(rating: Rating) -> str:
    return f"{rating.strength:.2f} [{rating.low:.2f}, {rating.high:.2f}]"


_AGREEMENT_NOTE = ("Kendall's τ-b between each metric's variant means and the people's ranking: "
                   "+1 orders the variants as the judges did, −1 the reverse, N/A no evidence.")
_STRENGTH_NOTE = ("Strength is scaled to a geometric mean of 1; A beats B with probability "
                  "A / (A + B). Intervals: bootstrap over judgements.")


def _counted(human: HumanEvaluation) -> str:
    judged = f"{human.judgements} judgement" + ("s" if human.judgements != 1 else "")
    return judged + f", {human.ties} tie" + ("s" if human.ties != 1 else "")


def _human_markdown(human: HumanEvaluation) -> list[str]:
    lines = ["## Human evaluation", ""]
    if human.rated:
        lines += ["### Likert ratings, 1–5 (mean [95% CI])", "",
                  "| variant | rated runs | " + " | ".join(human.criteria) + " |",
                  "|---|---|" + "---|" * len(human.criteria)]
        for vname, per_criterion in human.likert.items():
            cells = [_fmt(per_criterion.get(c)) for c in human.criteria]
            lines.append(f"| {vname} | {human.rated_runs.get(vname, 0)} | "
                         + " | ".join(cells) + " |")
        lines.append("")
    if human.ranking:
        lines += [f"### Blind pairwise preference ({_counted(human)})", "", _STRENGTH_NOTE, "",
                  "| rank | variant | Bradley–Terry strength [95% CI] | wins | losses | ties |",
                  "|---|---|---|---|---|---|"]
        for rank, r in enumerate(human.ranking, start=1):
            lines.append(f"| {rank} | {r.variant} | {_strength(r)} | {r.wins} | {r.losses} | "
                         f"{r.ties} |")
        if human.agreement:
            lines += ["", _AGREEMENT_NOTE, "", "| metric | agreement (τ-b) |", "|---|---|"]
            lines += [f"| {m} | {_tau(t)} |" for m, t in human.agreement.items()]
        lines.append("")
    return lines[:-1] if lines[-1] == "" else lines


def _human_html(human: HumanEvaluation) -> str:
    esc = html.escape
    out = ["<h2>Human evaluation</h2>"]
    if human.rated:
        out.append("<h3>Likert ratings, 1–5 (mean [95% CI])</h3><table><tr><th>variant</th>"
                   "<th>rated runs</th>" + "".join(f"<th>{esc(c)}</th>" for c in human.criteria)
                   + "</tr>")
        for vname, per_criterion in human.likert.items():
            out.append(f"<tr><td>{esc(vname)}</td><td>{human.rated_runs.get(vname, 0)}</td>"
                       + "".join(f"<td>{esc(_fmt(per_criterion.get(c)))}</td>"
                                 for c in human.criteria) + "</tr>")
        out.append("</table>")
    if human.ranking:
        out.append(f"<h3>Blind pairwise preference ({_counted(human)})</h3>"
                   f"<p>{esc(_STRENGTH_NOTE)}</p><table><tr><th>rank</th>"
                   "<th>variant</th><th>Bradley–Terry strength [95% CI]</th><th>wins</th>"
                   "<th>losses</th><th>ties</th></tr>")
        for rank, r in enumerate(human.ranking, start=1):
            out.append(f"<tr><td>{rank}</td><td>{esc(r.variant)}</td><td>{_strength(r)}</td>"
                       f"<td>{r.wins}</td><td>{r.losses}</td><td>{r.ties}</td></tr>")
        out.append("</table>")
        if human.agreement:
            out.append(f"<p>{esc(_AGREEMENT_NOTE)}</p><table><tr><th>metric</th>"
                       "<th>agreement (τ-b)</th></tr>")
            out += [f"<tr><td>{esc(m)}</td><td>{_tau(t)}</td></tr>"
                    for m, t in human.agreement.items()]
            out.append("</table>")
    return "".join(out)


def word_diff_html(a: str, b: str) -> str:
    """``b`` against ``a`` word by word: insertions marked <ins>, deletions <del>."""
    wa = re.findall(r"\S+|\s+", a)
    wb = re.findall(r"\S+|\s+", b)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=wa, b=wb, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(wa[i1:i2])))
        if op in ("delete", "replace"):
            out.append(f"<del>{html.escape(''.join(wa[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{html.escape(''.join(wb[j1:j2]))}</ins>")
    return "".join(out)


def _svg_chart(report: ComparisonReport) -> str:
    """Bars of the primary metric's mean per variant with CI whiskers, as inline SVG."""
    metric = report.primary
    if metric is None:
        return ""
    estimates = [(v.name, v.metrics.get(metric)) for v in report.variants]
    values = [e for _, e in estimates if e is not None]
    if not values:
        return ""
    top = max(e.high for e in values) or 1.0
    width, bar_h, gap, left = 640, 26, 10, 180
    height = len(estimates) * (bar_h + gap) + 30
    scale = (width - left - 40) / top
    parts = [f'<svg role="img" aria-label="{html.escape(metric)} by variant" width="{width}" '
             f'height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="12">']
    for n, (name, est) in enumerate(estimates):
        y = 10 + n * (bar_h + gap)
        parts.append(f'<text x="{left - 8}" y="{y + bar_h * 0.65}" text-anchor="end">'
                     f"{html.escape(name)}</text>")
        if est is None:
            parts.append(f'<text x="{left}" y="{y + bar_h * 0.65}">N/A</text>')
            continue
        parts.append(f'<rect x="{left}" y="{y}" width="{est.mean * scale:.1f}" '
                     f'height="{bar_h}" fill="#4c78a8"/>')
        cy = y + bar_h / 2
        parts.append(f'<line x1="{left + est.low * scale:.1f}" x2="{left + est.high * scale:.1f}" '
                     f'y1="{cy}" y2="{cy}" stroke="#222" stroke-width="2"/>')
        parts.append(f'<text x="{left + est.mean * scale + 6:.1f}" y="{y - 2 + bar_h}" '
                     f'fill="#222">{est.mean:.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_sweep(report: ComparisonReport) -> str:
    """Quality (primary metric, scaled to its own maximum) and variety (distinct-2, 0–1) as two
    lines over the swept setting, as inline SVG."""
    assert report.primary is not None
    quality = [(x, y) for x, y in report.sweep_series(report.primary) if y is not None]
    # Distinct-2 where outputs are long enough to have word pairs, else distinct-1.
    variety_metric = "distinct_2"
    variety = [(x, y) for x, y in report.sweep_series("distinct_2") if y is not None]
    if not variety:
        variety_metric = "distinct_1"
        variety = [(x, y) for x, y in report.sweep_series("distinct_1") if y is not None]
    xs = [x for x, _ in report.sweep]
    if len(xs) < 2:
        return ""
    width, height, pad = 640, 260, 40
    lo, hi = min(xs), max(xs)
    q_top = max((y for _, y in quality), default=1.0) or 1.0

    def px(x: float) -> float:
        return pad + (x - lo) / ((hi - lo) or 1.0) * (width - 2 * pad)

    def py(y: float, top: float) -> float:
        return height - pad - y / top * (height - 2 * pad)

    parts = [f'<svg role="img" aria-label="sweep" width="{width}" height="{height}" '
             'xmlns="http://www.w3.org/2000/svg" font-size="12">',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
             'stroke="#888"/>']
    for series, top, colour, label in ((quality, q_top, "#4c78a8", report.primary),
                                       (variety, 1.0, "#e45756", variety_metric)):
        if series:
            points = " ".join(f"{px(x):.1f},{py(y, top):.1f}" for x, y in series)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                         'stroke-width="2"/>')
            x, y = series[-1]
            parts.append(f'<text x="{px(x) - 4:.1f}" y="{py(y, top) - 6:.1f}" '
                         f'text-anchor="end" fill="{colour}">{html.escape(label)}</text>')
    for x in xs:
        parts.append(f'<text x="{px(x):.1f}" y="{height - pad + 16}" text-anchor="middle">'
                     f"{x:g}</text>")
    parts.append("</svg>")
    return "".join(parts)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f3f3}.best{font-weight:bold;
background:#e8f4e8}pre{white-space:pre-wrap;margin:0;font-family:ui-monospace,monospace}
ins{background:#d4f7d4;text-decoration:none}del{background:#f7d4d4}.failed{color:#a00}
.note{background:#fff6d6;padding:6px 10px}"""


def to_html(report: ComparisonReport) -> str:
    """One file, no external resources: opens anywhere, offline."""
    esc = html.escape
    out = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{esc(report.name)}"
           f"</title><style>{_CSS}</style></head><body><h1>{esc(report.name)}</h1>"]
    sentence = _winner_sentence(report).replace("**", "")
    out.append(f"<p>{esc(sentence)}</p>")
    if report.mixed_settings:
        out.append(f"<p class=note><b>Note:</b> {esc(report.mixed_settings)}</p>")
    out.append("<h2>Scores (mean [95% CI])</h2><table><tr><th>variant</th>"
               "<th>runs</th><th>failed</th>")
    out += [f"<th>{esc(m)}</th>" for m in report.table_metrics]
    out.append("<th>corpus BLEU</th><th>tokens/s</th><th>latency s</th></tr>")
    for v in report.variants:
        out.append(f"<tr><td>{esc(v.name)}</td><td>{v.runs}</td><td>{v.failed}</td>")
        for metric in report.table_metrics:
            mark = report.marked(metric, v.name)
            cls = ' class="best"' if mark is not None else ""
            tie = " (tie)" if mark == "tie" else ""
            cell = esc(_fmt(v.metrics.get(metric), mean_digits(metric)))
            out.append(f"<td{cls}>{cell}{tie}</td>")
        tps = f"{v.tokens_per_second['mean']:.1f}" if v.tokens_per_second else ""
        lat = f"{v.latency_s['mean']:.2f}" if v.latency_s else ""
        cbleu = "N/A" if v.corpus_bleu is None else f"{v.corpus_bleu:.2f}"
        out.append(f"<td>{cbleu}</td><td>{tps}</td><td>{lat}</td></tr>")
    out.append("</table>")
    if len(report.variants) > 1 and report.table_metrics:
        out.append(f"<p>{esc(MARK_LEGEND)}</p>")
    if report.primary:
        out.append(f"<h2>{esc(report.primary)} by variant</h2>{_svg_chart(report)}")
    if report.sweep and report.primary:
        out.append(f"<h2>{esc(report.primary)} and variety against "
                   f"{esc(report.sweep_param or '')}</h2>{_svg_sweep(report)}")
    if report.pairs:
        out.append(f"<h2>Paired comparisons on {esc(report.primary or '')}</h2><table><tr><th>A"
                   "</th><th>B</th><th>p</th><th>Holm p</th><th>better</th></tr>")
        for a, b, res in report.pairs:
            better = {"a": a, "b": b}.get(res.winner or "", "—")
            adj = "" if res.p_adjusted is None else f"{res.p_adjusted:.4f}"
            out.append(f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{res.p_value:.4f}</td>"
                       f"<td>{adj}</td><td>{esc(better)}</td></tr>")
        out.append("</table>")
    if report.human is not None:
        out.append(_human_html(report.human))
    out.append(_how_made_html(report))
    out.append("<h2>Outputs</h2><p>Each output beside its reference; the diff marks words the "
               "output adds (green) or leaves out (red) against the first reference.</p>")
    by_input: dict[str, list[ReportRun]] = defaultdict(list)
    for run in report.runs:
        by_input[run.input_id].append(run)
    for input_id, runs in by_input.items():
        refs = runs[0].references
        out.append(f"<h3>{esc(input_id)}</h3><table><tr><th>variant</th><th>sample</th>"
                   "<th>output</th><th>diff against the reference</th><th>scores</th></tr>")
        for run in runs:
            scores = ", ".join(f"{m} {v:.3f}" for m, v in run.scores.items() if v is not None)
            text = run.output if run.status == "ok" else (run.error or run.status)
            cls = "" if run.status == "ok" else ' class="failed"'
            diff = word_diff_html(refs[0], run.output) if refs and run.status == "ok" else ""
            out.append(f"<tr><td>{esc(run.variant)}</td><td>{run.sample}</td><td{cls}><pre>"
                       f"{esc(text)}</pre></td><td><pre>{diff}</pre></td><td>{esc(scores)}</td>"
                       "</tr>")
        for ref in refs:
            out.append(f"<tr><td colspan=2><i>reference</i></td><td colspan=3><pre>{esc(ref)}"
                       "</pre></td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "".join(out)
