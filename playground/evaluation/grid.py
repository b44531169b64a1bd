"""A dataset comparison read as a grid: one row per input, one cell per variant.

The rules a grid of outputs follows (ChainForge's and promptfoo's viewers are the model): what a
cell holds (every sample, its mean score per metric, failures, low confidence), which cells of a
row are best, how far the variants disagree on an input, and how rows are sorted and filtered.
They live here, not in the window, so a report or the command line shows the same grid.

Marks within a row use the report's rule (:func:`~playground.evaluation.summary.best_marks`:
equal at the digits shown is a tie) on the cells whose samples have all finished, so a cell is
never starred only because its neighbours are still running.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Literal

from playground.comparison import ComparisonSpec, Input
from playground.evaluation.report import LOW_CONFIDENCE, PERCENT_SCALE, ReportRun
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import SCORE_NAMES, best_marks, display_metrics

Mark = Literal["best", "tie"]
SortKey = Literal["input", "score", "disagreement", "failures"]
#: How a row's disagreement was measured: the spread of the metric's scores across variants,
#: or, where no variant has a score (no reference), how different their outputs read.
Basis = Literal["score", "text"]


def score_key(metric: str) -> str:
    """The stored score name of a metric shown by its short name (``rougeL`` → ``rougeL_f``)."""
    return SCORE_NAMES.get(metric, metric)


def input_text(values: Mapping[str, Any]) -> str:
    """What an input says: its one value, or ``name: value`` per line when it fills several
    variables."""
    if len(values) == 1:
        return str(next(iter(values.values())))
    return "\n".join(f"{name}: {value}" for name, value in values.items())


def is_low_confidence(run: ReportRun, threshold: float = LOW_CONFIDENCE) -> bool:
    """The report's rule: a measured mean token log-probability under the threshold."""
    value = run.scores.get("mean_logprob")
    return run.status == "ok" and value is not None and value < threshold


@dataclass(frozen=True)
class Cell:
    """One variant on one input: its finished samples in order, and what they add up to."""

    variant: str
    input_id: str
    #: Finished runs, by sample (``sample`` counts from 0; shown from 1).
    runs: tuple[ReportRun, ...]
    #: Samples the comparison asks for.
    expected: int
    #: Short metric name → mean over the samples that scored (None: no sample scored).
    scores: Mapping[str, float | None]
    #: Run sample → True when its output is low-confidence.
    low_confidence_samples: frozenset[int]
    #: Metrics this cell is best on within its row, and those of them it ties on.
    best: frozenset[str] = frozenset()
    tied: frozenset[str] = frozenset()

    @property
    def waiting(self) -> bool:
        return not self.runs

    @property
    def finished(self) -> bool:
        return len(self.runs) >= self.expected

    @property
    def failures(self) -> int:
        return sum(1 for r in self.runs if r.status == "failed")

    @property
    def failed(self) -> bool:
        return self.failures > 0

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(r.error or r.status for r in self.runs if r.status == "failed")

    @property
    def low_confidence(self) -> bool:
        return bool(self.low_confidence_samples)

    def mark(self, metric: str) -> Mark | None:
        if metric not in self.best:
            return None
        return "tie" if metric in self.tied else "best"

    def score(self, metric: str) -> float | None:
        return self.scores.get(metric)

    def outputs(self) -> tuple[str, ...]:
        return tuple(r.output for r in self.runs)


@dataclass(frozen=True)
class Row:
    """One input: its text and references, and one cell per variant in the spec's order."""

    input_id: str
    #: Place of the input in the dataset (0-based): the "input order" sort.
    position: int
    text: str
    references: tuple[str, ...]
    cells: tuple[Cell, ...]

    @cached_property
    def text_disagreement(self) -> float | None:
        """1 − mean similarity of the finished cells' outputs (same sample against same
        sample), None with fewer than two to compare. Worked out when first asked for: only
        sorting and filtering by disagreement need it."""
        return _text_disagreement([c for c in self.cells if c.finished])

    def cell(self, variant: str) -> Cell | None:
        return next((c for c in self.cells if c.variant == variant), None)

    @property
    def failures(self) -> int:
        return sum(c.failures for c in self.cells)

    @property
    def low_confidence(self) -> bool:
        return any(c.low_confidence for c in self.cells)


@dataclass(frozen=True)
class Disagreement:
    """How far a row's variants disagree, on a 0–1 scale whatever the basis."""

    value: float
    basis: Basis


@dataclass(frozen=True)
class RowOrder:
    key: SortKey = "input"
    #: The variant whose score sorts (``key == "score"``).
    variant: str | None = None
    descending: bool = True


@dataclass(frozen=True)
class RowFilter:
    failures_only: bool = False
    low_confidence_only: bool = False
    #: Keep rows whose disagreement is at least this (0–1).
    min_disagreement: float | None = None
    #: Keep the N rows that disagree most.
    top_disagreement: int | None = None
    #: Case-insensitive text in the input, its references or any output.
    search: str = ""


# -- building ---------------------------------------------------------------------------------


def build_cell(
    spec: ComparisonSpec, variant: str, input_id: str, runs: Iterable[ReportRun],
    metrics: Sequence[str], *, threshold: float = LOW_CONFIDENCE,
) -> Cell:
    """A cell from the runs of one variant on one input (a later run of a sample replaces an
    earlier one, as a resumed comparison's would)."""
    by_sample = {r.sample: r for r in runs if r.variant == variant and r.input_id == input_id}
    ordered = tuple(by_sample[k] for k in sorted(by_sample))
    scores: dict[str, float | None] = {}
    for metric in metrics:
        values = [v for r in ordered if r.status == "ok"
                  and (v := r.scores.get(score_key(metric))) is not None]
        scores[metric] = sum(values) / len(values) if values else None
    low = frozenset(r.sample for r in ordered if is_low_confidence(r, threshold))
    return Cell(variant, input_id, ordered, spec.samples, scores, low)


def build_row(
    spec: ComparisonSpec, input_: Input, runs: Iterable[ReportRun],
    metrics: Sequence[str] | None = None, *, threshold: float = LOW_CONFIDENCE,
) -> Row:
    """One input's row: a cell per variant (waiting when nothing finished), best marks among
    the finished cells, and how different their outputs read."""
    metrics = list(display_metrics(spec) if metrics is None else metrics)
    mine = [r for r in runs if r.input_id == input_.id]
    cells = [build_cell(spec, v.name, input_.id, mine, metrics, threshold=threshold)
             for v in spec.variants]
    done = {c.variant: {m: Estimate(s, s, s, len(c.runs)) for m in metrics
                        if (s := c.scores.get(m)) is not None}
            for c in cells if c.finished}
    marks = best_marks(done, metrics)
    marked = tuple(
        Cell(c.variant, c.input_id, c.runs, c.expected, c.scores, c.low_confidence_samples,
             *marks.get(c.variant, (frozenset(), frozenset())))
        for c in cells)
    position = next(n for n, i in enumerate(spec.inputs) if i.id == input_.id)
    return Row(input_.id, position, input_text(input_.values), input_.references, marked)


def build_rows(
    spec: ComparisonSpec, runs: Sequence[ReportRun], metrics: Sequence[str] | None = None,
    *, threshold: float = LOW_CONFIDENCE,
) -> list[Row]:
    """Every input's row in dataset order; runs of variants or inputs the spec does not name
    are left out."""
    by_input: dict[str, list[ReportRun]] = {}
    for run in runs:
        by_input.setdefault(run.input_id, []).append(run)
    return [build_row(spec, i, by_input.get(i.id, ()), metrics, threshold=threshold)
            for i in spec.inputs]


_WORDS = re.compile(r"\S+")


@lru_cache(maxsize=4096)
def _bag(text: str) -> Counter[str]:
    return Counter(_WORDS.findall(text))


def similarity(a: str, b: str) -> float:
    """How alike two outputs read, 0–1: the share of words they have in common, counted with
    repeats (Dice's coefficient over word multisets, what difflib's ``quick_ratio`` computes).
    Word order is ignored: the full alignment (``ratio``) costs ~100× more, and sorting a
    few hundred inputs by it froze the window for seconds. Two empty outputs are identical."""
    wa, wb = _bag(a), _bag(b)
    total = wa.total() + wb.total()
    if not total:
        return 1.0
    return 2 * sum((wa & wb).values()) / total


def _text_disagreement(cells: Sequence[Cell]) -> float | None:
    """1 − mean similarity over variant pairs, pairing sample k with sample k: they share a
    seed, so the difference is the variant's."""
    values = []
    for a, b in itertools.combinations(cells, 2):
        outputs_b = {r.sample: r.output for r in b.runs if r.status == "ok"}
        values += [similarity(r.output, outputs_b[r.sample])
                   for r in a.runs if r.status == "ok" and r.sample in outputs_b]
    return 1.0 - sum(values) / len(values) if values else None


# -- reading rows -----------------------------------------------------------------------------


def disagreement(row: Row, metric: str) -> Disagreement | None:
    """The spread (highest − lowest mean) of ``metric`` across the variants that scored,
    0–100 scales brought to 0–1; without two scores, how different the outputs read."""
    scores = [s for c in row.cells if c.finished and (s := c.score(metric)) is not None]
    if len(scores) >= 2:
        scale = 100.0 if score_key(metric) in PERCENT_SCALE else 1.0
        return Disagreement((max(scores) - min(scores)) / scale, "score")
    if row.text_disagreement is not None:
        return Disagreement(row.text_disagreement, "text")
    return None


def _disagreement_value(row: Row, metric: str) -> float | None:
    found = disagreement(row, metric)
    return None if found is None else found.value


def sort_rows(rows: Sequence[Row], order: RowOrder, metric: str) -> list[Row]:
    """Rows in the order asked for; rows without the value sorted on (a cell still waiting, an
    input without a score) go last, in input order, whichever the direction."""
    by_input = sorted(rows, key=lambda r: r.position)
    if order.key == "input":
        return by_input if not order.descending else by_input[::-1]
    if order.key == "failures":
        return sorted(by_input, key=lambda r: -r.failures)
    values: dict[str, float | None] = {}
    for row in by_input:
        if order.key == "disagreement":
            values[row.input_id] = _disagreement_value(row, metric)
        else:
            cell = row.cell(order.variant or "")
            values[row.input_id] = None if cell is None else cell.score(metric)
    known = [r for r in by_input if values[r.input_id] is not None]
    unknown = [r for r in by_input if values[r.input_id] is None]
    sign = -1.0 if order.descending else 1.0
    known.sort(key=lambda r: sign * (values[r.input_id] or 0.0))
    return known + unknown


def _matches(row: Row, needle: str) -> bool:
    texts = [row.text, *row.references]
    for cell in row.cells:
        texts += [r.output for r in cell.runs] + list(cell.errors)
    return any(needle in text.casefold() for text in texts)


def filter_rows(rows: Sequence[Row], row_filter: RowFilter, metric: str) -> list[Row]:
    """The rows that pass every condition of the filter, in the order given."""
    kept = list(rows)
    if row_filter.failures_only:
        kept = [r for r in kept if r.failures]
    if row_filter.low_confidence_only:
        kept = [r for r in kept if r.low_confidence]
    needle = row_filter.search.strip().casefold()
    if needle:
        kept = [r for r in kept if _matches(r, needle)]
    if row_filter.min_disagreement is not None:
        floor = row_filter.min_disagreement
        kept = [r for r in kept if (v := _disagreement_value(r, metric)) is not None
                and v >= floor]
    if row_filter.top_disagreement is not None:
        ranked = sort_rows(kept, RowOrder("disagreement"), metric)
        top = {r.input_id for r in ranked[:row_filter.top_disagreement]
               if _disagreement_value(r, metric) is not None}
        kept = [r for r in kept if r.input_id in top]
    return kept
