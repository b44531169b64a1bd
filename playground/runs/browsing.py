"""The history as people browse it: what a row is, which rows a filter keeps, pages of
comparisons newest first, the runs a search finds, and the files a report export writes.

The History tab reads through here, so a filter, a page or a "best" hint means the same
whoever asks; the rows come from :class:`~playground.storage.store.Store`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from playground.engine.models import model_display_name
from playground.evaluation.exports import ExportFormat
from playground.evaluation.report import PREFERRED_PRIMARY, and_list, format_mean, leaders
from playground.evaluation.scales import metric_label
from playground.storage.store import ComparisonRow, RunRow, StorageError, Store

#: Rows fetched per page of the history (a further page asks for this many more).
PAGE_SIZE = 50
#: Comparisons with at most this many runs get a best-score hint; larger ones would cost a
#: full read of their outputs for one table cell.
CHEAP_RUNS = 200

Kind = Literal["all", "run", "comparison"]
#: What the kind filter offers: everything, Playground runs only, comparisons only.
KINDS: tuple[Kind, ...] = ("all", "run", "comparison")


@dataclass(frozen=True)
class HistoryQuery:
    """What a history page shows: ``text`` searches prompts and outputs; the rest filter.
    ``want`` is how many rows, from the newest (a page further asks for more)."""

    text: str = ""
    kind: Kind = "all"
    status: str = ""
    contains: str = ""
    want: int = PAGE_SIZE


@dataclass(frozen=True)
class HistoryItem:
    """One row of the history: a comparison, or one run found by a search.

    ``run`` is the Playground run of a single-run item, or the run a search matched; it is
    what opening and rating apply to.
    """

    comparison: ComparisonRow
    single: bool
    models: tuple[str, ...]
    templates: tuple[str, ...]
    best: str = ""
    run: RunRow | None = None
    match_variant: str = ""

    @property
    def kind(self) -> str:
        if self.single:
            return "run"
        return "run in comparison" if self.run is not None else "comparison"

    @property
    def is_match(self) -> bool:
        return self.run is not None and not self.single


@dataclass(frozen=True)
class HistoryPage:
    """The rows of one read, and whether more pass the same filters."""

    items: list[HistoryItem]
    more: bool
    #: runs the search found in the list not shown (Playground runs while comparisons are
    #: listed, or the other way round), so an empty result can say where the words are
    elsewhere: int = 0


@dataclass(frozen=True)
class RunDetail:
    """A stored run with the names of its variant and input, as a comparison's runs list it."""

    run: RunRow
    variant: str
    input: str


# -- what a row says ----------------------------------------------------------------------------


def is_single_run(row: ComparisonRow) -> bool:
    """A Playground run is stored as a comparison of one variant on one input, of kind "run"."""
    return row.kind == "run"


def spec_models(row: ComparisonRow) -> tuple[str, ...]:
    """The models a stored comparison ran on, each once, in variant order."""
    variants = row.spec.get("variants", [])
    return tuple(dict.fromkeys(str(v.get("model", "")) for v in variants if isinstance(v, dict)))


def spec_templates(row: ComparisonRow) -> tuple[str, ...]:
    """The templates a stored comparison's variants came from, each once."""
    variants = row.spec.get("variants", [])
    return tuple(
        dict.fromkeys(str(v.get("template_id", "")) for v in variants if isinstance(v, dict))
    )


def model_label(model: str) -> str:
    """A model key as every list names it (:func:`model_display_name`): the catalog's name, else
    the file's; an endpoint as ``remote:NAME``; no model, the default model's name."""
    return model_display_name(model)


def main_metrics(metrics: Sequence[str], limit: int = 3) -> list[str]:
    """The few metrics worth a column: task metrics and F1 scores first, in the report's
    order of preference; precision and recall halves stay in the exports."""
    present = [m for m in metrics if not m.endswith(("_p", "_r"))]
    ordered = [m for m in PREFERRED_PRIMARY if m in present]
    ordered += sorted(m for m in present if m not in ordered)
    return ordered[:limit]


def format_score(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def format_scores(run: RunRow, limit: int = 3) -> str:
    """A run's main scores in a line, the most telling first."""
    by_metric = {s.metric: s.value for s in run.scores}
    return ", ".join(
        f"{m} {format_score(by_metric[m])}" for m in main_metrics(list(by_metric), limit)
    )


def best_summary(runs: Sequence[RunRow], variant_names: dict[int, str]) -> str:
    """The best variant on the comparison's main metric (mean over its ok runs), or a single
    run's main score. A hint for browsing, not a claim of significance: the report has that.
    Variants whose means are equal at the digits shown tie, as in the report."""
    ok = [r for r in runs if r.status == "ok"]
    metrics = main_metrics(sorted({s.metric for r in ok for s in r.scores if s.value is not None}),
                           1)
    if not metrics:
        return ""
    metric = metrics[0]
    by_variant: dict[str, list[float]] = {}
    for run in ok:
        score = run.score(metric)
        if score is None or score.value is None:
            continue
        name = variant_names.get(run.variant_id or -1, "")
        by_variant.setdefault(name, []).append(score.value)
    if not by_variant:
        return ""
    means = {name: sum(values) / len(values) for name, values in by_variant.items()}
    best = leaders(means, metric)
    value = f"{metric_label(metric)} {format_mean(metric, means[best[0]])}"
    if len(means) == 1:
        return value
    if len(best) > 1:
        return f"{and_list(best)} tie: {value}"
    return f"{best[0]}: {value}"


# -- reading pages ------------------------------------------------------------------------------


def matches(row: ComparisonRow, query: HistoryQuery) -> bool:
    """Whether a comparison passes the filters that need no run data (checked before anything
    costly is read): its kind, its status, and a model or template containing some text."""
    single = is_single_run(row)
    if query.kind == "run" and not single:
        return False
    if query.kind == "comparison" and single:
        return False
    if query.status and row.status != query.status:
        return False
    needle = query.contains.strip().lower()
    if needle:
        models = spec_models(row)
        haystack = [row.name, *models, *(model_label(m) for m in models), *spec_templates(row)]
        if not any(needle in text.lower() for text in haystack):
            return False
    return True


def comparison_item(store: Store, row: ComparisonRow) -> HistoryItem:
    """A comparison as a row: a Playground run with its one run, a small comparison with the
    best variant's score."""
    single = is_single_run(row)
    run: RunRow | None = None
    best = ""
    if single or row.run_count <= CHEAP_RUNS:
        runs = store.runs(row.id)
        names = {} if single else {v.id: v.name for v in store.variants(row.id)}
        best = best_summary(runs, names)
        if single and runs:
            run = runs[-1]
    return HistoryItem(row, single, spec_models(row), spec_templates(row), best, run)


def browse(store: Store, query: HistoryQuery) -> HistoryPage:
    """Comparisons newest first, read page by page until enough pass the filters."""
    items: list[HistoryItem] = []
    offset = 0
    chunk = max(query.want, PAGE_SIZE)
    kind = None if query.kind == "all" else query.kind
    while len(items) <= query.want:
        rows = store.history(chunk, offset, kind)
        offset += len(rows)
        items.extend(comparison_item(store, r) for r in rows if matches(r, query))
        if len(rows) < chunk:
            break
    return HistoryPage(items[: query.want], len(items) > query.want)


def search(store: Store, query: HistoryQuery) -> HistoryPage:
    """Runs whose prompt or output hold every word, newest first, under the filters. The
    store's search has no offset, so a page further asks it for a larger limit."""
    comparisons: dict[int, ComparisonRow | None] = {}
    variant_names: dict[int, dict[int, str]] = {}
    limit = max(query.want * 2, PAGE_SIZE)
    while True:
        runs = store.search(query.text, limit)
        items: list[HistoryItem] = []
        elsewhere = 0
        for run in runs:
            cid = run.comparison_id
            if cid is None:
                continue
            if cid not in comparisons:
                try:
                    comparisons[cid] = store.comparison(cid)
                except StorageError:  # deleted since the search read it
                    comparisons[cid] = None
            row = comparisons[cid]
            if row is None:
                continue
            if not matches(row, query):
                elsewhere += query.kind != "all" and matches(row, replace(query, kind="all"))
                continue
            single = is_single_run(row)
            variant = ""
            if not single:
                if cid not in variant_names:
                    variant_names[cid] = {v.id: v.name for v in store.variants(cid)}
                variant = variant_names[cid].get(run.variant_id or -1, "")
            items.append(HistoryItem(row, single, spec_models(row), spec_templates(row),
                                     format_scores(run, 1), run, variant))
            if len(items) > query.want:
                break
        if len(items) > query.want or len(runs) < limit:
            return HistoryPage(items[: query.want], len(items) > query.want, elsewhere)
        limit *= 4


def history_page(store: Store, query: HistoryQuery) -> HistoryPage:
    """What the history shows for ``query``: search matches when it has words to find, else
    the comparisons themselves."""
    return search(store, query) if query.text.split() else browse(store, query)


def run_details(store: Store, comparison_id: int) -> list[RunDetail]:
    """Every run of a comparison under its variant's and input's names."""
    variants = {v.id: v.name for v in store.variants(comparison_id)}
    inputs = {i.id: i.input_key for i in store.inputs(comparison_id)}
    return [
        RunDetail(r, variants.get(r.variant_id or -1, ""), inputs.get(r.input_id or -1, ""))
        for r in store.runs(comparison_id)
    ]


def report_paths(
    path: Path, fmt: ExportFormat, rows: Sequence[ComparisonRow]
) -> dict[int, Path]:
    """Where the reports of ``rows`` go, by comparison id: one report per comparison, since
    statistics never mix comparisons. One is written to ``path`` itself (``fmt`` its extension
    when it has none); several go next to it named by the numbers people see,
    ``<stem>-3.<fmt>`` for comparison #3 and ``<stem>-run3.<fmt>`` for Run 3."""
    if not path.suffix:
        path = path.with_suffix(f".{fmt}")
    if len(rows) == 1:
        return {rows[0].id: path}
    return {
        row.id: path.with_name(
            f"{path.stem}-{'run' if row.kind == 'run' else ''}{row.number}{path.suffix}")
        for row in rows
    }
