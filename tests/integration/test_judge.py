"""The bundled model judging its own outputs, for the mechanics: every judged run gets a score
on the scale or an N/A with a reason, sources are labelled, the judge's runs are stored with
their records, pairwise verdicts are asked in both orders; and `playground judge` end to end.
What the model says is never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from playground.comparison import ComparisonSpec, Input, Variant
from playground.prompts.templates import BUILTIN_DIR, load_template_file
from playground.runs.judge_plan import judge_spec, parse_pair_input
from playground.runs.judge_results import pairwise_verdicts
from playground.runs.judge_runner import JudgeScored, run_judge
from playground.runs.runner import BackendPool, run_comparison
from playground.sampling import SamplingParams
from playground.storage.store import Store

pytestmark = pytest.mark.model

#: The judge writes its score first: three tokens are enough for the mechanics.
JUDGE_PARAMS = SamplingParams(temperature=0.0, max_tokens=3)


def _subject_spec() -> ComparisonSpec:
    params = SamplingParams(temperature=0.0, max_tokens=6)
    return ComparisonSpec(
        name="judged", metrics=(),
        variants=(Variant("plain", "t", "Q: {{ q }}\nA:", params, ""),
                  Variant("polite", "t", "Please answer. Q: {{ q }}\nA:", params, "")),
        inputs=(Input("sky", {"q": "What colour is the sky?"}),
                Input("sum", {"q": "What is 2 + 2?"})),
    )


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("judge") / "playground.db"
    pool = BackendPool()
    try:
        with Store(path) as store:
            events = list(run_comparison(_subject_spec(), pool, store=store, perplexity=False))
            cid = events[0].comparison_id  # type: ignore[union-attr]
            assert cid is not None
    finally:
        pool.close()
    return path, cid


def test_a_rubric_judge_scores_every_output_or_says_why_not(judged: tuple[Path, int]) -> None:
    path, cid = judged
    pool = BackendPool()
    try:
        with Store(path) as store:
            template = load_template_file(BUILTIN_DIR / "judge-rubric.j2")
            spec = judge_spec(store, cid, template, "", ["coherence"], params=JUDGE_PARAMS)
            scored = [e for e in run_judge(store, cid, spec, pool) if isinstance(e, JudgeScored)]
            judged_runs = [r for r in store.runs(cid) if r.status == "ok"]
            (judge,) = store.judges(cid)
            judge_runs = store.runs(judge.id)
    finally:
        pool.close()
    assert sorted(e.judged_run_id for e in scored) == sorted(r.id for r in judged_runs)
    for run in judged_runs:
        score = run.score("judge:coherence")
        assert score is not None
        if score.value is None:
            assert score.reason  # N/A always says why
        else:
            assert 1.0 <= score.value <= 5.0
            assert "|source:logprobs|" in score.signature  # a local model gives them
        assert "template:judge-rubric@" in score.signature and "|run:" in score.signature
    assert judge.status == "done" and judge.label == "judge of #1"
    assert len(judge_runs) == len(judged_runs)
    for run in judge_runs:
        assert run.record is not None  # the reproducibility record of the judge run
        assert run.logprobs is not None and all(len(t.top) >= 5 for t in run.logprobs)


def test_a_pairwise_judge_asks_in_both_orders(judged: tuple[Path, int]) -> None:
    path, cid = judged
    pool = BackendPool()
    try:
        with Store(path) as store:
            template = load_template_file(BUILTIN_DIR / "judge-pairwise.j2")
            spec = judge_spec(store, cid, template, "", params=JUDGE_PARAMS)
            list(run_judge(store, cid, spec, pool))
            judge = store.judges(cid)[-1]
            keys = [parse_pair_input(i.input_key) for i in store.inputs(judge.id)]
            pairs = pairwise_verdicts(store, cid, judge)
            assert len(store.runs(judge.id)) == len(keys) == 4
    finally:
        pool.close()
    assert sorted(k[2] for k in keys if k is not None) == ["ab", "ab", "ba", "ba"]
    assert len(pairs) == 2
    for pair in pairs:
        verdict = pair.verdict
        if verdict.choice is None:
            assert verdict.reason and pair.judgement is None
        else:
            assert verdict.ab is not None and verdict.ba is not None
            assert verdict.flipped == (verdict.choice == "tie" and
                                       {verdict.ab, verdict.ba} != {"tie"})
            assert pair.judgement is not None and pair.judgement.choice == verdict.choice


def test_the_judge_command_end_to_end(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "playground", *args, "--db", db],
                              capture_output=True, text=True, timeout=600, check=False)

    made = run("compare", "-T", "sentiment-zero-shot", "-T", "sentiment-one-shot", "-d",
               "sentiment", "--rows", "2", "--param", "max_tokens=4", "--no-perplexity")
    assert made.returncode == 0, made.stderr
    judged = run("judge", "1", "--criterion", "fluency")
    assert judged.returncode == 0, judged.stderr
    assert "4/4 judge runs" in judged.stderr and "done: 4 judge runs" in judged.stderr
    assert "judge: fluency (mean [95 % interval], 1–5):" in judged.stdout
    assert "sentiment-zero-shot" in judged.stdout and "sentiment-one-shot" in judged.stdout
    assert "of 4 outputs scored" in judged.stdout
    history = run("history")
    assert history.stdout.count("\n") == 1  # the judge is not listed as a comparison
    shown = run("show", "1")
    assert "## Judge" in shown.stdout
    wrong = run("judge", "1", "--pairwise", "--template", "judge-rubric")
    assert wrong.returncode == 2 and "needs a pairwise judge template" in wrong.stderr
    again = run("judge", "1", "--rerun")  # a new judge from the stored spec
    assert again.returncode == 0, again.stderr
    assert "done: 4 judge runs" in again.stderr
    with Store(db) as store:
        first, second = store.judges(1)
        runs = store.runs(second.id)
        assert len(runs) == 4 and all(r.record is not None and r.logprobs for r in runs)
        assert not {r.id for r in store.runs(first.id)} & {r.id for r in runs}
        for judged in store.runs(1):
            score = judged.score("judge:fluency")
            assert score is not None and any(f"|run:{r.id}|" in score.signature for r in runs)
            assert score.value is None or "|source:logprobs|" in score.signature
