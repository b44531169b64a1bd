"""A comparison's judges listed with what each found, run again from their stored specs (a new
judge with its own runs and records, whose scores replace the older ones) and deleted (the
remaining judges' scores come back)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from playground.runs.history import stored_report
from playground.runs.judge_history import comparison_judges, delete_judge, judges_to_rerun
from playground.runs.judge_plan import JUDGE_LOGPROBS, JudgeError, judge_spec
from playground.runs.judge_runner import JudgeScored, JudgeTally, rerun_judge, run_judge
from playground.runs.runner import CancelToken
from playground.storage.store import Store
from tests.core.runs.test_judge import _judged, _pool, _template
from tests.fakes import FakeEngine, Script

#: 70 % on 4, 20 % on 3: expected (4 × 0.7 + 3 × 0.2) / 0.9.
FOURISH = (("4", 0.6), (" 4", 0.1), ("3", 0.2), ("the", 0.05))
#: 80 % on 2, 20 % on 1: expected 1.8.
TWOISH = (("2", 0.8), ("1", 0.2))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "playground.db") as opened:
        yield opened


def _judge(store: Store, cid: int, engine: FakeEngine, top: tuple[tuple[str, float], ...],
           *criteria: str, template: str = "judge-rubric") -> int:
    engine.script(Script(text=top[0][0], first_top=top))  # its own piece among the alternatives
    spec = judge_spec(store, cid, _template(template), "", list(criteria))
    list(run_judge(store, cid, spec, _pool(engine)))
    return store.judges(cid)[-1].id


def _values(store: Store, runs: dict[tuple[str, str], int], metric: str) -> set[float | None]:
    out: set[float | None] = set()
    for run_id in runs.values():
        score = store.run(run_id).score(metric)
        out.add(None if score is None or score.value is None else round(score.value, 6))
    return out


def test_a_rerun_is_a_new_judge_with_its_own_runs_records_and_probabilities(
    store: Store,
) -> None:
    """The stored spec keeps the alternatives count, so the re-run asks for them and its
    scores are read from the probabilities, not the text."""
    cid, runs = _judged(store)
    engine = FakeEngine()
    first = _judge(store, cid, engine, FOURISH, "coherence", "fluency")
    assert store.comparison(first).to_spec().logprobs == JUDGE_LOGPROBS
    old_runs = {r.id for r in store.runs(first)}
    engine.script(Script(text="2", first_top=TWOISH))
    events = list(rerun_judge(store, first, _pool(engine), criteria=["fluency"]))
    scored = [e for e in events if isinstance(e, JudgeScored)]
    assert len(scored) == len(runs) and all(e.score.metric == "judge:fluency" for e in scored)
    judges = store.judges(cid)
    assert len(judges) == 2 and judges[0].id == first
    again = judges[1]
    assert again.judged_id == cid and again.status == "done"
    assert [v.name for v in store.variants(again.id)] == ["fluency"]
    new_runs = store.runs(again.id)
    assert len(new_runs) == len(runs) and not old_runs & {r.id for r in new_runs}
    assert all(r.record is not None and r.logprobs for r in new_runs)
    assert _values(store, runs, "judge:fluency") == {1.8}  # replaced
    assert _values(store, runs, "judge:coherence") == {round((4 * 0.7 + 3 * 0.2) / 0.9, 6)}
    score = store.run(runs["short", "row-1"]).score("judge:fluency")
    assert score is not None and "source:logprobs" in score.signature
    assert any(f"|run:{r.id}|" in score.signature for r in new_runs)
    with pytest.raises(JudgeError, match="judged coherence, fluency, not relevance"):
        rerun_judge(store, first, _pool(engine), criteria=["relevance"])
    with pytest.raises(JudgeError, match="is not a judge's runs"):
        rerun_judge(store, cid, _pool(engine))


def test_a_judge_saved_without_its_alternatives_count_still_reads_probabilities(
    store: Store,
) -> None:
    """Judges saved before specs kept ``logprobs`` are resumed and re-run asking for them."""
    cid, runs = _judged(store)
    engine = FakeEngine()
    first = _judge(store, cid, engine, FOURISH, "coherence")
    with contextlib.closing(sqlite3.connect(store.path)) as conn, conn:
        (raw,) = conn.execute("SELECT spec_json FROM comparisons WHERE id = ?", [first]).fetchone()
        spec = json.loads(raw)
        del spec["logprobs"]
        conn.execute("UPDATE comparisons SET spec_json = ? WHERE id = ?", [json.dumps(spec), first])
    assert store.comparison(first).to_spec().logprobs is None
    engine.script(Script(text="2", first_top=TWOISH))
    list(rerun_judge(store, first, _pool(engine)))
    assert engine.requests[-1].logprobs == JUDGE_LOGPROBS
    assert _values(store, runs, "judge:coherence") == {1.8}


def test_judges_to_rerun_takes_the_newest_judge_of_each_criterion(store: Store) -> None:
    cid, _ = _judged(store)
    with pytest.raises(JudgeError, match="has not been judged yet"):
        judges_to_rerun(store, cid)
    engine = FakeEngine()
    old = _judge(store, cid, engine, FOURISH, "coherence", "fluency")
    newer = _judge(store, cid, engine, TWOISH, "coherence")
    pairwise = _judge(store, cid, engine, FOURISH, "coherence", template="judge-pairwise")
    chosen = [(j.id, c) for j, c in judges_to_rerun(store, cid)]
    assert chosen == [(old, ("fluency",)), (newer, ("coherence",)),
                      (pairwise, ("coherence",))]
    assert [(j.id, c) for j, c in judges_to_rerun(store, cid, "fluency")] == [
        (old, ("fluency",))]
    with pytest.raises(JudgeError, match="judged 'relevance'; its judges judged coherence, "
                                         "fluency"):
        judges_to_rerun(store, cid, "relevance")


def test_the_judges_are_listed_newest_first_with_what_each_found(store: Store) -> None:
    cid, runs = _judged(store)
    engine = FakeEngine()
    _judge(store, cid, engine, FOURISH, "relevance", "coherence")
    _judge(store, cid, engine, (("Great", 0.7), ("4", 0.3)), "coherence")  # N/A: 30 % on scale
    newest, oldest = comparison_judges(store, cid)
    now = datetime.now(timezone.utc)
    assert newest.criteria == ("coherence",) and newest.replaced == ()
    assert (newest.scored, newest.not_applicable) == (0, len(runs))
    assert oldest.criteria == ("relevance", "coherence") and oldest.replaced == ("coherence",)
    assert (oldest.scored, oldest.not_applicable) == (2 * len(runs), 0)
    line = oldest.describe(now)
    assert line.startswith("Judged by ") and " on relevance, coherence · today " in line
    assert line.endswith(f" · {2 * len(runs)} scored, 0 N/A · replaced by a newer judge on "
                         "coherence")
    assert newest.describe(now).endswith(f"0 scored, {len(runs)} N/A")


def test_a_judge_stopped_before_it_judged_replaces_nothing(store: Store) -> None:
    """Newer judges stopped before they finished a run leave the older judges' verdicts
    counting, and every face says so: History does not call the older ones replaced, the
    report keeps their verdicts and a re-run runs them again."""
    cid, runs = _judged(store)
    engine = FakeEngine()
    rubric = _judge(store, cid, engine, FOURISH, "coherence")
    # "A" in both orders: every pair flips.
    pairwise = _judge(store, cid, engine, ((" A", 1.0),), "coherence", template="judge-pairwise")
    stopped = CancelToken()
    stopped.cancel()
    for template in ("judge-rubric", "judge-pairwise"):
        spec = judge_spec(store, cid, _template(template), "", ["coherence"])
        list(run_judge(store, cid, spec, _pool(engine), cancel=stopped))
    listed = comparison_judges(store, cid)
    assert [j.status for j in listed[:2]] == ["cancelled", "cancelled"]
    assert [(j.id, j.replaced) for j in listed[2:]] == [(pairwise, ()), (rubric, ())]
    assert not any("replaced" in j.describe() for j in listed)
    report = stored_report(store, cid)
    assert report.judge is not None
    (verdicts,) = report.judge.pairwise
    assert (verdicts.bias.pairs, verdicts.bias.flips) == (len(runs) // 2, len(runs) // 2)
    assert _values(store, runs, "judge:coherence") == {round((4 * 0.7 + 3 * 0.2) / 0.9, 6)}
    assert [(j.id, c) for j, c in judges_to_rerun(store, cid)] == [
        (rubric, ("coherence",)), (pairwise, ("coherence",))]


def test_a_tally_counts_the_scores_as_the_judge_saves_them(store: Store) -> None:
    cid, runs = _judged(store)
    engine = FakeEngine()
    tally = JudgeTally()
    assert tally.describe() == ""
    off_scale = (("Great", 0.7), ("4", 0.3))  # 30 % on the scale: N/A
    for top, expected in ((FOURISH, (len(runs), 0)), (off_scale, (0, len(runs)))):
        engine.script(Script(text=top[0][0], first_top=top))
        spec = judge_spec(store, cid, _template("judge-rubric"), "", ["coherence"])
        tally = JudgeTally()
        for event in run_judge(store, cid, spec, _pool(engine)):
            tally.add(event)
        assert (tally.scored, tally.not_applicable) == expected
    assert tally.describe() == f"0 outputs scored, {len(runs)} N/A"


def test_deleting_a_judge_gives_the_scores_back_to_the_judges_left(store: Store) -> None:
    cid, runs = _judged(store)
    engine = FakeEngine()
    first = _judge(store, cid, engine, FOURISH, "coherence")
    second = _judge(store, cid, engine, TWOISH, "coherence")
    assert _values(store, runs, "judge:coherence") == {1.8}
    assert delete_judge(store, second) == cid
    assert [j.id for j in store.judges(cid)] == [first]
    assert _values(store, runs, "judge:coherence") == {round((4 * 0.7 + 3 * 0.2) / 0.9, 6)}
    score = store.run(runs["long", "row-2"]).score("judge:coherence")
    first_runs = {r.id for r in store.runs(first)}
    assert score is not None and any(f"|run:{r}|" in score.signature for r in first_runs)
    delete_judge(store, first)
    assert _values(store, runs, "judge:coherence") == {None}  # no judge left: no score
    assert store.judges(cid) == []
    with pytest.raises(JudgeError, match="is not a judge's runs"):
        delete_judge(store, cid)
