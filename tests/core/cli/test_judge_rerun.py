"""``playground judge NUMBER --rerun [CRITERION]``: the comparison's stored judges run again with
their own settings on a scripted model, each as a new judge whose scores replace the old."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.cli import judge as judge_cli
from playground.cli import main
from playground.runs.judge_plan import judge_spec
from playground.runs.judge_runner import run_judge
from playground.storage.store import Store
from tests.core.runs.test_judge import _judged, _pool, _template
from tests.fakes import FakeEngine, Script

FOURISH = (("4", 0.6), (" 4", 0.1), ("3", 0.2), ("the", 0.05))
TWOISH = (("2", 0.8), ("1", 0.2))


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    """The command's model pool opens scripted backends."""
    fake = FakeEngine()
    monkeypatch.setattr(judge_cli, "BackendPool", lambda *_a, **_k: _pool(fake))
    return fake


@pytest.fixture
def db(tmp_path: Path, engine: FakeEngine) -> tuple[Path, int, dict[tuple[str, str], int]]:
    """Comparison #1 judged on coherence and fluency, then on coherence again."""
    path = tmp_path / "judged.db"
    with Store(path) as store:
        cid, runs = _judged(store)
        for top, criteria in ((FOURISH, ["coherence", "fluency"]), (FOURISH, ["coherence"])):
            engine.script(Script(text=top[0][0], first_top=top))
            spec = judge_spec(store, cid, _template("judge-rubric"), "", criteria)
            list(run_judge(store, cid, spec, _pool(engine)))
    return path, cid, runs


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_rerun_runs_the_newest_judge_of_each_criterion_again(
    db: tuple[Path, int, dict[tuple[str, str], int]], engine: FakeEngine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, cid, runs = db
    with Store(path) as store:
        before = {j.id: {r.id for r in store.runs(j.id)} for j in store.judges(cid)}
    engine.script(Script(text="2", first_top=TWOISH))
    code, out, err = _cli(capsys, "judge", "1", "--rerun", "--db", str(path))
    assert code == 0, err
    assert err.count(f"done: {len(runs)} judge runs") == 2
    assert "Judge of #1 (rubric: fluency) by " in err  # the first judge's fluency only
    assert "Judge of #1 (rubric: coherence) by " in err  # the second judge
    assert "judge: coherence" in out and "judge: fluency" in out
    with Store(path) as store:
        judges = store.judges(cid)
        assert [j.id for j in judges[:2]] == list(before)
        new = judges[2:]
        assert sorted(v.name for j in new for v in store.variants(j.id)) == ["coherence",
                                                                              "fluency"]
        for judge in new:
            judge_runs = store.runs(judge.id)
            assert judge.status == "done" and len(judge_runs) == len(runs)
            assert all(r.record is not None for r in judge_runs)
            assert not {r.id for r in judge_runs} & set().union(*before.values())
        for run_id in runs.values():
            for metric in ("judge:coherence", "judge:fluency"):
                score = store.run(run_id).score(metric)
                assert score is not None and score.value == pytest.approx(1.8)
                assert "source:logprobs" in score.signature


def test_rerun_of_one_criterion_runs_only_it(
    db: tuple[Path, int, dict[tuple[str, str], int]], engine: FakeEngine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, cid, runs = db
    engine.script(Script(text="2", first_top=TWOISH))
    code, _, err = _cli(capsys, "judge", "1", "--rerun", "fluency", "--db", str(path))
    assert code == 0, err
    with Store(path) as store:
        newest = store.judges(cid)[-1]
        assert len(store.judges(cid)) == 3
        assert [v.name for v in store.variants(newest.id)] == ["fluency"]
        run = store.run(runs["long", "row-1"])
        fluency, coherence = run.score("judge:fluency"), run.score("judge:coherence")
        assert fluency is not None and fluency.value == pytest.approx(1.8)
        assert coherence is not None and coherence.value == pytest.approx(
            (4 * 0.7 + 3 * 0.2) / 0.9)


def test_rerun_says_what_it_cannot_do(
    db: tuple[Path, int, dict[tuple[str, str], int]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _, _ = db
    code, _, err = _cli(capsys, "judge", "1", "--rerun", "relevance", "--db", str(path))
    assert code == 2
    assert "no judge of #1 judged 'relevance'; its judges judged coherence, fluency" in err
    code, _, err = _cli(capsys, "judge", "1", "--rerun", "-m", "other", "--db", str(path))
    assert code == 2 and "drop --model" in err
    fresh = tmp_path / "fresh.db"
    with Store(fresh) as store:
        _judged(store)
    code, _, err = _cli(capsys, "judge", "1", "--rerun", "--db", str(fresh))
    assert code == 2 and "#1 has not been judged yet; judge it first" in err
    assert "Traceback" not in err
