"""The Evaluate tab's work off the GUI thread: each task opens and closes its own
:class:`~playground.storage.store.Store` and calls the core, which holds the rules
(:mod:`playground.runs.judging`, :func:`playground.runs.history.stored_report`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.evaluation.judge_report import JudgeEvaluation
from playground.evaluation.report import HumanEvaluation
from playground.runs.history import stored_report
from playground.runs.judging import JudgingSet, judging_set, preference_dataset
from playground.storage.store import Store

#: How many recent comparisons the chooser offers.
HISTORY_LIMIT = 100


@dataclass(frozen=True)
class Results:
    """What the Results tab shows of a comparison: its human evaluation, the variants in
    report order and the criteria."""

    comparison_id: int
    human: HumanEvaluation | None
    variants: tuple[str, ...]
    criteria: tuple[str, ...]
    #: what a judge model said: its ranking beside the people's, position bias, agreement
    judge: JudgeEvaluation | None = None


@dataclass(frozen=True)
class Exported:
    path: str
    pairs: int
    ties: int


def list_comparisons(db_path: Path) -> Iterator[list[tuple[int, str]]]:
    """The recent comparisons as (id, label), newest first."""
    with Store(db_path) as store:
        rows = store.history(limit=HISTORY_LIMIT)
    yield [(row.id, f"#{row.id}  {row.name}  ({row.created_at[:16].replace('T', ' ')}, "
                    f"{row.ok_count} outputs)") for row in rows]


def _results(store: Store, comparison_id: int) -> Results:
    report = stored_report(store, comparison_id)
    return Results(comparison_id, report.human, tuple(v.name for v in report.variants),
                   store.criteria(comparison_id), report.judge)


def load_comparison(db_path: Path, comparison_id: int) -> Iterator[JudgingSet | Results]:
    """What there is to judge, then the results so far."""
    with Store(db_path) as store:
        judging = judging_set(store, comparison_id)
        results = _results(store, comparison_id)
    yield judging
    yield results


def load_results(db_path: Path, comparison_id: int) -> Iterator[Results]:
    with Store(db_path) as store:
        results = _results(store, comparison_id)
    yield results


def write(db_path: Path, operation: Callable[[Store], Any]) -> Iterator[Any]:
    """One write (a rating, a note, criteria, a judgement or its undoing); yields its result."""
    with Store(db_path) as store:
        value = operation(store)
    yield value


def export_preferences(db_path: Path, comparison_id: int, path: str) -> Iterator[Exported]:
    with Store(db_path) as store:
        dataset = preference_dataset(store, comparison_id)
    Path(path).write_text(dataset.text, encoding="utf-8")
    yield Exported(path, dataset.pairs, dataset.ties)
