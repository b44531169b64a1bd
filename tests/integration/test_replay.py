"""Every run keeps a reproducibility record; replay repeats it and explains what differs.

Nothing here depends on what the model says on this machine: the divergence test alters the
stored tokens at a chosen position, the field test alters a stored record field, and the
repeat test compares the model with itself on the same machine and settings.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground import cli
from playground.comparison import ComparisonSpec, Input, Variant
from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions
from playground.provenance import FIELD_LABELS, describe
from playground.runs.replay import LoadOverrides, ReplayReport, replay
from playground.runs.runner import BackendPool, RunDone, run_comparison
from playground.sampling import SamplingParams
from playground.storage.store import Store

pytestmark = pytest.mark.model

PROMPT = "Write one sentence about the sea:"


@pytest.fixture(scope="module")
def stored(
    _isolated_cache: None, tmp_path_factory: pytest.TempPathFactory, default_model_path: Path
) -> tuple[Path, int]:
    """A database holding one run of the real model at a sampling temperature, so the seed
    matters, made as the first generation after a load (as a replay is)."""
    db = tmp_path_factory.mktemp("replay") / "history.db"
    params = SamplingParams(temperature=0.9, max_tokens=12, seed=1234)
    variant = Variant("v", "scratch", PROMPT, params, str(default_model_path))
    spec = ComparisonSpec("replay", (variant,), (Input("only", {}, ()),), samples=1,
                          metrics=())
    pool = BackendPool(LoadOptions(n_ctx=512))
    try:
        with Store(db) as store:
            done = [e for e in run_comparison(spec, pool, store=store, perplexity=False)
                    if isinstance(e, RunDone)]
    finally:
        pool.close()
    assert len(done) == 1 and done[0].status == "ok", done[0].error
    with Store(db) as store:
        (run,) = store.runs(store.history(1)[0].id)
    return db, run.id


def _replay(db: Path, run_id: int, overrides: LoadOverrides | None = None) -> ReplayReport:
    with Store(db) as store:
        items = list(replay(store, run_id, overrides or LoadOverrides()))
    report = items[-1]
    assert isinstance(report, ReplayReport)
    return report


def _copy(stored: tuple[Path, int], tmp_path: Path) -> tuple[Path, int]:
    db, run_id = stored
    target = tmp_path / "copy.db"
    with sqlite3.connect(db) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target, run_id


def test_every_run_keeps_what_decided_its_text(
    stored: tuple[Path, int], default_model_path: Path
) -> None:
    db, run_id = stored
    with Store(db) as store:
        run = store.run(run_id)
    record = run.record
    assert record is not None
    assert record["backend"] == "local"
    assert record["llama_cpp_python"] == "0.3.36"
    assert "CPU" in record["system_info"] and record["cpu_path"]
    assert record["cpu"] and record["os"]
    for key in ("n_threads", "n_batch", "n_ubatch", "n_ctx", "n_gpu_layers"):
        assert isinstance(record[key], int), key
    assert record["n_ctx"] == 512
    assert isinstance(record["flash_attn"], bool)
    assert record["type_k"] == record["type_v"] == "f16"
    expected = hashlib.sha256(default_model_path.read_bytes()).hexdigest()
    assert record["model_sha256"] == expected
    assert record["chat_template_sha256"] and len(record["chat_template_sha256"]) == 64
    names = [step["name"] for step in record["sampler_chain"]]
    # llama-cpp-python's chain at a sampling temperature, in llama.cpp's order.
    assert names == ["penalties", "top-k", "typical", "top-p", "min-p", "temp", "dist"]
    assert record["sampler_chain"][-1]["seed"] == record["seed"] == run.seed
    assert record["sampler_chain"][5]["t"] == 0.9
    assert record["prefix_reuse"] is True and record["batching"] == "single"
    assert run.token_ids is not None and len(run.token_ids) == run.completion_tokens


def test_replay_on_the_same_machine_is_identical(stored: tuple[Path, int]) -> None:
    report = _replay(*stored)
    assert report.identical, report.lines()
    assert report.compared == "token ids"
    assert report.differences == ()
    assert report.lines()[0].startswith(f"run {stored[1]}: identical")


def test_replay_names_flash_attention_when_it_is_toggled(stored: tuple[Path, int]) -> None:
    db, run_id = stored
    with Store(db) as store:
        was = bool(store.run(run_id).record["flash_attn"])  # type: ignore[index]
    report = _replay(db, run_id, LoadOverrides(flash_attn=not was))
    then, now = describe("flash_attn", was), describe("flash_attn", not was)
    assert f"flash attention: {then} then, {now} now" in report.differences
    # Nothing else about the machine or the run changed.
    assert len(report.differences) == 1


def test_divergence_is_reported_at_the_altered_token(
    stored: tuple[Path, int], tmp_path: Path, default_model_path: Path
) -> None:
    db, run_id = _copy(stored, tmp_path)
    with Store(db) as store:
        run = store.run(run_id)
    ids = list(run.token_ids or ())
    k = min(3, len(ids))
    with LocalBackend(default_model_path, LoadOptions(n_ctx=512)) as backend:
        pieces = backend.token_pieces(ids)
        # A token that is not the one generated there: the other one of two common words.
        candidates = backend.token_pieces([1000, 2000])
    other = 1000 if (k == len(ids) or ids[k] != 1000) else 2000
    other_piece = candidates[0] if other == 1000 else candidates[1]
    altered = [*ids[:k], other, *ids[k + 1:]]
    text = "".join(pieces[:k]) + other_piece
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET token_ids_json = ?, output = ? WHERE id = ?",
                     [json.dumps(altered), text, run_id])

    report = _replay(db, run_id)
    assert not report.identical
    d = report.divergence
    assert d is not None
    assert (d.unit, d.position) == ("token", k + 1)
    assert d.original == other_piece
    assert d.replayed == (pieces[k] if k < len(ids) else None)
    if k < len(ids):
        assert d.replayed_logprob is not None and d.replayed_logprob <= 0.0
    assert d.shared_text.startswith("".join(pieces[:k]))
    assert report.lines()[0] == f"run {run_id}: diverged at token {k + 1}"


def test_replay_lists_recorded_fields_that_differ_now(
    stored: tuple[Path, int], tmp_path: Path
) -> None:
    db, run_id = _copy(stored, tmp_path)
    with Store(db) as store:
        record = dict(store.run(run_id).record or {})
    now_version, now_path = record["llama_cpp_python"], record["cpu_path"]
    record.update(llama_cpp_python="0.3.16", cpu_path="NEON", cpu="Apple M1")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET record_json = ? WHERE id = ?",
                     [json.dumps(record), run_id])
    report = _replay(db, run_id)
    assert report.differences == (
        f"{FIELD_LABELS['llama_cpp_python']}: 0.3.16 then, {now_version} now",
        f"CPU path: NEON then, {now_path} now",
        f"CPU: Apple M1 then, {report.result.record['cpu']} now",  # type: ignore[index]
    )


def test_cli_replay_reports_and_exits_by_verdict(stored: tuple[Path, int]) -> None:
    db, run_id = stored
    out, err = io.StringIO(), io.StringIO()
    code = _cli(["replay", str(run_id), "--db", str(db)], out, err)
    assert code == 0, err.getvalue()
    assert out.getvalue().startswith(f"run {run_id}: identical")
    assert "no recorded setting differs now" in out.getvalue()

    out = io.StringIO()
    code = _cli(["replay", str(run_id), "--db", str(db), "--json", "--threads", "1"], out, err)
    data = json.loads(out.getvalue())
    assert data["run_id"] == run_id and code == (0 if data["identical"] else 1)
    with Store(db) as store:
        threads = store.run(run_id).record["n_threads"]  # type: ignore[index]
    if threads != 1:
        assert f"threads: {threads} then, 1 now" in data["differences"]


def test_cli_replay_of_an_unknown_run_says_so(stored: tuple[Path, int]) -> None:
    db, _ = stored
    out, err = io.StringIO(), io.StringIO()
    assert _cli(["replay", "999999", "--db", str(db)], out, err) == 2
    assert "there is no run with id 999999" in err.getvalue()


def _cli(argv: list[str], out: io.StringIO, err: io.StringIO) -> int:
    """The CLI's main() with its streams captured."""
    import sys

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        return cli.main(argv)
    finally:
        sys.stdout, sys.stderr = saved


@pytest.fixture(scope="module", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Model hashes are cached per user; these tests keep theirs apart."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield
