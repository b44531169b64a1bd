"""Runs as stored: every field and score read back as saved, re-saving a cancelled run, search,
token alternatives, and rows read by column name whatever order a later schema puts them in."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlite_utils import Database

from playground.events import TokenLogprob
from playground.scores import Score
from playground.storage.store import RunRow, StorageError, Store, fts_literal
from tests.core.storage.records import make_result, make_spec, save_cells, save_ok_run


def test_runs_round_trip(store: Store) -> None:
    """Runs read back as saved, in the order they were saved, with the very scores the scorer
    gave (a not-applicable one too); a failed run keeps its error and no output."""
    cid, saved = save_cells(store, make_spec())
    assert store.completed_run_keys(cid) == set(saved)

    runs = store.runs(cid)
    assert [r.id for r in runs] == sorted(saved.values())
    ok = next(r for r in runs if r.output == "plain says row-1")
    assert ok.status == "ok" and ok.error is None
    assert ok.rendered_prompt == "Summarize: the cat sat"
    assert ok.params is not None and ok.params["seed"] == 7
    assert ok.model is not None and ok.model["architecture"] == "llama"
    assert (ok.prompt_tokens, ok.completion_tokens, ok.ttft_s) == (9, 5, 0.02)
    assert ok.scores == (
        Score("bleu", None, "bleu|13a", "empty hypothesis"),
        Score("rouge1_f", 0.75, "rouge1|script-aware-v1"),
    )
    assert ok.score("rouge1_f") == Score("rouge1_f", 0.75, "rouge1|script-aware-v1")
    assert ok.score("chrf") is None
    crashed = next(r for r in runs if r.status == "failed")
    assert crashed.output is None and crashed.error == "the model worker crashed"
    assert crashed.scores == ()
    assert store.run(ok.id) == ok


def test_resaving_a_run(store: Store) -> None:
    """A cancelled run is replaced by its new attempt; a finished one is never overwritten."""
    cid = store.save_comparison(make_spec())
    cancelled = store.save_run(
        comparison_id=cid, variant_id=None, input_id=None, sample=0, seed=1, run_key="k",
        result=None, status="cancelled", error="cancelled by the user",
    )
    assert store.completed_run_keys(cid) == set()
    again = save_ok_run(store, cid, "k", "second attempt")
    assert again == cancelled
    run = store.run(again)
    assert run.status == "ok" and run.output == "second attempt" and len(run.scores) == 1
    with pytest.raises(StorageError, match="already saved as ok"):
        save_ok_run(store, cid, "k", "third attempt")
    assert store.run(again).output == "second attempt"


def test_unknown_run_status_is_refused(store: Store) -> None:
    with pytest.raises(StorageError, match="unknown run status 'done'"):
        store.save_run(
            comparison_id=None, variant_id=None, input_id=None, sample=0, seed=1, run_key="k",
            result=None, status="done", error=None,  # type: ignore[arg-type]
        )


# -- search -------------------------------------------------------------------------------------


def test_search_outputs_and_prompts(store: Store) -> None:
    cid = store.save_comparison(make_spec())
    first = store.save_run(
        comparison_id=cid, variant_id=None, input_id=None, sample=0, seed=1, run_key="a",
        result=make_result("The quick brown fox jumps", prompt="Describe an agile animal"),
        status="ok", error=None, scores=[Score("bleu", 3.0, "bleu|13a")],
    )
    second = store.save_run(
        comparison_id=None, variant_id=None, input_id=None, sample=0, seed=1, run_key="b",
        result=make_result('He said "stop" AND left * NEAR(here)', prompt="Write dialogue"),
        status="ok", error=None,
    )
    assert [r.id for r in store.search("fox")] == [first]
    assert [r.id for r in store.search("agile")] == [first]  # words of the prompt
    assert [r.id for r in store.search("QUICK  fox")] == [first]
    found = store.search("fox")[0]
    assert isinstance(found, RunRow) and found.score("bleu") is not None
    assert store.search("fox giraffe") == []
    assert [r.id for r in store.search("AND")] == [second]  # a word, not an operator
    assert [r.id for r in store.search('"stop"')] == [second]
    for text in ['"', '""', '"""', "*", "fox*", "AND OR NOT", "NEAR(", "(", ")", "-fox", "^fox",
                 "output:fox", "'", "a\"b", "{}", "\\", "%", "fox AND", "OR fox"]:
        store.search(text)  # literal text never reaches FTS5 as syntax
    assert [r.id for r in store.search("")] == [second, first]  # no words: newest first
    assert [r.id for r in store.search(" \t\u00a0 ", limit=1)] == [second]


def test_fts_literal_quotes_every_word() -> None:
    assert fts_literal('say "hi" AND *') == '"say" """hi""" "AND" "*"'
    assert fts_literal("   ") == ""


# -- token alternatives ---------------------------------------------------------------------------


def test_token_alternatives_are_kept_only_when_they_were_asked_for(store: Store) -> None:
    cid = store.save_comparison(make_spec())
    with_top = (TokenLogprob("The", -0.25, (("The", -0.25), ("A", -1.75))),
                TokenLogprob(" cat", -0.5, ((" cat", -0.5), (" dog", -1.0))))
    bare = (TokenLogprob("The", -0.25), TokenLogprob(" cat", -0.5))
    ids = []
    for n, logprobs in enumerate((with_top, bare, None)):
        ids.append(store.save_run(
            comparison_id=cid, variant_id=None, input_id=None, sample=n, seed=1,
            run_key=f"k{n}", result=replace(make_result("The cat"), logprobs=logprobs),
            status="ok", error=None, scores=[],
        ))
    assert store.run(ids[0]).logprobs == with_top
    assert store.run(ids[1]).logprobs is None  # confidence keeps its numbers in the scores
    assert store.run(ids[2]).logprobs is None


# -- rows by column name ------------------------------------------------------------------------

#: Every table a record store reads rows from.
RECORD_TABLES = ("comparisons", "variants", "inputs", "runs", "scores", "ratings",
                 "criterion_ratings", "judgements")


def test_rows_are_read_by_column_name_whatever_the_column_order(tmp_path: Path) -> None:
    """A later migration may add a column, or rebuild a table with its columns in another
    order (as sqlite-utils' ``transform`` does): every record still reads back field for field,
    none shifted into its neighbour's place."""
    path = tmp_path / "playground.db"

    def read_all(store: Store, cid: int) -> tuple[object, ...]:
        return (store.comparison(cid), store.history(), store.variants(cid), store.inputs(cid),
                store.runs(cid), store.completed_run_keys(cid), store.criteria(cid),
                store.criterion_ratings(cid), store.judgements(cid))

    with Store(path) as store:
        cid, _ = save_cells(store, make_spec())
        runs = {r.output: r.id for r in store.runs(cid)}
        plain, styled = runs["plain says row-1"], runs["styled says row-1"]
        store.rate(plain, thumbs=1, stars=4, note="crisp")
        store.set_criteria(cid, ["clarity", "brevity"])
        store.rate_criterion(styled, "brevity", 2, note="rambles")
        store.save_judgement(cid, plain, styled, "a")
        before = read_all(store, cid)
        found_before = store.search("styled")

    db = Database(path)
    for table in RECORD_TABLES:
        db.execute(f"ALTER TABLE {table} ADD COLUMN added_later TEXT DEFAULT 'not a field'")
        columns = [c.name for c in db.table(table).columns]
        db.table(table).transform(column_order=columns[::-1])
        assert [c.name for c in db.table(table).columns] == columns[::-1]
    db.close()

    with Store(path) as store:
        after = read_all(store, cid)
        assert after == before
        rating = store.run(plain).rating
        assert rating is not None and (rating.thumbs, rating.stars, rating.note) == (1, 4, "crisp")
        assert [r.id for r in found_before] == [styled]
        assert [r.run_id for r in store.criterion_ratings(cid)] == [styled]
        undone = store.undo_last_judgement(cid)
        assert undone is not None and (undone.run_a, undone.run_b, undone.choice) == (
            plain, styled, "a")
