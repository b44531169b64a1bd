"""A comparison report written out as files: CSV and JSONL with a row per run, a Markdown
summary, and a self-contained HTML page with charts and word diffs against the references.

The numbers come from :mod:`playground.evaluation.report`; every format shows the same ones.
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
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any, Literal

from playground.evaluation.charts_svg import bar_chart_svg, sweep_chart_svg
from playground.evaluation.judge_report import judge_html, judge_markdown
from playground.evaluation.preferences import Rating
from playground.evaluation.report import (
    LOWER_IS_BETTER,
    ComparisonReport,
    HumanEvaluation,
    ReportRun,
)
from playground.evaluation.scales import (
    UNIT,
    column_label,
    describe,
    format_value,
    metric_label,
)
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import (
    format_p,
    method_note,
    too_few_inputs_note,
    winner_sentence,
)
from playground.wording import sample_label

ExportFormat = Literal["csv", "jsonl", "md", "html"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl", "md", "html")
#: The format a report file gets from its name's extension.
EXPORT_SUFFIXES: dict[str, ExportFormat] = {".csv": "csv", ".jsonl": "jsonl", ".md": "md",
                                            ".markdown": "md", ".html": "html", ".htm": "html"}


def export_format(file_name: str) -> ExportFormat | None:
    """The format a report file's extension names (any case); None for any other name."""
    return EXPORT_SUFFIXES.get(PurePath(file_name).suffix.lower())


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


def _metric_header(metric: str) -> str:
    return column_label(metric, "mean [95 % interval]")


#: Headers of the columns after the metrics, each with its unit.
_CORPUS_BLEU = f"corpus BLEU ({UNIT})"
_LOW_CONFIDENCE = "low-confidence outputs"
_SPEED = ("tokens/s (mean)", "latency (mean, s)")


def to_markdown(report: ComparisonReport) -> str:
    """The report's sections in order, a blank line between them; a section with nothing to
    say (no sweep, one sample per input, one variant, nobody's ratings) is left out."""
    lines = [f"# {report.name}", "", winner_sentence(report), ""]
    few = too_few_inputs_note(report)
    if few:
        lines += [f"**{few}**", ""]
    if report.mixed_settings:
        lines += [f"**Note:** {report.mixed_settings}", ""]
    lines += _scores_markdown(report)
    human = [] if report.human is None else _human_markdown(report.human)
    judged = [] if report.judge is None else judge_markdown(report.judge)
    for section in (_sweep_markdown(report), _diversity_markdown(report),
                    _pairs_markdown(report), human, judged,
                    ["## Method", "", method_note(report)]):
        if section:
            lines += ["", *section]
    lines += ["", *_how_made_markdown(report)]
    lines += ["", *_outputs_markdown(report)]
    return "\n".join(lines)


def _scores_markdown(report: ComparisonReport) -> list[str]:
    confidence = any(v.low_confidence is not None for v in report.variants)
    header = ["variant", "runs", "failed", *map(_metric_header, report.table_metrics),
              _CORPUS_BLEU, *([_LOW_CONFIDENCE] if confidence else []), *_SPEED]
    lines = ["## Scores", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for v in report.variants:
        cells = [v.name, str(v.runs), str(v.failed)]
        for metric in report.table_metrics:
            cell = describe(metric, v.metrics.get(metric))
            mark = report.marked(metric, v.name)
            if mark is not None:
                cell = f"**{cell}**" + (" (tie)" if mark == "tie" else "")
            cells.append(cell)
        cells.append(format_value("corpus_bleu", v.corpus_bleu))
        if confidence:
            cells.append("N/A" if v.low_confidence is None else f"{v.low_confidence}/{v.runs}")
        cells.append(f"{v.tokens_per_second['mean']:.1f}" if v.tokens_per_second else "")
        cells.append(f"{v.latency_s['mean']:.2f}" if v.latency_s else "")
        lines.append("| " + " | ".join(cells) + " |")
    if len(report.variants) > 1 and report.table_metrics:
        lines += ["", MARK_LEGEND]
    return lines


def _sweep_markdown(report: ComparisonReport) -> list[str]:
    if not (report.sweep and report.primary):
        return []
    columns = [report.primary, "distinct_1", "distinct_2", "self_bleu"]
    series = {m: dict(report.sweep_series(m)) for m in columns}
    lines = [f"## Sweep over {report.sweep_param}", "",
             f"| {report.sweep_param} | " + " | ".join(map(_mean_header, columns)) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for value, _ in report.sweep:
        points = [series[m].get(value) for m in columns]
        lines.append(f"| {value:g} | " + " | ".join(
            format_value(m, p) for m, p in zip(columns, points, strict=True)) + " |")
    return lines


def _diversity_markdown(report: ComparisonReport) -> list[str]:
    if not any(v.diversity for v in report.variants):
        return []
    names = ("distinct_1", "distinct_2", "self_bleu")
    lines = ["## Diversity across samples (mean over inputs; higher distinct-n and lower "
             "Self-BLEU: more varied)", "",
             "| variant | " + " | ".join(map(_mean_header, names)) + " |", "|---|---|---|---|"]
    for v in report.variants:
        d = v.diversity
        cells = [format_value(k, d.get(k)) for k in names]
        lines.append(f"| {v.name} | " + " | ".join(cells) + " |")
    return lines


def _mean_header(metric: str) -> str:
    return column_label(metric)


#: The paired table's headers after the two variants' names and means.
_PAIR_HEADERS = ("p (paired test)", "Holm-adjusted p", "significantly better")


def _pair_rows(report: ComparisonReport) -> list[list[str]]:
    """Per pair: A, B, their means on the shared inputs (as shown), raw and adjusted p and the
    significantly better one (— for neither)."""
    assert report.primary is not None
    metric = report.primary
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    return [[a, b, format_value(metric, sign * res.mean_a), format_value(metric, sign * res.mean_b),
             format_p(res.p_value), "" if res.p_adjusted is None else format_p(res.p_adjusted),
             {"a": a, "b": b}.get(res.winner or "", "—")] for a, b, res in report.pairs]


def _pair_headers(report: ComparisonReport) -> list[str]:
    assert report.primary is not None
    return ["A", "B", f"A: {_mean_header(report.primary)}", f"B: {_mean_header(report.primary)}",
            *_PAIR_HEADERS]


def _pairs_markdown(report: ComparisonReport) -> list[str]:
    if not report.pairs or report.primary is None:
        return []
    headers = _pair_headers(report)
    lines = [f"## Paired comparisons on {metric_label(report.primary)}", "",
             "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in _pair_rows(report)]
    return lines


def _outputs_markdown(report: ComparisonReport) -> list[str]:
    lines = ["## Outputs", ""]
    for run in report.runs:
        lines.append(f"### {run.variant} · {run.input_id} · {sample_label(run.sample)} "
                     f"({run.status})")
        lines.append("")
        lines.append("Output:")
        lines.append("")
        lines += ["    " + ln for ln in (run.output or run.error or "").splitlines() or [""]]
        for ref in run.references:
            lines += ["", "Reference:", ""] + ["    " + ln for ln in ref.splitlines() or [""]]
        lines.append("")
    return lines


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
    out.append(f"<p>{esc(winner_sentence(report))}</p>")
    few = too_few_inputs_note(report)
    if few:
        out.append(f"<p class=note>{esc(few)}</p>")
    if report.mixed_settings:
        out.append(f"<p class=note><b>Note:</b> {esc(report.mixed_settings)}</p>")
    out.append("<h2>Scores</h2><table><tr><th>variant</th><th>runs</th><th>failed</th>")
    out += [f"<th>{esc(_metric_header(m))}</th>" for m in report.table_metrics]
    out.append("".join(f"<th>{esc(h)}</th>" for h in (_CORPUS_BLEU, *_SPEED)) + "</tr>")
    for v in report.variants:
        out.append(f"<tr><td>{esc(v.name)}</td><td>{v.runs}</td><td>{v.failed}</td>")
        for metric in report.table_metrics:
            mark = report.marked(metric, v.name)
            cls = ' class="best"' if mark is not None else ""
            tie = " (tie)" if mark == "tie" else ""
            cell = esc(describe(metric, v.metrics.get(metric)))
            out.append(f"<td{cls}>{cell}{tie}</td>")
        tps = f"{v.tokens_per_second['mean']:.1f}" if v.tokens_per_second else ""
        lat = f"{v.latency_s['mean']:.2f}" if v.latency_s else ""
        cbleu = format_value("corpus_bleu", v.corpus_bleu)
        out.append(f"<td>{cbleu}</td><td>{tps}</td><td>{lat}</td></tr>")
    out.append("</table>")
    if len(report.variants) > 1 and report.table_metrics:
        out.append(f"<p>{esc(MARK_LEGEND)}</p>")
    if report.primary:
        out.append(f"<h2>{esc(_mean_header(report.primary))} by variant</h2>"
                   f"{bar_chart_svg(report)}")
    if report.sweep and report.primary:
        out.append(f"<h2>{esc(metric_label(report.primary))} and variety against "
                   f"{esc(report.sweep_param or '')}</h2>{sweep_chart_svg(report)}")
    if report.pairs and report.primary:
        out.append(f"<h2>Paired comparisons on {esc(metric_label(report.primary))}</h2><table>"
                   "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in _pair_headers(report))
                   + "</tr>")
        out += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                for row in _pair_rows(report)]
        out.append("</table>")
    out.append(f"<h2>Method</h2><p>{esc(method_note(report))}</p>")
    if report.human is not None:
        out.append(_human_html(report.human))
    if report.judge is not None:
        out.append(judge_html(report.judge))
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
            scores = ", ".join(f"{metric_label(m)} {format_value(m, v)}"
                               for m, v in run.scores.items() if v is not None)
            text = run.output if run.status == "ok" else (run.error or run.status)
            cls = "" if run.status == "ok" else ' class="failed"'
            diff = word_diff_html(refs[0], run.output) if refs and run.status == "ok" else ""
            # Counted from 1 on the page; the CSV and JSONL keep the 0-based field.
            out.append(f"<tr><td>{esc(run.variant)}</td><td>{run.sample + 1}</td><td{cls}><pre>"
                       f"{esc(text)}</pre></td><td><pre>{diff}</pre></td><td>{esc(scores)}</td>"
                       "</tr>")
        for ref in refs:
            out.append(f"<tr><td colspan=2><i>reference</i></td><td colspan=3><pre>{esc(ref)}"
                       "</pre></td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "".join(out)
