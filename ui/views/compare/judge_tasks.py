"""The judge's work off the GUI thread: waiting for the engines, then the core's judge run over
a stored comparison (:mod:`playground.runs.judge_runner`) on the window's shared model pool."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from playground.prompts.collection import Collection
from playground.runs.judge_plan import judge_spec, judge_template
from playground.runs.judge_runner import run_judge
from playground.runs.runner import CancelToken
from playground.storage.store import Store
from ui.context import AppContext
from ui.services.jobs import engine_job


@dataclass(frozen=True)
class JudgeRequest:
    """What the Judge dialog hands to the task."""

    comparison_id: int
    template_id: str
    #: the judge model's key ("" for the default model)
    model: str
    criteria: tuple[str, ...]


def judge_task(
    context: AppContext, collection: Collection, request: JudgeRequest, cancel: CancelToken
) -> Iterator[object]:
    """The runner's events and each rubric score as it is saved; nothing when cancelled while
    waiting for the engines."""
    def work(store: Store) -> Iterator[object]:
        template = judge_template(collection, request.template_id)
        spec = judge_spec(store, request.comparison_id, template, request.model,
                          request.criteria)
        yield from run_judge(store, request.comparison_id, spec, context.hub.pool,
                             cancel=cancel)

    return engine_job(context, cancel, work)
