"""Quick ratings as stored: given in parts, read back with their run, validated, cleared.

Criterion ratings and judgements are tested with the report they feed, in
``tests/core/evaluation/test_human_eval.py``.
"""

from __future__ import annotations

import pytest

from playground.storage.store import StorageError, Store
from tests.core.storage.records import save_ok_run


def test_rating_round_trip(store: Store) -> None:
    """Thumbs, stars and a note given in separate calls add up; an empty note clears the note,
    and clearing removes the whole rating."""
    run_id = save_ok_run(store, None, "k", "text")
    store.rate(run_id, thumbs=1)
    store.rate(run_id, stars=4, note="good enough")
    rating = store.rating(run_id)
    assert rating is not None
    assert (rating.thumbs, rating.stars, rating.note) == (1, 4, "good enough")
    assert store.run(run_id).rating == rating
    store.rate(run_id, thumbs=-1, note="")
    rating = store.rating(run_id)
    assert rating is not None and (rating.thumbs, rating.stars, rating.note) == (-1, 4, None)
    store.clear_rating(run_id)
    assert store.rating(run_id) is None
    assert store.run(run_id).rating is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stars": 6}, "stars must be a whole number from 1 to 5, got 6"),
        ({"stars": 0}, "stars must be a whole number from 1 to 5, got 0"),
        ({"stars": 2.5}, "stars must be a whole number from 1 to 5, got 2.5"),
        ({"thumbs": 0}, "thumbs must be 1 (up) or -1 (down), got 0"),
        ({"thumbs": 2}, "thumbs must be 1 (up) or -1 (down), got 2"),
        ({"thumbs": True}, "thumbs must be 1 (up) or -1 (down), got True"),
    ],
)
def test_rate_validation(store: Store, kwargs: dict[str, object], message: str) -> None:
    run_id = save_ok_run(store, None, "k", "text")
    with pytest.raises(StorageError) as info:
        store.rate(run_id, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert store.rating(run_id) is None


def test_rate_unknown_run(store: Store) -> None:
    with pytest.raises(StorageError, match="there is no run with id 404"):
        store.rate(404, thumbs=1)
