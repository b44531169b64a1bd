"""History's judge work off the GUI thread: a comparison's judges read back, a judge run again
on the window's shared model pool after the engine lock, a judge deleted. The rules are the
core's (:mod:`playground.runs.judge_history`, :mod:`playground.runs.judge_runner`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from playground.runs.judge_history import JudgeSummary, comparison_judges, delete_judge
from playground.runs.judge_runner import rerun_judge
from playground.runs.runner import CancelToken
from playground.storage.store import Store
from ui.context import AppContext
from ui.services.jobs import engine_job


def load_judges(db_path: Path, comparison_id: int) -> Iterator[tuple[int, list[JudgeSummary]]]:
    with Store(db_path) as store:
        yield comparison_id, comparison_judges(store, comparison_id)


def rerun_task(context: AppContext, judge_id: int, cancel: CancelToken) -> Iterator[object]:
    """The runner's events and each rubric score as it is saved; nothing when cancelled while
    waiting for the engines."""
    return engine_job(context, cancel,
                      lambda store: rerun_judge(store, judge_id, context.hub.pool, cancel=cancel))


def delete_judge_task(db_path: Path, judge_id: int) -> Iterator[int]:
    """The judged comparison's id, once the judge is gone and its scores given back."""
    with Store(db_path) as store:
        yield delete_judge(store, judge_id)
