"""Comparisons as stored: the spec, variants, inputs, templates and models read back as saved,
the history page by page, and a deletion that takes everything saved under it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from playground.storage.store import StorageError, Store
from tests.core.storage.records import (
    OTHER_TEMPLATE,
    TEMPLATE,
    make_spec,
    save_cells,
    save_ok_run,
)


def test_comparison_round_trip(store: Store) -> None:
    """A comparison, its variants and inputs read back as saved; the spec rebuilds exactly;
    the counts follow its runs; templates and models are kept once each."""
    spec = make_spec()
    cid, saved = save_cells(store, spec)
    assert store.comparison(cid).to_spec() == spec
    assert set(store.variant_ids(cid)) == {"plain", "styled"}
    assert set(store.input_ids(cid)) == {"row-1", "row-2"}
    asking = replace(spec, name="with alternatives", logprobs=5)
    assert store.comparison(store.save_comparison(asking)).to_spec() == asking

    variants = store.variants(cid)
    assert [v.name for v in variants] == ["plain", "styled"]
    assert variants[0].template_source == TEMPLATE
    assert variants[1].values == {"style": "terse"} and variants[1].chat
    assert variants[0].key == spec.variants[0].key()
    assert variants[0].params["max_tokens"] == 64
    inputs = store.inputs(cid)
    assert inputs[1].references == ("It rained.", "Rainy day.")
    assert inputs[0].values == {"text": "The cat sat on the mat."}

    row = store.comparison(cid)
    assert (row.variant_count, row.input_count, row.expected_runs) == (2, 2, 4)
    assert (row.run_count, row.ok_count, row.failed_count) == (len(saved), 3, 1)
    assert row.status == "running" and row.metrics == ("rouge1", "bleu")
    store.set_status(cid, "done")
    assert store.comparison(cid).status == "done"
    with pytest.raises(StorageError, match="unknown comparison status 'finished'"):
        store.set_status(cid, "finished")

    db = store.database.db
    models = list(db.query("SELECT * FROM models"))
    assert len(models) == 1 and models[0]["quant"] == "Q4_1"
    templates = {t["template_id"]: t for t in db.query("SELECT * FROM templates")}
    assert set(templates) == {"summary", "adhoc"}
    assert templates["summary"]["name"] == "Short summary"
    assert templates["summary"]["technique"] == "zero-shot"
    assert templates["adhoc"]["source"] == OTHER_TEMPLATE


def test_history_newest_first_with_counts(store: Store) -> None:
    ids = [store.save_comparison(make_spec(f"comparison {n}")) for n in range(3)]
    save_ok_run(store, ids[1], "k1", "one")
    save_ok_run(store, ids[1], "k2", "two")
    history = store.history()
    assert [c.id for c in history] == ids[::-1]
    assert history[1].run_count == 2 and history[1].ok_count == 2
    assert [c.id for c in store.history(limit=1, offset=1)] == [ids[1]]
    with pytest.raises(StorageError, match="limit must be"):
        store.history(limit=-1)


def test_delete_comparison_cascades(store: Store) -> None:
    cid = store.save_comparison(make_spec())
    run_id = save_ok_run(store, cid, "k", "zebra crossing")
    store.rate(run_id, stars=5)
    keep = save_ok_run(store, None, "single", "zebra alone")
    assert store.delete_comparison(cid)
    assert not store.delete_comparison(cid)
    with pytest.raises(StorageError, match=f"no comparison with id {cid}"):
        store.comparison(cid)
    with pytest.raises(StorageError, match=f"no run with id {run_id}"):
        store.run(run_id)
    db = store.database.db
    counts = {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("comparisons", "variants", "inputs", "runs", "scores", "ratings")
    }
    # Only the single playground run, and its score, remain.
    assert counts == {"comparisons": 0, "variants": 0, "inputs": 0, "runs": 1, "scores": 1,
                      "ratings": 0}
    assert [r.id for r in store.search("zebra")] == [keep]
