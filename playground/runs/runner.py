"""Executes a comparison: every variant on every input, k seeded samples each.

A plain generator of events (no Qt): the CLI prints them, the GUI wraps the same generator in a
worker thread. Runs are ordered so prompts sharing a prefix run back to back and llama.cpp reuses
its KV cache; each run is saved (with its scores) as soon as it completes, so a cancelled or
killed comparison resumes where it stopped.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from playground.comparison import ComparisonSpec, Input, RunStatus, Variant, run_key
from playground.engine.backends import Backend, LocalBackend
from playground.engine.constraints import check_local
from playground.engine.endpoints import is_remote, resolve_endpoint
from playground.engine.models import resolve_model
from playground.engine.options import LoadOptions
from playground.engine.remote import RemoteBackend
from playground.errors import PlaygroundError
from playground.evaluation.report import ReportRun
from playground.evaluation.structured import JSON_METRICS
from playground.events import Failed, Finished, GenerationRequest, Result, Token
from playground.prompts.templates import PromptTemplate, parse_template, render_template, to_request
from playground.runs.eta import EtaEstimate, FinishedWork, PendingWork
from playground.scores import Score
from playground.storage.store import Store


@dataclass(frozen=True)
class PlannedRun:
    variant: Variant
    input: Input
    sample: int
    seed: int
    key: str
    request: GenerationRequest | None
    prompt_text: str
    error: str | None = None


@dataclass(frozen=True)
class RunDone:
    """One finished run, as saved."""

    planned: PlannedRun
    status: RunStatus
    result: Result | None
    error: str | None
    scores: tuple[Score, ...]
    run_id: int | None


def report_run(done: RunDone) -> ReportRun:
    """A finished run as the report reads it: the same fields a report built later from the
    database gets (the prompt the model read, the record), so a live report and a stored
    one agree."""
    result = done.result
    return ReportRun(
        variant=done.planned.variant.name, input_id=done.planned.input.id,
        sample=done.planned.sample, seed=done.planned.seed, status=done.status,
        prompt=result.rendered_prompt if result else done.planned.prompt_text,
        output=result.text if result else "", references=done.planned.input.references,
        scores={s.metric: s.value for s in done.scores},
        tokens_per_second=result.tokens_per_second if result else None,
        total_s=result.total_s if result else None, ttft_s=result.ttft_s if result else None,
        error=done.error, run_id=done.run_id,
        record=result.record if result else None,
        reasons={s.metric: s.reason for s in done.scores if s.reason},
    )


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    skipped: int
    failed: int
    elapsed_s: float
    eta_s: float | None


@dataclass(frozen=True)
class ComparisonStarted:
    comparison_id: int | None
    total: int
    skipped: int
    #: what a person calls it ("#3", "Run 2"): its number, not its row id
    label: str | None = None


@dataclass(frozen=True)
class ComparisonFinished:
    comparison_id: int | None
    status: str
    done: int
    failed: int
    elapsed_s: float


RunnerEvent = ComparisonStarted | RunDone | Progress | ComparisonFinished
TokenCallback = Callable[[PlannedRun, Token], None]


class CancelToken:
    """Set from any thread; the runner stops after the run in flight, which it cancels too."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove


class BackendPool:
    """One backend per model, started on first use and restarted after a crash; local and
    remote models can be mixed in one comparison."""

    def __init__(
        self,
        options: LoadOptions | None = None,
        factory: Callable[[str], Backend] | None = None,
    ) -> None:
        self.options = options or LoadOptions()
        self._factory = factory
        self._backends: dict[str, Backend] = {}

    def get(self, model: str) -> Backend:
        """``remote:NAME`` is a saved OpenAI-compatible endpoint; anything else a local model."""
        if model not in self._backends:
            if self._factory is not None:
                self._backends[model] = self._factory(model)
            elif is_remote(model):
                self._backends[model] = RemoteBackend(resolve_endpoint(model))
            else:
                self._backends[model] = LocalBackend(
                    resolve_model(model or None), self.options, auto_restart=True
                )
        return self._backends[model]

    def discard(self, model: str) -> None:
        """Close one model's backend; the next ``get`` starts it afresh with new settings."""
        backend = self._backends.pop(model, None)
        if backend is not None:
            backend.close()

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()


Scorer = Callable[[str, Sequence[str]], Sequence[Score]]


TASK_METRIC_NAMES = ("accuracy", "exact_match", "token_f1", "entity_f1", "confidence")


def make_scorer(metrics: Sequence[str], language: str | None = None) -> Scorer:
    """The comparison's metrics against an input's references, with one shared scorer.

    Overlap metrics (ROUGE, BLEU, chrF) go to :mod:`playground.evaluation.scoring`; task metrics
    (label accuracy, exact match, token and entity F1) to :mod:`playground.evaluation.taskmetrics`.
    """
    from playground.evaluation import taskmetrics
    from playground.evaluation.scoring import Scorer as MetricScorer

    scorer = MetricScorer(language=language)
    overlap = [m for m in metrics if m not in TASK_METRIC_NAMES and m not in JSON_METRICS]
    task = [m for m in metrics if m in TASK_METRIC_NAMES]

    def score(hypothesis: str, references: Sequence[str]) -> Sequence[Score]:
        scores: list[Score] = []
        if overlap:
            scores.extend(scorer.score_pair(hypothesis, references, metrics=overlap))
        for metric in task:
            if metric == "accuracy":
                scores.append(taskmetrics.label_accuracy(hypothesis, references))
            elif metric == "exact_match":
                scores.append(taskmetrics.exact_match(hypothesis, references))
            elif metric == "token_f1":
                scores.extend(taskmetrics.token_f1(hypothesis, references))
            elif metric == "entity_f1":
                scores.extend(taskmetrics.entity_f1(hypothesis, references))
            # "confidence" is computed from the run's log-probabilities, not the references.
        return scores

    return score


def wants_json(spec: ComparisonSpec, variant: Variant) -> bool:
    """JSON scores go on every output of a variant constrained to JSON, and on every output
    when the comparison asks for them (a task that asks for JSON in its prompt)."""
    if variant.output is not None and variant.output.kind != "grammar":
        return True
    return any(m in JSON_METRICS for m in spec.metrics)


def json_scores(variant: Variant, result: Result, references: Sequence[str]) -> list[Score]:
    from playground.evaluation.structured import structured_scores

    schema = variant.output.schema() if variant.output is not None else None
    return structured_scores(result.text, result.finish_reason, schema, references)


# -- planning ---------------------------------------------------------------------------------


def plan_runs(spec: ComparisonSpec, *, prefix_order: bool = True) -> list[PlannedRun]:
    """Render every cell and order the runs.

    Without prefix ordering, runs go round by round (every variant on every input for sample 0,
    then sample 1...), as a plain loop would. With it, runs are grouped by model and sorted by
    their prompt text, so prompts that share a beginning (the same few-shot examples, the same
    system prompt, the samples of one cell) are adjacent and llama.cpp evaluates only the part
    that differs.
    """
    # A variant whose template does not parse fails its own runs; the other variants still run.
    templates: dict[str, PromptTemplate | PlaygroundError] = {}
    for v in spec.variants:
        try:
            templates[v.name] = parse_template(v.template_source, v.template_id)
            if v.output is not None and not is_remote(v.model):
                check_local(v.output)  # a schema the grammar converter refuses fails here
        except PlaygroundError as exc:
            templates[v.name] = exc
    planned: list[PlannedRun] = []
    for sample in range(spec.samples):
        seed = spec.seed(sample)
        for input_ in spec.inputs:
            for variant in spec.variants:
                key = run_key(variant, input_, sample, seed)
                values = {**input_.values, **variant.values}
                try:
                    template = templates[variant.name]
                    if isinstance(template, PlaygroundError):
                        raise template
                    rendered = render_template(template, values, library=variant.library_sources)
                except PlaygroundError as exc:
                    planned.append(PlannedRun(variant, input_, sample, seed, key, None, "",
                                              str(exc)))
                    continue
                params = variant.params.with_seed(seed)
                # Confidence needs each chosen token's log-probability (no alternatives).
                logprobs = spec.logprobs
                if logprobs is None and "confidence" in spec.metrics:
                    logprobs = 0
                request = to_request(rendered, params, chat=variant.chat, logprobs=logprobs,
                                     constraint=variant.output)
                planned.append(PlannedRun(variant, input_, sample, seed, key, request,
                                          rendered.text))
    if prefix_order:
        planned.sort(key=lambda p: (p.variant.model, p.prompt_text, p.sample))
    return planned


# -- running ----------------------------------------------------------------------------------


class _Tally:
    """Counts of a comparison's runs so far, and the work still ahead for its time estimate."""

    def __init__(self, todo: Sequence[PlannedRun], concurrency: int) -> None:
        self.started = time.monotonic()
        self.done = 0
        self.failed = 0
        self._finished: list[FinishedWork] = []
        self._pending: dict[int, list[int]] = {}  # max_tokens -> [runs, prompt characters]
        self._eta = EtaEstimate(concurrency)
        for item in todo:
            if item.request is not None:
                group = self._pending.setdefault(item.request.params.max_tokens, [0, 0])
                group[0] += 1
                group[1] += len(item.prompt_text)

    def add(self, item: PlannedRun, status: RunStatus, result: Result | None,
            seconds: float) -> None:
        self.done += 1
        self.failed += status == "failed"
        if item.request is None:
            return  # never went to a model: no time, no work
        group = self._pending[item.request.params.max_tokens]
        group[0] -= 1
        group[1] -= len(item.prompt_text)
        if result is not None:
            self._finished.append(FinishedWork(seconds, len(item.prompt_text),
                                               result.prompt_tokens, result.completion_tokens))

    def progress(self, total: int, skipped: int) -> Progress:
        elapsed = time.monotonic() - self.started
        pending = [PendingWork(runs, chars, max_tokens)
                   for max_tokens, (runs, chars) in self._pending.items()]
        eta = self._eta.update(self._finished, pending, elapsed)
        if total - skipped - self.done <= 0:
            eta = 0.0
        return Progress(self.done, total, skipped, self.failed, elapsed, eta)


def run_comparison(  # noqa: C901
    spec: ComparisonSpec,
    pool: BackendPool,
    *,
    store: Store | None = None,
    comparison_id: int | None = None,
    scorer: Scorer | None = None,
    cancel: CancelToken | None = None,
    prefix_order: bool = True,
    perplexity: bool = True,
    concurrency: int = 1,
    on_token: TokenCallback | None = None,
) -> Iterator[RunnerEvent]:
    """Run (or resume, with ``comparison_id``) a comparison, yielding events as runs finish.

    ``on_token`` sees every streamed token with its run as it arrives, from the thread that
    generates it (the GUI turns it into a queued signal); the events stay one per finished run.

    Local runs go one at a time (one model process does one thing at a time); runs on remote
    endpoints go out ``concurrency`` at a time, each on its own connection. Saving and scoring
    stay on the caller's thread, where the store belongs.
    """
    if not 1 <= concurrency <= 64:
        raise PlaygroundError(f"concurrency must be between 1 and 64, got {concurrency}")
    cancel = cancel or CancelToken()
    if spec.checks:
        from playground.evaluation.taskmetrics import content_checks

        content_checks("", must_contain=spec.checks.get("must_contain", ()),
                       must_not_contain=spec.checks.get("must_not_contain", ()),
                       regex=bool(spec.checks.get("regex", False)))  # a bad pattern fails here
    planned = plan_runs(spec, prefix_order=prefix_order)
    done_keys: set[str] = set()
    variant_ids: Mapping[str, int] = {}
    input_ids: Mapping[str, int] = {}
    if store is not None:
        if comparison_id is None:
            comparison_id = store.save_comparison(spec)
        else:
            done_keys = store.completed_run_keys(comparison_id)
            store.set_status(comparison_id, "running")
        variant_ids = store.variant_ids(comparison_id)
        input_ids = store.input_ids(comparison_id)
    todo = [p for p in planned if p.key not in done_keys]
    skipped = len(planned) - len(todo)
    label = store.comparison(comparison_id).label if store is not None and comparison_id else None
    yield ComparisonStarted(comparison_id, len(planned), skipped, label)

    tally = _Tally(todo, concurrency)
    ppl_cache: dict[tuple[str, str], Score | None] = {}
    if perplexity:
        # Evaluating a reference clears the KV cache, so all of them go first, not between runs.
        for item in todo:
            if cancel.cancelled:
                break
            if item.input.references and item.request is not None:
                _reference_perplexity(item, pool, ppl_cache)
    status = "done"
    for item, outcome, seconds in _outcomes(todo, pool, cancel, concurrency, on_token):
        if outcome is None:  # cancelled mid-run: not saved, resume runs it again
            status = "cancelled"
            break
        run_status, result, error = outcome
        scores: list[Score] = []
        if result is not None and run_status == "ok" and item.input.references and scorer:
            scores.extend(scorer(result.text, item.input.references))
        if spec.checks and result is not None and run_status == "ok":
            from playground.evaluation.taskmetrics import content_checks

            scores.extend(content_checks(
                result.text,
                must_contain=spec.checks.get("must_contain", ()),
                must_not_contain=spec.checks.get("must_not_contain", ()),
                regex=bool(spec.checks.get("regex", False)),
            ))
        if "confidence" in spec.metrics and result is not None and result.logprobs:
            from playground.evaluation.taskmetrics import confidence

            scores.extend(confidence([lp.logprob for lp in result.logprobs]).scores)
        if result is not None and run_status == "ok" and wants_json(spec, item.variant):
            scores.extend(json_scores(item.variant, result, item.input.references))
        ppl = ppl_cache.get((item.variant.name, item.input.id))
        if ppl is not None and run_status == "ok":
            scores.append(ppl)
        run_id = None
        if store is not None:
            run_id = store.save_run(
                comparison_id=comparison_id,
                variant_id=variant_ids.get(item.variant.name),
                input_id=input_ids.get(item.input.id),
                sample=item.sample,
                seed=item.seed,
                run_key=item.key,
                result=result,
                status=run_status,
                error=error,
                scores=scores,
            )
        tally.add(item, run_status, result, seconds)
        yield RunDone(item, run_status, result, error, tuple(scores), run_id)
        yield tally.progress(len(planned), skipped)
    if cancel.cancelled:
        status = "cancelled"
    if store is not None and comparison_id is not None:
        store.set_status(comparison_id, status)
    yield ComparisonFinished(
        comparison_id, status, tally.done, tally.failed, time.monotonic() - tally.started
    )


Outcome = tuple[RunStatus, Result | None, str | None]


def _execute(
    item: PlannedRun,
    get_backend: Callable[[], Backend],
    cancel: CancelToken,
    on_token: TokenCallback | None = None,
) -> Outcome | None:
    """One run to its end; None when it was cancelled (it is then not saved)."""
    if item.request is None:
        return "failed", None, item.error
    try:
        backend = get_backend()
    except PlaygroundError as exc:
        return "failed", None, str(exc)
    remove = cancel.on_cancel(backend.cancel)
    try:
        for event in backend.generate(item.request):
            if isinstance(event, Token):
                if on_token is not None:
                    on_token(item, event)
                continue
            if isinstance(event, Finished):
                if event.result.finish_reason == "cancelled":
                    return None
                return "ok", event.result, None
            if isinstance(event, Failed):
                return "failed", event.result, str(event.error)
    except PlaygroundError as exc:
        return "failed", None, str(exc)
    finally:
        remove()
    return "failed", None, "the generation ended without a result"


def _outcomes(
    todo: Sequence[PlannedRun],
    pool: BackendPool,
    cancel: CancelToken,
    concurrency: int,
    on_token: TokenCallback | None = None,
) -> Iterator[tuple[PlannedRun, Outcome | None, float]]:
    """Execute runs: local ones in order (a model loaded for several sequences decodes its runs
    together, see :mod:`playground.runs.batched`), remote ones ``concurrency`` at a time."""
    from playground.runs.batched import local_outcomes

    remote = [p for p in todo if is_remote(p.variant.model)] if concurrency > 1 else []
    local = [p for p in todo if p not in remote] if remote else list(todo)
    for item, outcome, seconds in local_outcomes(local, pool, cancel, on_token, _execute):
        yield item, outcome, seconds
        if outcome is None:
            return
    if remote and not cancel.cancelled:
        yield from _concurrent(remote, pool, cancel, concurrency, on_token)


def _concurrent(
    items: Sequence[PlannedRun],
    pool: BackendPool,
    cancel: CancelToken,
    concurrency: int,
    on_token: TokenCallback | None = None,
) -> Iterator[tuple[PlannedRun, Outcome | None, float]]:
    spare: dict[str, queue.SimpleQueue[Backend]] = {}
    lock = threading.Lock()

    def borrow(model: str) -> Backend:
        with lock:
            q = spare.setdefault(model, queue.SimpleQueue())
        try:
            return q.get_nowait()
        except queue.Empty:
            return RemoteBackend(resolve_endpoint(model))

    def run_one(item: PlannedRun) -> tuple[PlannedRun, Outcome | None, float]:
        started = time.monotonic()
        if cancel.cancelled:
            return item, None, 0.0
        backend: Backend | None = None

        def get() -> Backend:
            nonlocal backend
            backend = borrow(item.variant.model)
            return backend

        outcome = _execute(item, get, cancel, on_token)
        if backend is not None:
            spare[item.variant.model].put(backend)
        return item, outcome, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="remote-run") as ex:
        futures = [ex.submit(run_one, item) for item in items]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            if not all(f.done() for f in futures):
                cancel.cancel()  # the caller stopped listening: end what is still in flight
            for f in futures:
                f.cancel()
    for q in spare.values():
        while True:
            try:
                q.get_nowait().close()
            except queue.Empty:
                break


def _reference_perplexity(
    item: PlannedRun, pool: BackendPool, cache: dict[tuple[str, str], Score | None]
) -> Score | None:
    """Mean perplexity of the references after the prompt, once per (variant, input)."""
    key = (item.variant.name, item.input.id)
    if key in cache:
        return cache[key]
    try:
        backend = pool.get(item.variant.model)
    except PlaygroundError:
        cache[key] = None  # the run itself reports why the model is unusable
        return None
    score: Score | None = None
    if isinstance(backend, LocalBackend) and item.request is not None:
        values: list[float] = []
        try:
            for reference in item.input.references:
                if reference.strip():
                    values.append(backend.perplexity(item.request, reference))
        except PlaygroundError as exc:
            score = Score("ref_ppl", None, _ppl_signature(backend), str(exc))
        else:
            if values:
                score = Score(
                    "ref_ppl", sum(values) / len(values), _ppl_signature(backend)
                )
            else:
                score = Score("ref_ppl", None, _ppl_signature(backend), "empty reference")
    cache[key] = score
    return score


def _ppl_signature(backend: LocalBackend) -> str:
    name = backend.info.display_name
    return f"ref_ppl|model:{name}|tok:model|mean-over-references|version:1"


def spec_summary(spec: ComparisonSpec) -> dict[str, Any]:
    return {
        "variants": len(spec.variants),
        "inputs": len(spec.inputs),
        "samples": spec.samples,
        "runs": len(spec.variants) * len(spec.inputs) * spec.samples,
    }
