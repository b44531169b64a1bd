"""The database file: where it lives, how it is opened, upgraded and backed up, what a crash,
a full disk, a kill or eight writers at once do to it, and damaged files."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from playground.scores import Score
from playground.storage.migrations import known_migrations, migrations
from playground.storage.store import DB_ENV, DB_FILE_NAME, StorageError, Store, default_db_path
from tests.core.storage.records import make_result, make_spec, run_count, save_ok_run
from tests.core.storage.store_writer import SCORES_PER_RUN

ROOT = Path(__file__).resolve().parents[3]
WRITER = Path(__file__).with_name("store_writer.py")


# -- where the database lives -------------------------------------------------------------------


def test_default_path_env_and_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-user folder by default, $PLAYGROUND_DB over it, an explicit path over both."""
    monkeypatch.delenv(DB_ENV, raising=False)
    default = default_db_path()
    assert default.name == DB_FILE_NAME
    assert "prompt-playground" in str(default)
    monkeypatch.setenv(DB_ENV, str(tmp_path / "env.db"))
    assert default_db_path() == tmp_path / "env.db"
    with Store() as store:
        assert store.path == tmp_path / "env.db"
    with Store(tmp_path / "explicit.db") as store:
        assert store.path == tmp_path / "explicit.db"
    assert (tmp_path / "env.db").is_file()
    assert (tmp_path / "explicit.db").is_file()


def test_connection_settings(store: Store) -> None:
    """WAL, full sync, enforced foreign keys and a busy timeout on every store."""
    conn = store.database.db.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


# -- atomicity, full disk -----------------------------------------------------------------------


def test_run_and_scores_land_together_or_not_at_all(store: Store, tmp_path: Path) -> None:
    """A score the database refuses (a duplicate metric here) takes the run down with it."""
    cid = store.save_comparison(make_spec())
    with pytest.raises(StorageError, match="nothing was saved"):
        store.save_run(
            comparison_id=cid, variant_id=None, input_id=None, sample=0, seed=1, run_key="dup",
            result=make_result("text"), status="ok", error=None,
            scores=[Score("bleu", 1.0, "s"), Score("bleu", 2.0, "s")],
        )
    assert run_count(tmp_path / "playground.db") == 0
    assert store.completed_run_keys(cid) == set()
    save_ok_run(store, cid, "dup", "the store still works")
    assert run_count(tmp_path / "playground.db") == 1


def test_full_disk(store: Store, tmp_path: Path) -> None:
    """SQLITE_FULL (simulated with max_page_count) rolls back and says nothing was saved."""
    cid = store.save_comparison(make_spec())
    save_ok_run(store, cid, "small", "fits")
    conn = store.database.db.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    before = run_count(tmp_path / "playground.db")
    with pytest.raises(StorageError) as info:
        save_ok_run(store, cid, "big", "word " * 100_000)
    message = str(info.value)
    assert message.startswith("the disk is full: ")
    assert "nothing was saved" in message
    assert run_count(tmp_path / "playground.db") == before
    assert "big" not in store.completed_run_keys(cid)
    conn.execute("PRAGMA max_page_count = 1073741823")
    save_ok_run(store, cid, "big", "word " * 100_000)
    assert run_count(tmp_path / "playground.db") == before + 1


# -- durability under kill -9 ----------------------------------------------------------------------


def test_kill_9_never_loses_a_committed_run(tmp_path: Path) -> None:
    """A writer killed at random points: every id it reported is there with all its scores,
    no run is there without its scores, and the file passes the integrity check."""
    path = tmp_path / "kill.db"
    Store(path).close()
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    rng = random.Random(20240611)
    reported: list[int] = []
    for _trial in range(25):
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), "100000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert proc.stdout is not None and proc.stderr is not None
        for _ in range(rng.randint(0, 12)):
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"the writer stopped on its own: {proc.stderr.read()}")
            reported.append(int(line))
        time.sleep(rng.uniform(0, 0.02))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # Lines written between our last read and the kill were committed too.
        reported.extend(int(line) for line in proc.stdout.read().split())
        proc.stdout.close()
        proc.stderr.close()

        with contextlib.closing(sqlite3.connect(path)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            half_written = conn.execute(
                "SELECT count(*) FROM runs WHERE "
                "(SELECT count(*) FROM scores WHERE run_id = runs.id) != ?",
                [SCORES_PER_RUN],
            ).fetchone()[0]
            assert half_written == 0
        with Store(path) as store:
            for run_id in reported:
                assert len(store.run(run_id).scores) == SCORES_PER_RUN
    assert len(set(reported)) == len(reported) > 25


# -- concurrent writers -------------------------------------------------------------------------


def test_eight_threads_each_with_a_store(tmp_path: Path) -> None:
    """Eight stores opened at once on a new file, 50 runs each: nothing lost, never locked."""
    path = tmp_path / "threads.db"
    threads_n, runs_n = 8, 50
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    ids: list[list[int]] = [[] for _ in range(threads_n)]

    def work(n: int) -> None:
        try:
            barrier.wait()
            with Store(path) as store:
                for k in range(runs_n):
                    ids[n].append(save_ok_run(store, None, f"t{n}-{k}", f"thread {n} run {k}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    all_ids = [i for chunk in ids for i in chunk]
    assert len(set(all_ids)) == threads_n * runs_n
    assert run_count(path) == threads_n * runs_n
    with contextlib.closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM scores").fetchone()[0] == threads_n * runs_n
        names = conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id").fetchall()
    assert [n for (n,) in names] == list(known_migrations())


def test_wrong_thread_is_refused(store: Store) -> None:
    caught: list[BaseException] = []

    def use() -> None:
        try:
            store.history()
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert len(caught) == 1 and isinstance(caught[0], StorageError)
    assert "thread" in str(caught[0]) and "open a separate Store" in str(caught[0])
    assert store.history() == []  # the owning thread is unaffected


# -- migrations ---------------------------------------------------------------------------------


def test_upgrade_from_first_schema_keeps_data_and_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m002_history_indexes")
    db.execute(
        "INSERT INTO comparisons (id, name, created_at, status, samples, metrics_json, "
        "language, spec_json) VALUES (1, 'old', '2024-01-01T00:00:00+00:00', 'done', 1, "
        "'[\"bleu\"]', NULL, '{}')"
    )
    db.execute(
        "INSERT INTO runs (id, comparison_id, sample, seed, run_key, status, output, "
        "rendered_prompt, created_at) VALUES (1, 1, 0, 5, 'k', 'ok', 'ancient aardvark', "
        "'p', '2024-01-01T00:00:01+00:00')"
    )
    db.execute("INSERT INTO scores VALUES (1, 'bleu', NULL, 'empty hypothesis', 'bleu|13a')")
    db.execute("INSERT INTO ratings VALUES (1, 1, 3, 'kept', '2024-01-02T00:00:00+00:00')")
    db.close()

    with Store(path) as store:
        run = store.run(1)
        assert run.output == "ancient aardvark" and run.seed == 5
        assert run.scores[0].reason == "empty hypothesis"
        assert run.rating is not None and run.rating.note == "kept"
        assert [r.id for r in store.search("aardvark")] == [1]
        assert store.history()[0].name == "old"
        backup = tmp_path / "old.db.bak-v1"
        assert any(str(backup) in notice for notice in store.notices)
        indexes = {row[0] for row in store.database.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "comparisons_by_created_at" in indexes

    assert backup.is_file()
    with contextlib.closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("SELECT name FROM _sqlite_migrations").fetchall() == [
            ("m001_initial",)
        ]
        assert conn.execute("SELECT output FROM runs").fetchall() == [("ancient aardvark",)]
    with Store(path) as store:  # nothing pending now: no second backup, no notice
        assert store.notices == []
    assert sorted(p.name for p in tmp_path.glob("old.db.bak*")) == ["old.db.bak-v1"]


def test_upgrade_scores_stored_empty_outputs_as_zero(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m006_empty_outputs_score_zero")
    db.execute(
        "INSERT INTO comparisons (id, name, created_at, status, samples, metrics_json, "
        "language, spec_json) VALUES (1, 'old', '2024-01-01T00:00:00+00:00', 'done', 1, "
        "'[\"bleu\"]', NULL, '{}')"
    )
    for run_id, output in ((1, " \n"), (2, "a real answer")):
        db.execute(
            "INSERT INTO runs (id, comparison_id, sample, seed, run_key, status, output, "
            "rendered_prompt, created_at) VALUES (?, 1, 0, 5, ?, 'ok', ?, 'p', "
            "'2024-01-01T00:00:01+00:00')", [run_id, f"k{run_id}", output],
        )
        # Written by the old scorer, which called both N/A "empty hypothesis".
        db.execute("INSERT INTO scores VALUES (?, 'bleu', NULL, 'empty hypothesis', 'bleu|13a')",
                   [run_id])
        db.execute("INSERT INTO scores VALUES (?, 'chrf', NULL, 'no reference', 'chrF2')",
                   [run_id])
    db.close()

    with Store(path) as store:
        empty, answered = store.run(1), store.run(2)
    assert [(s.metric, s.value, s.reason) for s in empty.scores] == [
        ("bleu", 0.0, "empty output"), ("chrf", None, "no reference")]
    # Only an empty output turns into a zero: an N/A of another cause stays N/A.
    assert [(s.metric, s.value) for s in answered.scores] == [("bleu", None), ("chrf", None)]


def test_new_database_gets_no_backup(tmp_path: Path) -> None:
    with Store(tmp_path / "new.db") as store:
        assert store.notices == []
    assert list(tmp_path.glob("*.bak*")) == []


def test_database_from_a_newer_version(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with Store(path) as store:
        run_id = save_ok_run(store, None, "k", "from the present")
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
            "VALUES ('prompt-playground', 'm099_from_the_future', '2030-01-01')"
        )
    with pytest.raises(StorageError) as info:
        Store(path)
    assert str(info.value) == (
        f"{path} was written by a newer version of Prompt Playground (it has migration "
        "'m099_from_the_future' this version does not know); open it with that version, "
        "or pass readonly=True"
    )
    with Store(path, readonly=True) as store:
        assert store.run(run_id).output == "from the present"
        assert any("newer version" in notice for notice in store.notices)
        with pytest.raises(StorageError, match="read-only"):
            store.rate(run_id, stars=2)
    with contextlib.closing(sqlite3.connect(path)) as conn:  # untouched by either open
        assert conn.execute("SELECT count(*) FROM ratings").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(
            known_migrations()
        ) + 1


def test_readonly_needs_an_existing_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="there is no database at"):
        Store(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
    with pytest.raises(StorageError, match="database of another program"):
        Store(path)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names == {"contacts"}


# -- damaged files ------------------------------------------------------------------------------


def test_garbage_file_is_moved_aside_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "playground.db"
    garbage = b"this is not a database, but it may be someone's only copy\n" * 200
    path.write_bytes(garbage)
    with Store(path) as store:
        moved = sorted(tmp_path.glob("playground.db.corrupt-*"))
        assert len(moved) == 1
        assert moved[0].read_bytes() == garbage
        assert len(store.notices) == 1 and str(moved[0]) in store.notices[0]
        run_id = save_ok_run(store, None, "k", "a fresh start")
        assert store.run(run_id).output == "a fresh start"

    # A second damaged file within the same second gets its own name.
    other = b"\x00\xffgarbage again" * 500
    path.write_bytes(other)
    Path(f"{path}-wal").write_bytes(b"stale wal")
    with Store(path) as store:
        assert store.history() == []
    moved = sorted(tmp_path.glob("playground.db.corrupt-*[!l]"))
    assert sorted(p.read_bytes() for p in moved) == sorted([garbage, other])
    walls = list(tmp_path.glob("playground.db.corrupt-*-wal"))
    assert [p.read_bytes() for p in walls] == [b"stale wal"]


def test_garbage_file_is_left_alone_when_readonly(tmp_path: Path) -> None:
    path = tmp_path / "playground.db"
    path.write_bytes(b"not sqlite" * 100)
    with pytest.raises(StorageError, match="not a Prompt Playground database"):
        Store(path, readonly=True)
    assert path.read_bytes() == b"not sqlite" * 100
    assert list(tmp_path.glob("*.corrupt-*")) == []


# -- lifecycle ----------------------------------------------------------------------------------


def test_closed_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "x.db")
    store.close()
    store.close()  # twice is fine
    assert store.closed
    with pytest.raises(StorageError, match="is closed"):
        store.history()
