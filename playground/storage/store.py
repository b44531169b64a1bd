"""Every comparison and run, kept in one SQLite database per user: the door every caller uses.

``Store`` opens the database (:mod:`playground.storage.database`: connection, upgrade, backup,
locking) and answers through three record stores that map rows by column name:
:mod:`~playground.storage.comparisons` (comparisons, variants, inputs, templates, models),
:mod:`~playground.storage.runs` (runs, scores, token alternatives, records) and
:mod:`~playground.storage.ratings` (ratings, criterion ratings, judgements).

The runner saves each run, with its scores, in its own transaction as soon as it completes, so
a crash, a kill or a full disk loses at most the run in flight, never a half-written one.

**Threads.** A ``Store`` wraps one sqlite3 connection, and a connection belongs to the thread
that opened it: use a ``Store`` only from the thread that created it (every public method
checks and raises :class:`StorageError` otherwise). Threads or processes that write at the same
time each open their own ``Store`` on the same file; SQLite serialises their writes, and a
writer that finds the database busy waits and retries instead of failing.

**Where.** ``Store()`` opens :func:`default_db_path`: ``$PLAYGROUND_DB`` when set, else
``playground.db`` in the per-user data folder. A path given to ``Store`` wins over both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from playground.comparison import ComparisonSpec, RunStatus
from playground.events import Result
from playground.ratings import Choice
from playground.scores import Score
from playground.storage.comparisons import (
    COMPARISON_STATUSES,
    SPEC_FORMAT,
    ComparisonRow,
    ComparisonStatus,
    ComparisonStore,
    InputRow,
    VariantRow,
    spec_from_dict,
    spec_to_dict,
)
from playground.storage.database import (
    BUSY_TIMEOUT_MS,
    DB_ENV,
    DB_FILE_NAME,
    RETRY_BUDGET_S,
    Connection,
    StorageError,
    default_db_path,
)
from playground.storage.ratings import CriterionRatingRow, JudgementRow, RatingRow, RatingStore
from playground.storage.runs import RUN_STATUSES, RunRow, RunStore, fts_literal, run_model_name
from playground.wording import ComparisonKind

__all__ = [
    "BUSY_TIMEOUT_MS",
    "COMPARISON_STATUSES",
    "DB_ENV",
    "DB_FILE_NAME",
    "RETRY_BUDGET_S",
    "RUN_STATUSES",
    "SPEC_FORMAT",
    "ComparisonRow",
    "ComparisonStatus",
    "CriterionRatingRow",
    "InputRow",
    "JudgementRow",
    "RatingRow",
    "RunRow",
    "StorageError",
    "Store",
    "VariantRow",
    "default_db_path",
    "fts_literal",
    "run_model_name",
    "spec_from_dict",
    "spec_to_dict",
]


class Store:
    """The playground database. Open one per thread; see the module docstring.

    ``notices`` collects things the user should be told about opening the database (a
    damaged file set aside, a backup taken before an upgrade); the store never prints.
    """

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False) -> None:
        self.database = Connection(path, readonly=readonly)
        self._comparisons = ComparisonStore(self.database)
        self._runs = RunStore(self.database)
        self._ratings = RatingStore(self.database)

    @property
    def path(self) -> Path:
        return self.database.path

    @property
    def readonly(self) -> bool:
        return self.database.readonly

    @property
    def notices(self) -> list[str]:
        return self.database.notices

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.database.close()

    @property
    def closed(self) -> bool:
        return self.database.closed

    # -- comparisons ------------------------------------------------------------------------------

    def save_comparison(self, spec: ComparisonSpec, judged_id: int | None = None) -> int:
        """Returns the new comparison's id; the comparison, its variants and inputs are saved
        together or not at all. ``judged_id``: a judge's runs over that comparison."""
        return self._comparisons.save_comparison(spec, judged_id)

    def judges(self, comparison_id: int) -> list[ComparisonRow]:
        """The judges run over a comparison (each a comparison of its own), oldest first."""
        return self._comparisons.judges(comparison_id)

    def comparison(self, comparison_id: int) -> ComparisonRow:
        return self._comparisons.comparison(comparison_id)

    def comparison_by_number(self, kind: ComparisonKind, number: int) -> ComparisonRow:
        """The comparison (kind "comparison") or Playground run (kind "run") people know by
        this number: #3, Run 3. Each kind is numbered on its own; ``id`` is the row's key."""
        return self._comparisons.by_number(kind, number)

    def history(
        self, limit: int = 50, offset: int = 0, kind: ComparisonKind | None = None
    ) -> list[ComparisonRow]:
        """Newest first and paged; ``kind`` keeps comparisons or Playground runs only."""
        return self._comparisons.history(limit, offset, kind)

    def set_status(self, comparison_id: int, status: str) -> None:
        self._comparisons.set_status(comparison_id, status)

    def delete_comparison(self, comparison_id: int) -> bool:
        """Delete a comparison with everything saved under it; returns whether it existed."""
        return self._comparisons.delete_comparison(comparison_id)

    def variants(self, comparison_id: int) -> list[VariantRow]:
        return self._comparisons.variants(comparison_id)

    def inputs(self, comparison_id: int) -> list[InputRow]:
        return self._comparisons.inputs(comparison_id)

    def variant_ids(self, comparison_id: int) -> dict[str, int]:
        """Variant name → row id."""
        return self._comparisons.variant_ids(comparison_id)

    def input_ids(self, comparison_id: int) -> dict[str, int]:
        """Input id (the dataset's) → row id."""
        return self._comparisons.input_ids(comparison_id)

    # -- runs -------------------------------------------------------------------------------------

    def save_run(
        self,
        *,
        comparison_id: int | None,
        variant_id: int | None,
        input_id: int | None,
        sample: int,
        seed: int,
        run_key: str,
        result: Result | None,
        status: RunStatus,
        error: str | None,
        scores: Sequence[Score] = (),
    ) -> int:
        """Save one finished run and its scores together; returns the run id. A cancelled run
        can be saved again (same id); a finished one is never replaced."""
        return self._runs.save_run(
            comparison_id=comparison_id, variant_id=variant_id, input_id=input_id,
            sample=sample, seed=seed, run_key=run_key, result=result, status=status,
            error=error, scores=scores,
        )

    def set_scores(self, scores: Mapping[int, Sequence[Score]]) -> None:
        """Add scores to saved runs (run id → scores), replacing a run's earlier score of the
        same metric: a judge's rubric scores, saved on the runs it judged."""
        self._runs.set_scores(scores)

    def reset_scores(
        self, run_ids: Sequence[int], metrics: Sequence[str],
        scores: Mapping[int, Sequence[Score]],
    ) -> None:
        """Remove the runs' scores of these metrics and save ``scores``, in one transaction."""
        self._runs.reset_scores(run_ids, metrics, scores)

    def run(self, run_id: int) -> RunRow:
        return self._runs.run(run_id)

    def runs(self, comparison_id: int) -> list[RunRow]:
        """In the order they were saved, with scores and ratings attached."""
        return self._runs.runs(comparison_id)

    def completed_run_keys(self, comparison_id: int) -> set[str]:
        """Keys of runs that resume must not run again."""
        return self._runs.completed_run_keys(comparison_id)

    def search(self, text: str, limit: int = 50) -> list[RunRow]:
        """Runs whose prompt or output contain every word of ``text``, newest first."""
        return self._runs.search(text, limit)

    # -- ratings ----------------------------------------------------------------------------------

    def rate(
        self,
        run_id: int,
        *,
        thumbs: int | None = None,
        stars: int | None = None,
        note: str | None = None,
    ) -> RatingRow:
        """Set the parts of a run's rating that are given; the others keep their value."""
        return self._ratings.rate(run_id, thumbs=thumbs, stars=stars, note=note)

    def rating(self, run_id: int) -> RatingRow | None:
        return self._ratings.rating(run_id)

    def clear_rating(self, run_id: int) -> None:
        self._ratings.clear_rating(run_id)

    # -- human evaluation -------------------------------------------------------------------------

    def criteria(self, comparison_id: int) -> tuple[str, ...]:
        """The Likert criteria of a comparison: its own list, or the defaults."""
        return self._ratings.criteria(comparison_id)

    def set_criteria(
        self,
        comparison_id: int,
        names: Sequence[str],
        *,
        renamed: Mapping[str, str] | None = None,
    ) -> tuple[str, ...]:
        """Replace a comparison's criteria (``renamed`` carries ratings over to new names)."""
        return self._ratings.set_criteria(comparison_id, names, renamed=renamed)

    def rate_criterion(
        self, run_id: int, criterion: str, score: int, note: str | None = None
    ) -> CriterionRatingRow:
        """Rate a run 1–5 on one of its comparison's criteria."""
        return self._ratings.rate_criterion(run_id, criterion, score, note)

    def criterion_ratings(self, comparison_id: int) -> list[CriterionRatingRow]:
        return self._ratings.criterion_ratings(comparison_id)

    def save_judgement(
        self, comparison_id: int, run_a: int, run_b: int, choice: Choice
    ) -> JudgementRow:
        """Save a verdict on two outputs of the same input from two different variants."""
        return self._ratings.save_judgement(comparison_id, run_a, run_b, choice)

    def judgements(self, comparison_id: int) -> list[JudgementRow]:
        """In the order they were given."""
        return self._ratings.judgements(comparison_id)

    def undo_last_judgement(self, comparison_id: int) -> JudgementRow | None:
        """Remove and return the newest judgement of the comparison, if any."""
        return self._ratings.undo_last_judgement(comparison_id)
