"""The History tab's work off the GUI thread: each task opens its own
:class:`~playground.storage.store.Store` (a connection belongs to its thread), calls the core
and yields what the widgets show. The rules (filters, pages, report files) are the core's:
:mod:`playground.runs.browsing` and :mod:`playground.runs.history`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from playground.evaluation.exports import ExportFormat, export
from playground.runs.browsing import HistoryPage, HistoryQuery, RunDetail, history_page, run_details
from playground.runs.history import stored_report
from playground.storage.store import RatingRow, Store


def load_history(db_path: Path, query: HistoryQuery) -> Iterator[HistoryPage]:
    with Store(db_path) as store:
        yield history_page(store, query)


def load_details(db_path: Path, comparison_id: int) -> Iterator[tuple[int, list[RunDetail]]]:
    with Store(db_path) as store:
        yield comparison_id, run_details(store, comparison_id)


def rate_run(
    db_path: Path,
    run_id: int,
    *,
    thumbs: int | None = None,
    stars: int | None = None,
    note: str | None = None,
    clear: bool = False,
) -> Iterator[tuple[int, RatingRow | None]]:
    with Store(db_path) as store:
        if clear:
            store.clear_rating(run_id)
            yield run_id, None
        else:
            yield run_id, store.rate(run_id, thumbs=thumbs, stars=stars, note=note)


def delete_comparisons(db_path: Path, ids: list[int]) -> Iterator[list[int]]:
    """The ids that were there to delete."""
    with Store(db_path) as store:
        yield [cid for cid in ids if store.delete_comparison(cid)]


def export_comparisons(
    db_path: Path, targets: dict[int, Path], fmt: ExportFormat
) -> Iterator[list[str]]:
    """Each comparison's full report written to its file; yields the paths written."""
    written: list[str] = []
    with Store(db_path) as store:
        for cid, target in targets.items():
            target.write_text(export(stored_report(store, cid), fmt), encoding="utf-8")
            written.append(str(target))
    yield written
