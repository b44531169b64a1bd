"""What people said about runs, as stored: quick ratings, criterion ratings and judgements.

A quick rating (thumbs, stars, a note) belongs to one run. Criterion ratings (1–5 on a
comparison's named criteria) and blind pairwise judgements belong to a comparison; the rules
for criteria and judgements are the domain's (``playground.ratings``), checked here before
anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from playground.ratings import DEFAULT_CRITERIA, Choice, PreferenceError, check_criteria
from playground.storage.database import (
    Connection,
    StorageError,
    fetch_all,
    fetch_one,
    from_json,
    inserted_id,
    to_json,
    utc_now,
)

# -- rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingRow:
    run_id: int
    thumbs: int | None
    stars: int | None
    note: str | None
    updated_at: str


@dataclass(frozen=True)
class CriterionRatingRow:
    """A 1–5 rating of one run on one named criterion."""

    run_id: int
    criterion: str
    score: int
    note: str | None
    updated_at: str


@dataclass(frozen=True)
class JudgementRow:
    """A blind verdict: ``run_a`` was shown on the left, ``run_b`` on the right; ``input_id``
    is the inputs row both answered."""

    id: int
    comparison_id: int
    input_id: int
    run_a: int
    run_b: int
    choice: str
    created_at: str


def rating_row(r: Mapping[str, Any]) -> RatingRow:
    return RatingRow(
        run_id=r["run_id"],
        thumbs=r["thumbs"],
        stars=r["stars"],
        note=r["note"],
        updated_at=r["updated_at"],
    )


def criterion_rating_row(r: Mapping[str, Any]) -> CriterionRatingRow:
    return CriterionRatingRow(
        run_id=r["run_id"],
        criterion=r["criterion"],
        score=r["score"],
        note=r["note"],
        updated_at=r["updated_at"],
    )


def judgement_row(r: Mapping[str, Any]) -> JudgementRow:
    return JudgementRow(
        id=r["id"],
        comparison_id=r["comparison_id"],
        input_id=r["input_id"],
        run_a=r["run_a"],
        run_b=r["run_b"],
        choice=r["choice"],
        created_at=r["created_at"],
    )


def _criteria(db: Database, comparison_id: int) -> tuple[str, ...]:
    row = fetch_one(db, "SELECT criteria_json FROM comparisons WHERE id = ?", [comparison_id])
    if row is None:
        raise StorageError(f"there is no comparison with id {comparison_id}")
    stored = from_json(row["criteria_json"])
    return DEFAULT_CRITERIA if stored is None else tuple(stored)


# -- the record store -----------------------------------------------------------------------------


class RatingStore:
    """Quick ratings of runs, and the human evaluation of comparisons."""

    def __init__(self, database: Connection) -> None:
        self._database = database

    # -- quick ratings ----------------------------------------------------------------------------

    def rate(
        self,
        run_id: int,
        *,
        thumbs: int | None = None,
        stars: int | None = None,
        note: str | None = None,
    ) -> RatingRow:
        """Set the parts of a run's rating that are given; the others keep their value, so a
        thumb and a star rating can be given in separate clicks. ``note=""`` clears the note;
        :meth:`clear_rating` removes the whole rating."""
        if thumbs is not None and (isinstance(thumbs, bool) or thumbs not in (-1, 1)):
            raise StorageError(f"thumbs must be 1 (up) or -1 (down), got {thumbs!r}")
        if stars is not None and (
            isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5
        ):
            raise StorageError(f"stars must be a whole number from 1 to 5, got {stars!r}")
        changes: dict[str, Any] = {"updated_at": utc_now()}
        if thumbs is not None:
            changes["thumbs"] = thumbs
        if stars is not None:
            changes["stars"] = stars
        if note is not None:
            changes["note"] = note or None

        def write(db: Database) -> RatingRow:
            if fetch_one(db, "SELECT id FROM runs WHERE id = ?", [run_id]) is None:
                raise StorageError(f"there is no run with id {run_id}")
            db.table("ratings").upsert({"run_id": run_id, **changes}, pk="run_id")
            row = fetch_one(db, "SELECT * FROM ratings WHERE run_id = ?", [run_id])
            assert row is not None  # just written, in this transaction
            return rating_row(row)

        return self._database.write("the rating", write)

    def rating(self, run_id: int) -> RatingRow | None:
        def read(db: Database) -> RatingRow | None:
            row = fetch_one(db, "SELECT * FROM ratings WHERE run_id = ?", [run_id])
            return None if row is None else rating_row(row)

        return self._database.read("a rating", read)

    def clear_rating(self, run_id: int) -> None:
        self._database.write(
            "the rating",
            lambda db: db.execute("DELETE FROM ratings WHERE run_id = ?", [run_id]),
        )

    # -- criteria ---------------------------------------------------------------------------------

    def criteria(self, comparison_id: int) -> tuple[str, ...]:
        """The Likert criteria of a comparison: its own list, or the defaults."""
        return self._database.read(
            "the rating criteria", lambda db: _criteria(db, comparison_id)
        )

    def set_criteria(
        self,
        comparison_id: int,
        names: Sequence[str],
        *,
        renamed: Mapping[str, str] | None = None,
    ) -> tuple[str, ...]:
        """Replace a comparison's criteria; returns them as stored.

        ``renamed`` (old name → new name) carries the ratings of a renamed criterion over to its
        new name. Ratings on a criterion that is removed are kept but left out of every list
        and report, so adding it back brings them back instead of losing a person's work.
        """
        try:
            cleaned = check_criteria(names)
        except PreferenceError as exc:
            raise StorageError(str(exc)) from exc
        moves = dict(renamed or {})
        for old, new in moves.items():
            if new.strip() not in cleaned:
                raise StorageError(f"the criterion {old!r} is renamed to {new!r}, which is not "
                                   "among the new criteria")

        def write(db: Database) -> tuple[str, ...]:
            _criteria(db, comparison_id)  # the comparison must exist
            for old, new in moves.items():
                if old == new.strip():
                    continue
                # A rename onto a name that once had ratings replaces those hidden ratings.
                db.execute(
                    "UPDATE OR REPLACE criterion_ratings SET criterion = ? WHERE criterion = ? "
                    "AND run_id IN (SELECT id FROM runs WHERE comparison_id = ?)",
                    [new.strip(), old, comparison_id],
                )
            stored = None if cleaned == DEFAULT_CRITERIA else to_json(list(cleaned))
            db.execute(
                "UPDATE comparisons SET criteria_json = ? WHERE id = ?", [stored, comparison_id]
            )
            return cleaned

        return self._database.write("the rating criteria", write)

    def rate_criterion(
        self, run_id: int, criterion: str, score: int, note: str | None = None
    ) -> CriterionRatingRow:
        """Rate a run 1–5 on one of its comparison's criteria. ``note=None`` keeps the note
        already there, ``""`` clears it."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise StorageError(f"a rating must be a whole number from 1 to 5, got {score!r}")
        changes: dict[str, Any] = {"score": score, "updated_at": utc_now()}
        if note is not None:
            changes["note"] = note or None

        def write(db: Database) -> CriterionRatingRow:
            run = fetch_one(db, "SELECT comparison_id FROM runs WHERE id = ?", [run_id])
            if run is None:
                raise StorageError(f"there is no run with id {run_id}")
            comparison_id = run["comparison_id"]
            if comparison_id is None:
                raise StorageError(f"run {run_id} is not part of a comparison, which is what "
                                   "names the criteria to rate it on")
            names = _criteria(db, int(comparison_id))
            if criterion not in names:
                raise StorageError(f"{criterion!r} is not a criterion of comparison "
                                   f"{comparison_id}; its criteria are {', '.join(names)}")
            db.table("criterion_ratings").upsert(
                {"run_id": run_id, "criterion": criterion, **changes}, pk=("run_id", "criterion")
            )
            found = fetch_one(
                db, "SELECT * FROM criterion_ratings WHERE run_id = ? AND criterion = ?",
                [run_id, criterion],
            )
            assert found is not None  # just written, in this transaction
            return criterion_rating_row(found)

        return self._database.write("the rating", write)

    def criterion_ratings(self, comparison_id: int) -> list[CriterionRatingRow]:
        """Every rating of the comparison's runs on its current criteria, by run then in the
        order of the criteria."""

        def read(db: Database) -> list[CriterionRatingRow]:
            names = _criteria(db, comparison_id)
            order = {name: n for n, name in enumerate(names)}
            rows = [
                criterion_rating_row(r)
                for r in fetch_all(
                    db,
                    "SELECT cr.* FROM criterion_ratings cr JOIN runs r ON r.id = cr.run_id "
                    "WHERE r.comparison_id = ?",
                    [comparison_id],
                )
                if r["criterion"] in order
            ]
            rows.sort(key=lambda r: (r.run_id, order[r.criterion]))
            return rows

        return self._database.read("the ratings", read)

    # -- judgements -------------------------------------------------------------------------------

    def save_judgement(
        self, comparison_id: int, run_a: int, run_b: int, choice: Choice
    ) -> JudgementRow:
        """Save a verdict on two outputs of the same input from two different variants:
        ``choice`` is ``"a"`` (run_a, shown left, is better), ``"b"`` or ``"tie"``."""
        if choice not in ("a", "b", "tie"):
            raise StorageError(f"a judgement is 'a', 'b' or 'tie', got {choice!r}")
        if run_a == run_b:
            raise StorageError(f"a judgement compares two different runs, got run {run_a} twice")

        def write(db: Database) -> JudgementRow:
            found = {
                r["id"]: r
                for r in fetch_all(
                    db,
                    "SELECT r.id, r.comparison_id, r.input_id, r.variant_id, r.status, "
                    "i.input_key, v.name AS variant FROM runs r "
                    "LEFT JOIN inputs i ON i.id = r.input_id "
                    "LEFT JOIN variants v ON v.id = r.variant_id WHERE r.id IN (?, ?)",
                    [run_a, run_b],
                )
            }
            for run_id in (run_a, run_b):
                row = found.get(run_id)
                if row is None:
                    raise StorageError(f"there is no run with id {run_id}")
                if row["comparison_id"] != comparison_id:
                    raise StorageError(f"run {run_id} is not part of comparison {comparison_id}")
                if row["status"] != "ok":
                    raise StorageError(f"run {run_id} has no output to judge (it {row['status']})")
            a, b = found[run_a], found[run_b]
            if a["input_id"] is None or a["input_id"] != b["input_id"]:
                raise StorageError(
                    f"runs {run_a} and {run_b} answer different inputs ({a['input_key']} and "
                    f"{b['input_key']}); a judgement compares two outputs of the same input"
                )
            if a["variant_id"] is None or a["variant_id"] == b["variant_id"]:
                raise StorageError(
                    f"runs {run_a} and {run_b} come from the same variant ({a['variant']}); a "
                    "judgement compares two different variants"
                )
            record = {
                "comparison_id": comparison_id,
                "input_id": a["input_id"],
                "run_a": run_a,
                "run_b": run_b,
                "choice": choice,
                "created_at": utc_now(),
            }
            judgement_id = inserted_id(db.table("judgements").insert(record))
            return JudgementRow(id=judgement_id, **record)

        return self._database.write("the judgement", write)

    def judgements(self, comparison_id: int) -> list[JudgementRow]:
        """In the order they were given."""

        def read(db: Database) -> list[JudgementRow]:
            return [
                judgement_row(r)
                for r in fetch_all(
                    db, "SELECT * FROM judgements WHERE comparison_id = ? ORDER BY id",
                    [comparison_id],
                )
            ]

        return self._database.read("the judgements", read)

    def undo_last_judgement(self, comparison_id: int) -> JudgementRow | None:
        """Remove and return the newest judgement of the comparison (None when there is none),
        for a judge who pressed the wrong key."""

        def write(db: Database) -> JudgementRow | None:
            row = fetch_one(
                db,
                "SELECT * FROM judgements WHERE comparison_id = ? ORDER BY id DESC LIMIT 1",
                [comparison_id],
            )
            if row is None:
                return None
            db.execute("DELETE FROM judgements WHERE id = ?", [row["id"]])
            return judgement_row(row)

        return self._database.write("the judgement", write)
