"""Every comparison and run, kept in one SQLite database per user.

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

import contextlib
import json
import math
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, cast

from sqlite_utils import Database
from sqlite_utils.db import Table

from playground import paths
from playground.comparison import ComparisonSpec, Input, RunStatus, Variant, content_hash
from playground.errors import PlaygroundError
from playground.evaluation.report import ComparisonReport, ReportRun, build_report
from playground.events import Result, TokenLogprob
from playground.ratings import (
    DEFAULT_CRITERIA,
    Choice,
    Judgement,
    PreferenceError,
    check_criteria,
    input_prompt,
)
from playground.sampling import SamplingParams
from playground.storage.migrations import known_migrations, migrations

DB_ENV = paths.DB_ENV
DB_FILE_NAME = paths.DB_FILE_NAME

ComparisonStatus = Literal["running", "done", "cancelled", "failed"]
COMPARISON_STATUSES: tuple[ComparisonStatus, ...] = ("running", "done", "cancelled", "failed")
RUN_STATUSES: tuple[RunStatus, ...] = ("ok", "failed", "cancelled")

#: How long SQLite itself waits for another writer before reporting the database busy.
BUSY_TIMEOUT_MS = 5000
#: How long a write keeps retrying a busy database before giving up.
RETRY_BUDGET_S = 10.0
_FIRST_BACKOFF_S = 0.05
_MAX_BACKOFF_S = 1.0

#: Bumped when the layout of ``comparisons.spec_json`` changes.
SPEC_FORMAT = 1

# Primary result codes (extended codes carry them in the low byte).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26

T = TypeVar("T")


class StorageError(PlaygroundError):
    """The database could not be opened, read or written; the message says what to do."""


class ScoreLike(Protocol):
    """Any score the scoring module (or a test) produces; read-only so frozen dataclasses fit."""

    @property
    def metric(self) -> str: ...

    @property
    def value(self) -> float | None: ...

    @property
    def signature(self) -> str: ...

    @property
    def reason(self) -> str | None: ...


# -- rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    """``value is None`` means the metric did not apply; ``reason`` says why."""

    metric: str
    value: float | None
    signature: str
    reason: str | None = None


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


@dataclass(frozen=True)
class RunRow:
    """A stored run. Output fields are None for runs that failed before producing anything."""

    id: int
    comparison_id: int | None
    variant_id: int | None
    input_id: int | None
    sample: int
    seed: int
    run_key: str
    status: str
    error: str | None
    params: dict[str, Any] | None
    rendered_prompt: str | None
    output: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    ttft_s: float | None
    tokens_per_second: float | None
    total_s: float | None
    model: dict[str, Any] | None
    created_at: str
    scores: tuple[ScoreRow, ...] = ()
    rating: RatingRow | None = None
    #: Chosen tokens with their top alternatives, kept only when alternatives were asked for.
    logprobs: tuple[TokenLogprob, ...] | None = None
    #: The reproducibility record (playground.provenance); None for runs made before it.
    record: dict[str, Any] | None = None
    #: Generated token ids, where the backend knew them (local models).
    token_ids: tuple[int, ...] | None = None

    def score(self, metric: str) -> ScoreRow | None:
        return next((s for s in self.scores if s.metric == metric), None)


@dataclass(frozen=True)
class VariantRow:
    id: int
    comparison_id: int
    position: int
    name: str
    template_hash: str
    template_id: str
    template_source: str
    params: dict[str, Any]
    model: str
    values: dict[str, Any]
    chat: bool
    key: str


@dataclass(frozen=True)
class InputRow:
    id: int
    comparison_id: int
    position: int
    input_key: str
    values: dict[str, Any]
    references: tuple[str, ...]


@dataclass(frozen=True)
class ComparisonRow:
    """A stored comparison with how far it got: ``run_count`` of ``expected_runs`` are saved."""

    id: int
    name: str
    created_at: str
    status: str
    samples: int
    metrics: tuple[str, ...]
    language: str | None
    spec: dict[str, Any]
    variant_count: int
    input_count: int
    run_count: int
    ok_count: int
    failed_count: int
    cancelled_count: int

    @property
    def expected_runs(self) -> int:
        return self.variant_count * self.input_count * self.samples

    def to_spec(self) -> ComparisonSpec:
        """The spec exactly as it was saved, template sources included, so it can be resumed or
        re-run after the library has changed."""
        return spec_from_dict(self.spec)


# -- paths ----------------------------------------------------------------------------------------


def default_db_path() -> Path:
    """``$PLAYGROUND_DB`` lets tests, scripts and a second profile use another database
    without touching the user's own."""
    return paths.database_path()


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _has_sqlite_header(path: Path) -> bool:
    """A missing or empty file is a database yet to be created; anything else must start with
    SQLite's magic string. Unreadable files are left for SQLite to report."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
    except OSError:
        return True
    return head in (b"", _SQLITE_MAGIC)


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _utc_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _free_name(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``...: set-aside and backup files never replace an
    earlier one."""
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


# -- sqlite errors --------------------------------------------------------------------------------


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    return code & 0xFF if isinstance(code, int) else None


def _is_busy(exc: sqlite3.Error) -> bool:
    code = _code(exc)
    if code is not None:
        return code in (_SQLITE_BUSY, _SQLITE_LOCKED)
    text = str(exc).lower()
    return "database is locked" in text or "is busy" in text or "table is locked" in text


def _is_full(exc: sqlite3.Error) -> bool:
    return _code(exc) == _SQLITE_FULL or "database or disk is full" in str(exc).lower()


def _is_not_a_database(exc: sqlite3.Error) -> bool:
    return _code(exc) == _SQLITE_NOTADB or "file is not a database" in str(exc).lower()


def _is_readonly(exc: sqlite3.Error) -> bool:
    return _code(exc) == _SQLITE_READONLY or "readonly database" in str(exc).lower()


# -- spec <-> JSON --------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def spec_to_dict(spec: ComparisonSpec) -> dict[str, Any]:
    """Everything needed to rebuild the spec; template and library sources are copied in
    because the files they came from may change or disappear."""
    return {
        "format": SPEC_FORMAT,
        "name": spec.name,
        "variants": [
            {
                "name": v.name,
                "template_id": v.template_id,
                "template_source": v.template_source,
                "params": v.params.to_dict(),
                "model": v.model,
                "values": dict(v.values),
                "chat": v.chat,
                "library_sources": dict(v.library_sources),
            }
            for v in spec.variants
        ],
        "inputs": [
            {"id": i.id, "values": dict(i.values), "references": list(i.references)}
            for i in spec.inputs
        ],
        "samples": spec.samples,
        "base_seed": spec.base_seed,
        "metrics": list(spec.metrics),
        "language": spec.language,
        "checks": dict(spec.checks),
        "sweep_param": spec.sweep_param,
    }


def spec_from_dict(data: Mapping[str, Any]) -> ComparisonSpec:
    try:
        variants = tuple(
            Variant(
                name=v["name"],
                template_id=v["template_id"],
                template_source=v["template_source"],
                params=SamplingParams.from_dict(v["params"]),
                model=v["model"],
                values=dict(v.get("values", {})),
                chat=bool(v.get("chat", False)),
                library_sources=dict(v.get("library_sources", {})),
            )
            for v in data["variants"]
        )
        inputs = tuple(
            Input(i["id"], dict(i["values"]), tuple(i.get("references", ())))
            for i in data["inputs"]
        )
        return ComparisonSpec(
            name=data["name"],
            variants=variants,
            inputs=inputs,
            samples=int(data["samples"]),
            base_seed=int(data["base_seed"]),
            metrics=tuple(data["metrics"]),
            language=data.get("language"),
            checks=dict(data.get("checks") or {}),
            sweep_param=data.get("sweep_param"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"the stored comparison spec cannot be read back: {exc}") from exc


def _template_meta(source: str, template_id: str) -> tuple[str | None, str | None, str | None]:
    """Name, technique and task from the template's header, so stored templates can be listed
    without parsing them again; a template that no longer parses is still stored whole."""
    from playground.prompts.templates import parse_template

    try:
        meta = parse_template(source, template_id).meta
    except PlaygroundError:
        return None, None, None
    return meta.name, meta.technique or None, meta.task or None


# -- the store ------------------------------------------------------------------------------------

_RUN_COLUMNS = (
    "id, comparison_id, variant_id, input_id, sample, seed, run_key, status, error, params_json, "
    "rendered_prompt, output, finish_reason, prompt_tokens, completion_tokens, ttft_s, "
    "tokens_per_second, total_s, model_json, created_at, logprobs_json, record_json, "
    "token_ids_json"
)

_COMPARISON_SELECT = """
SELECT c.*,
    (SELECT count(*) FROM variants v WHERE v.comparison_id = c.id) AS variant_count,
    (SELECT count(*) FROM inputs i WHERE i.comparison_id = c.id) AS input_count,
    (SELECT count(*) FROM runs r WHERE r.comparison_id = c.id) AS run_count,
    (SELECT count(*) FROM runs r WHERE r.comparison_id = c.id AND r.status = 'ok') AS ok_count,
    (SELECT count(*) FROM runs r WHERE r.comparison_id = c.id AND r.status = 'failed')
        AS failed_count,
    (SELECT count(*) FROM runs r WHERE r.comparison_id = c.id AND r.status = 'cancelled')
        AS cancelled_count
FROM comparisons c
"""


class Store:
    """The playground database. Open one per thread; see the module docstring.

    ``notices`` collects things the user should be told about opening the database (a
    damaged file set aside, a backup taken before an upgrade); the store never prints.
    """

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.readonly = readonly
        self.notices: list[str] = []
        self._thread = threading.get_ident()
        self._db: Database | None = None
        self._open()

    # -- lifecycle --------------------------------------------------------------------------------

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._db is None:
            return
        self._check_thread()
        db, self._db = self._db, None
        db.close()

    @property
    def closed(self) -> bool:
        return self._db is None

    def _open(self) -> None:
        if not self.readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot create the folder for the database {self.path}: {exc}"
                ) from exc
        # Checked before SQLite opens the file: opening it would delete a -wal file next to
        # it, which then could not be set aside with it.
        if not _has_sqlite_header(self.path):
            self._not_a_database()
        conn = self._connect()
        try:
            self._probe(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            if not _is_not_a_database(exc):
                raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
            self._not_a_database(exc)
            conn = self._connect()
        self._db = Database(conn, execute_plugins=False)
        try:
            self._retry_busy(self._configure)
            if self.readonly:
                self._check_readonly_version()
            else:
                self._retry_busy(self._migrate)
        except BaseException as exc:
            self._db.close()
            self._db = None
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"cannot open the database {self.path}: {exc}") from exc
            raise

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.readonly:
                if not self.path.is_file():
                    raise StorageError(f"there is no database at {self.path}")
                uri = self.path.resolve().as_uri() + "?mode=ro"
                return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            return sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from exc

    def _probe(self, conn: sqlite3.Connection) -> None:
        """sqlite3.connect accepts any file; only the first read finds out what it holds."""
        deadline = time.monotonic() + RETRY_BUDGET_S
        while True:
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(_FIRST_BACKOFF_S)

    def _not_a_database(self, cause: BaseException | None = None) -> None:
        if self.readonly:
            raise StorageError(
                f"{self.path} is not a Prompt Playground database (it is not an SQLite "
                "file at all); open it without readonly=True to set it aside and start "
                "a new one"
            ) from cause
        self._set_aside()

    def _set_aside(self) -> None:
        """Move a file that is not a database out of the way, never deleting or overwriting it:
        it may be the user's only copy of something."""
        target = _free_name(self.path.with_name(f"{self.path.name}.corrupt-{_utc_stamp()}"))
        try:
            os.rename(self.path, target)
            # A leftover journal or WAL would be replayed into the new database.
            for suffix in ("-wal", "-shm", "-journal"):
                sibling = Path(f"{self.path}{suffix}")
                if sibling.exists():
                    os.rename(sibling, Path(f"{target}{suffix}"))
        except OSError as exc:
            raise StorageError(
                f"{self.path} is not an SQLite database and could not be moved aside "
                f"({exc}); move or rename it yourself, then start again"
            ) from exc
        self.notices.append(
            f"{self.path} was not a readable database; it was moved to {target} and a new, "
            "empty database was created"
        )

    def _configure(self) -> None:
        conn = self._conn
        if not self.readonly:
            # WAL lets readers (the GUI's history, a report) work while a comparison writes;
            # FULL makes each commit survive power loss, not just a crashed process.
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute("PRAGMA synchronous=FULL")
        else:
            conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    def _unknown_migrations(self) -> list[str]:
        known = set(known_migrations())
        return [m.name for m in migrations.applied(self._database) if m.name not in known]

    def _newer_version_error(self, unknown: Sequence[str]) -> StorageError:
        return StorageError(
            f"{self.path} was written by a newer version of Prompt Playground (it has "
            f"migration {unknown[0]!r} this version does not know); open it with that "
            "version, or pass readonly=True"
        )

    def _check_readonly_version(self) -> None:
        unknown = self._unknown_migrations()
        if unknown:
            self.notices.append(
                f"{self.path} was written by a newer version of Prompt Playground; it is "
                "open read-only and some of its data may not be shown"
            )

    def _migrate(self) -> None:
        """Bring the schema up to date.

        sqlite-utils' ``Migrations.apply`` already runs each migration and its record in one
        transaction, but it decides what is pending before taking any lock and creates its
        bookkeeping table and index in separate commits. Two stores opening a new database at
        once would then both run m001 and one would fail. Holding ``BEGIN IMMEDIATE`` around
        the whole of ``apply`` serialises that: the second opener waits, then finds nothing
        pending; and all pending migrations land together or not at all.
        """
        db, conn = self._database, self._conn
        unknown = self._unknown_migrations()
        if unknown:
            raise self._newer_version_error(unknown)
        if not migrations.pending(db):
            return
        conn.execute("BEGIN IMMEDIATE")
        backup: Path | None = None
        try:
            applied = [m.name for m in migrations.applied(db)]
            unknown = [n for n in applied if n not in set(known_migrations())]
            if unknown:
                raise self._newer_version_error(unknown)
            pending = migrations.pending(db)
            if pending:
                tables = {
                    row[0]
                    for row in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' AND name != ?",
                        [migrations.migrations_table],
                    )
                }
                if tables and not applied:
                    raise StorageError(
                        f"{self.path} is an SQLite database of another program (it has tables "
                        f"but no Prompt Playground history); choose another file, or set "
                        f"{DB_ENV}"
                    )
                if tables:
                    backup = self._backup(len(applied))
                migrations.apply(db)
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            upgrade_failed = isinstance(exc, Exception) and not isinstance(exc, StorageError)
            if upgrade_failed and not (isinstance(exc, sqlite3.Error) and _is_busy(exc)):
                where = f"; a copy from before the upgrade is at {backup}" if backup else ""
                raise StorageError(
                    f"could not upgrade the database {self.path} to this version: {exc}. "
                    f"It was left as it was{where}"
                ) from exc
            raise
        if backup is not None:
            self.notices.append(
                f"{self.path} was upgraded to this version's format; a copy from before the "
                f"upgrade is at {backup}"
            )

    def _backup(self, version: int) -> Path:
        """Copy the database before changing its schema. Runs while this connection holds the
        write lock, so the copy is read through a second connection: SQLite refuses to back
        up from a connection that has a write transaction open."""
        target = _free_name(self.path.with_name(f"{self.path.name}.bak-v{version}"))
        try:
            source = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro",
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
            try:
                dest = sqlite3.connect(str(target))
                try:
                    source.backup(dest)
                finally:
                    dest.close()
            finally:
                source.close()
        except sqlite3.Error as exc:
            raise StorageError(
                f"could not back up {self.path} to {target} before upgrading it ({exc}); "
                "nothing was changed"
            ) from exc
        return target

    # -- plumbing ---------------------------------------------------------------------------------

    @property
    def _database(self) -> Database:
        if self._db is None:
            raise StorageError(f"the database {self.path} is closed")
        return self._db

    @property
    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = self._database.conn
        return conn

    def _check_thread(self) -> None:
        if threading.get_ident() != self._thread:
            raise StorageError(
                "this Store was opened in another thread, and an SQLite connection can only be "
                "used by the thread that opened it; open a separate Store in this thread"
            )

    def _check(self) -> Database:
        self._check_thread()
        return self._database

    def _retry_busy(self, fn: Callable[[], T]) -> T:
        """SQLite's busy timeout covers most waits; this covers the rest (a lock held through
        a checkpoint, several writers queueing) with exponential backoff and jitter, so that
        normal contention never reaches the user as "database is locked"."""
        deadline = time.monotonic() + RETRY_BUDGET_S
        delay = _FIRST_BACKOFF_S
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, _MAX_BACKOFF_S)

    def _error(self, exc: sqlite3.Error, doing: str) -> StorageError:
        if _is_full(exc):
            return StorageError(
                f"the disk is full: could not save {doing} in {self.path}, so nothing was "
                "saved from it; free some disk space and try again"
            )
        if _is_busy(exc):
            return StorageError(
                f"the database {self.path} stayed busy for {RETRY_BUDGET_S:.0f} s (another "
                f"program is writing to it); {doing} was not saved, try again"
            )
        if _is_readonly(exc):
            return StorageError(f"the database {self.path} is read-only; {doing} was not saved")
        return StorageError(f"could not save {doing} in {self.path}: {exc}; nothing was saved")

    def _write(self, doing: str, fn: Callable[[Database], T]) -> T:
        """Run ``fn`` in one write transaction: all of it is committed, or none of it.

        ``BEGIN IMMEDIATE`` takes the write lock up front, where the busy timeout can wait for
        it; a deferred transaction that reads first could be refused the lock later with no
        wait at all.
        """
        db = self._check()
        if self.readonly:
            raise StorageError(f"{self.path} was opened read-only; {doing} cannot be saved")
        conn = self._conn

        def attempt() -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(db)
                conn.execute("COMMIT")
            except BaseException:
                # A full disk can already have rolled the transaction back.
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            return result

        try:
            return self._retry_busy(attempt)
        except sqlite3.Error as exc:
            raise self._error(exc, doing) from exc

    def _read(self, doing: str, fn: Callable[[Database], T]) -> T:
        """Run ``fn`` in one read transaction so related queries (runs and their scores) see
        the same moment, even while another store is writing."""
        db = self._check()
        conn = self._conn

        def attempt() -> T:
            conn.execute("BEGIN")
            try:
                return fn(db)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

        try:
            return self._retry_busy(attempt)
        except sqlite3.Error as exc:
            raise StorageError(f"could not read {doing} from {self.path}: {exc}") from exc

    # -- comparisons ------------------------------------------------------------------------------

    def save_comparison(self, spec: ComparisonSpec) -> int:
        """Returns the new comparison's id. One transaction, so a comparison is never stored
        without its variants and inputs; templates are shared by content hash, so re-running
        the same template does not copy it again."""
        hashes = {v.name: _source_hash(v.template_source) for v in spec.variants}
        templates = {hashes[v.name]: v for v in spec.variants}
        metas = {h: _template_meta(v.template_source, v.template_id) for h, v in templates.items()}

        def write(db: Database) -> int:
            for digest, variant in templates.items():
                name, technique, task = metas[digest]
                db.table("templates").insert(
                    {
                        "hash": digest,
                        "template_id": variant.template_id,
                        "name": name,
                        "technique": technique,
                        "task": task,
                        "source": variant.template_source,
                    },
                    ignore=True,
                )
            comparison_id = _inserted_id(
                db.table("comparisons").insert(
                    {
                        "name": spec.name,
                        "created_at": _utc_now(),
                        "status": "running",
                        "samples": spec.samples,
                        "metrics_json": _json(list(spec.metrics)),
                        "language": spec.language,
                        "spec_json": _json(spec_to_dict(spec)),
                    }
                )
            )
            db.table("variants").insert_all(
                {
                    "comparison_id": comparison_id,
                    "position": n,
                    "name": v.name,
                    "template_hash": hashes[v.name],
                    "template_id": v.template_id,
                    "params_json": _json(v.params.to_dict()),
                    "model": v.model,
                    "values_json": _json(dict(v.values)),
                    "chat": int(v.chat),
                    "key": v.key(),
                }
                for n, v in enumerate(spec.variants)
            )
            db.table("inputs").insert_all(
                {
                    "comparison_id": comparison_id,
                    "position": n,
                    "input_key": i.id,
                    "values_json": _json(dict(i.values)),
                    "references_json": _json(list(i.references)),
                }
                for n, i in enumerate(spec.inputs)
            )
            return comparison_id

        return self._write(f"the comparison {spec.name!r}", write)

    def comparison(self, comparison_id: int) -> ComparisonRow:
        def read(db: Database) -> ComparisonRow:
            rows = list(db.query(_COMPARISON_SELECT + "WHERE c.id = ?", [comparison_id]))
            if not rows:
                raise StorageError(f"there is no comparison with id {comparison_id}")
            return _comparison_row(rows[0])

        return self._read("a comparison", read)

    def history(self, limit: int = 50, offset: int = 0) -> list[ComparisonRow]:
        """Newest first and paged: the history only grows, and a list shows one page."""
        limit, offset = _page(limit, offset)

        def read(db: Database) -> list[ComparisonRow]:
            sql = _COMPARISON_SELECT + "ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?"
            return [_comparison_row(row) for row in db.query(sql, [limit, offset])]

        return self._read("the history", read)

    def set_status(self, comparison_id: int, status: str) -> None:
        if status not in COMPARISON_STATUSES:
            raise StorageError(
                f"unknown comparison status {status!r}; use one of "
                f"{', '.join(COMPARISON_STATUSES)}"
            )

        def write(db: Database) -> None:
            cursor = db.execute(
                "UPDATE comparisons SET status = ? WHERE id = ?", [status, comparison_id]
            )
            if cursor.rowcount == 0:
                raise StorageError(f"there is no comparison with id {comparison_id}")

        self._write("the comparison status", write)

    def delete_comparison(self, comparison_id: int) -> bool:
        """Delete a comparison with its variants, inputs, runs, scores and ratings. Templates
        stay: they are shared by content and cost little. Returns whether it existed."""

        def write(db: Database) -> bool:
            cursor = db.execute("DELETE FROM comparisons WHERE id = ?", [comparison_id])
            return cursor.rowcount > 0

        return self._write("the deletion", write)

    def variants(self, comparison_id: int) -> list[VariantRow]:
        def read(db: Database) -> list[VariantRow]:
            rows = db.query(
                "SELECT v.*, t.source AS template_source FROM variants v "
                "JOIN templates t ON t.hash = v.template_hash "
                "WHERE v.comparison_id = ? ORDER BY v.position",
                [comparison_id],
            )
            return [
                VariantRow(
                    id=r["id"],
                    comparison_id=r["comparison_id"],
                    position=r["position"],
                    name=r["name"],
                    template_hash=r["template_hash"],
                    template_id=r["template_id"],
                    template_source=r["template_source"],
                    params=json.loads(r["params_json"]),
                    model=r["model"],
                    values=json.loads(r["values_json"]),
                    chat=bool(r["chat"]),
                    key=r["key"],
                )
                for r in rows
            ]

        return self._read("the variants", read)

    def inputs(self, comparison_id: int) -> list[InputRow]:
        def read(db: Database) -> list[InputRow]:
            rows = db.query(
                "SELECT * FROM inputs WHERE comparison_id = ? ORDER BY position", [comparison_id]
            )
            return [
                InputRow(
                    id=r["id"],
                    comparison_id=r["comparison_id"],
                    position=r["position"],
                    input_key=r["input_key"],
                    values=json.loads(r["values_json"]),
                    references=tuple(json.loads(r["references_json"])),
                )
                for r in rows
            ]

        return self._read("the inputs", read)

    def variant_ids(self, comparison_id: int) -> dict[str, int]:
        """Variant name → row id, what the runner needs to file each run under its variant."""
        return {v.name: v.id for v in self.variants(comparison_id)}

    def input_ids(self, comparison_id: int) -> dict[str, int]:
        """Input id (the dataset's) → row id."""
        return {i.input_key: i.id for i in self.inputs(comparison_id)}

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
        scores: Sequence[ScoreLike] = (),
    ) -> int:
        """Save one finished run and its scores together; returns the run id.

        A cancelled run may be saved and later run again: the new attempt takes its place
        (same id). A finished (ok or failed) run is never replaced; resume skips it.
        """
        if status not in RUN_STATUSES:
            raise StorageError(
                f"unknown run status {status!r}; use one of {', '.join(RUN_STATUSES)}"
            )
        record: dict[str, Any] = {
            "comparison_id": comparison_id,
            "variant_id": variant_id,
            "input_id": input_id,
            "sample": sample,
            "seed": seed,
            "run_key": run_key,
            "status": status,
            "error": error if error is not None else (result.error if result else None),
            "params_json": None,
            "rendered_prompt": None,
            "output": None,
            "finish_reason": None,
            "prompt_tokens": None,
            "completion_tokens": None,
            "ttft_s": None,
            "tokens_per_second": None,
            "total_s": None,
            "model_json": None,
            "logprobs_json": None,
            "record_json": None,
            "token_ids_json": None,
            "created_at": _utc_now(),
        }
        if result is not None:
            record.update(
                params_json=_json(result.params.to_dict()),
                rendered_prompt=result.rendered_prompt,
                output=result.text,
                finish_reason=result.finish_reason,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                ttft_s=result.ttft_s,
                tokens_per_second=result.tokens_per_second,
                total_s=result.total_s,
                model_json=_json(result.model),
                logprobs_json=_alternatives_json(result),
                record_json=None if result.record is None else _json(result.record),
                token_ids_json=None if result.token_ids is None else _json(list(result.token_ids)),
            )
        score_rows = [
            {
                "metric": s.metric,
                "value": None if s.value is None else float(s.value),
                "reason": s.reason,
                "signature": s.signature,
            }
            for s in scores
        ]
        model = _model_record(result.model) if result is not None else None

        def write(db: Database) -> int:
            if model is not None:
                db.table("models").upsert(model, pk="id")
            existing = None
            if comparison_id is not None:
                existing = db.execute(
                    "SELECT id, status FROM runs WHERE comparison_id = ? AND run_key = ?",
                    [comparison_id, run_key],
                ).fetchone()
            if existing is not None:
                run_id, old_status = int(existing[0]), existing[1]
                if old_status != "cancelled":
                    raise StorageError(
                        f"run {run_key} of comparison {comparison_id} is already saved as "
                        f"{old_status} (run {run_id}); it is not replaced"
                    )
                db.table("runs").update(run_id, record)
                db.execute("DELETE FROM scores WHERE run_id = ?", [run_id])
            else:
                run_id = _inserted_id(db.table("runs").insert(record))
            if score_rows:
                db.table("scores").insert_all({**row, "run_id": run_id} for row in score_rows)
            return run_id

        return self._write("the run", write)

    def run(self, run_id: int) -> RunRow:
        def read(db: Database) -> RunRow:
            rows = self._runs_where(db, "WHERE id = ?", [run_id])
            if not rows:
                raise StorageError(f"there is no run with id {run_id}")
            return rows[0]

        return self._read("a run", read)

    def runs(self, comparison_id: int) -> list[RunRow]:
        """In the order they were saved, with scores and ratings attached so a report needs
        no further queries."""
        return self._read(
            "the runs",
            lambda db: self._runs_where(db, "WHERE comparison_id = ? ORDER BY id", [comparison_id]),
        )

    def completed_run_keys(self, comparison_id: int) -> set[str]:
        """Keys of runs that resume must not run again; cancelled runs are not among them."""

        def read(db: Database) -> set[str]:
            rows = db.execute(
                "SELECT run_key FROM runs WHERE comparison_id = ? AND status IN ('ok', 'failed')",
                [comparison_id],
            )
            return {row[0] for row in rows}

        return self._read("the finished runs", read)

    def search(self, text: str, limit: int = 50) -> list[RunRow]:
        """Runs whose prompt or output contain every word of ``text``, newest first.

        Words are matched literally: quotes, ``*``, ``AND``, ``NEAR(`` and the like are text to
        find, not query syntax. Without any word, the newest runs. Newest-first lets FTS5 walk
        its index backwards and stop at ``limit``; ranking by relevance would score every match,
        which in a large history is most of it.
        """
        limit, _ = _page(limit, 0)
        query = fts_literal(text)

        def read(db: Database) -> list[RunRow]:
            if not query:
                return self._runs_where(db, "ORDER BY created_at DESC, id DESC LIMIT ?", [limit])
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT rowid FROM runs_fts WHERE runs_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                    [query, limit],
                )
            ]
            if not ids:
                return []
            found = {
                r.id: r
                for chunk in _chunks(ids, 500)
                for r in self._runs_where(db, f"WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
            }
            return [found[i] for i in ids if i in found]

        return self._read("the search results", read)

    def _runs_where(self, db: Database, tail: str, params: Sequence[Any]) -> list[RunRow]:
        """Runs selected by ``tail`` (WHERE/ORDER/LIMIT clauses), with scores and ratings."""
        rows = db.execute(f"SELECT {_RUN_COLUMNS} FROM runs {tail}", list(params)).fetchall()
        if not rows:
            return []
        ids = [row[0] for row in rows]
        scores: dict[int, list[ScoreRow]] = {}
        ratings: dict[int, RatingRow] = {}
        for chunk in _chunks(ids, 500):
            marks = ", ".join("?" * len(chunk))
            for run_id, metric, value, reason, signature in db.execute(
                f"SELECT run_id, metric, value, reason, signature FROM scores "
                f"WHERE run_id IN ({marks}) ORDER BY metric",
                chunk,
            ):
                scores.setdefault(run_id, []).append(ScoreRow(metric, value, signature, reason))
            for rating in db.execute(
                f"SELECT run_id, thumbs, stars, note, updated_at FROM ratings "
                f"WHERE run_id IN ({marks})",
                chunk,
            ):
                ratings[rating[0]] = RatingRow(*rating)
        return [
            RunRow(
                id=r[0],
                comparison_id=r[1],
                variant_id=r[2],
                input_id=r[3],
                sample=r[4],
                seed=r[5],
                run_key=r[6],
                status=r[7],
                error=r[8],
                params=_load(r[9]),
                rendered_prompt=r[10],
                output=r[11],
                finish_reason=r[12],
                prompt_tokens=r[13],
                completion_tokens=r[14],
                ttft_s=r[15],
                tokens_per_second=r[16],
                total_s=r[17],
                model=_load(r[18]),
                created_at=r[19],
                scores=tuple(scores.get(r[0], ())),
                rating=ratings.get(r[0]),
                logprobs=_token_logprobs(r[20]),
                record=_load(r[21]),
                token_ids=None if r[22] is None else tuple(_load(r[22])),
            )
            for r in rows
        ]

    # -- ratings ----------------------------------------------------------------------------------

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
        changes: dict[str, Any] = {"updated_at": _utc_now()}
        if thumbs is not None:
            changes["thumbs"] = thumbs
        if stars is not None:
            changes["stars"] = stars
        if note is not None:
            changes["note"] = note or None

        def write(db: Database) -> RatingRow:
            if db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone() is None:
                raise StorageError(f"there is no run with id {run_id}")
            db.table("ratings").upsert({"run_id": run_id, **changes}, pk="run_id")
            row = db.execute(
                "SELECT run_id, thumbs, stars, note, updated_at FROM ratings WHERE run_id = ?",
                [run_id],
            ).fetchone()
            return RatingRow(*row)

        return self._write("the rating", write)

    def rating(self, run_id: int) -> RatingRow | None:
        def read(db: Database) -> RatingRow | None:
            row = db.execute(
                "SELECT run_id, thumbs, stars, note, updated_at FROM ratings WHERE run_id = ?",
                [run_id],
            ).fetchone()
            return None if row is None else RatingRow(*row)

        return self._read("a rating", read)

    def clear_rating(self, run_id: int) -> None:
        self._write(
            "the rating",
            lambda db: db.execute("DELETE FROM ratings WHERE run_id = ?", [run_id]),
        )


    # -- human evaluation -------------------------------------------------------------------------

    def criteria(self, comparison_id: int) -> tuple[str, ...]:
        """The Likert criteria of a comparison: its own list, or the defaults."""

        def read(db: Database) -> tuple[str, ...]:
            return self._criteria(db, comparison_id)

        return self._read("the rating criteria", read)

    def _criteria(self, db: Database, comparison_id: int) -> tuple[str, ...]:
        row = db.execute(
            "SELECT criteria_json FROM comparisons WHERE id = ?", [comparison_id]
        ).fetchone()
        if row is None:
            raise StorageError(f"there is no comparison with id {comparison_id}")
        return DEFAULT_CRITERIA if row[0] is None else tuple(json.loads(row[0]))

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
            self._criteria(db, comparison_id)  # the comparison must exist
            for old, new in moves.items():
                if old == new.strip():
                    continue
                # A rename onto a name that once had ratings replaces those hidden ratings.
                db.execute(
                    "UPDATE OR REPLACE criterion_ratings SET criterion = ? WHERE criterion = ? "
                    "AND run_id IN (SELECT id FROM runs WHERE comparison_id = ?)",
                    [new.strip(), old, comparison_id],
                )
            stored = None if cleaned == DEFAULT_CRITERIA else _json(list(cleaned))
            db.execute(
                "UPDATE comparisons SET criteria_json = ? WHERE id = ?", [stored, comparison_id]
            )
            return cleaned

        return self._write("the rating criteria", write)

    def rate_criterion(
        self, run_id: int, criterion: str, score: int, note: str | None = None
    ) -> CriterionRatingRow:
        """Rate a run 1–5 on one of its comparison's criteria. ``note=None`` keeps the note
        already there, ``""`` clears it."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise StorageError(f"a rating must be a whole number from 1 to 5, got {score!r}")
        changes: dict[str, Any] = {"score": score, "updated_at": _utc_now()}
        if note is not None:
            changes["note"] = note or None

        def write(db: Database) -> CriterionRatingRow:
            row = db.execute("SELECT comparison_id FROM runs WHERE id = ?", [run_id]).fetchone()
            if row is None:
                raise StorageError(f"there is no run with id {run_id}")
            if row[0] is None:
                raise StorageError(f"run {run_id} is not part of a comparison, which is what "
                                   "names the criteria to rate it on")
            names = self._criteria(db, int(row[0]))
            if criterion not in names:
                raise StorageError(f"{criterion!r} is not a criterion of comparison {row[0]}; "
                                   f"its criteria are {', '.join(names)}")
            db.table("criterion_ratings").upsert(
                {"run_id": run_id, "criterion": criterion, **changes}, pk=("run_id", "criterion")
            )
            found = db.execute(
                "SELECT run_id, criterion, score, note, updated_at FROM criterion_ratings "
                "WHERE run_id = ? AND criterion = ?",
                [run_id, criterion],
            ).fetchone()
            return CriterionRatingRow(*found)

        return self._write("the rating", write)

    def criterion_ratings(self, comparison_id: int) -> list[CriterionRatingRow]:
        """Every rating of the comparison's runs on its current criteria, by run then in the
        order of the criteria."""

        def read(db: Database) -> list[CriterionRatingRow]:
            names = self._criteria(db, comparison_id)
            order = {name: n for n, name in enumerate(names)}
            rows = [
                CriterionRatingRow(*r)
                for r in db.execute(
                    "SELECT cr.run_id, cr.criterion, cr.score, cr.note, cr.updated_at "
                    "FROM criterion_ratings cr JOIN runs r ON r.id = cr.run_id "
                    "WHERE r.comparison_id = ?",
                    [comparison_id],
                )
                if r[1] in order
            ]
            rows.sort(key=lambda r: (r.run_id, order[r.criterion]))
            return rows

        return self._read("the ratings", read)

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
                r[0]: r
                for r in db.execute(
                    "SELECT r.id, r.comparison_id, r.input_id, r.variant_id, r.status, "
                    "i.input_key, v.name FROM runs r "
                    "LEFT JOIN inputs i ON i.id = r.input_id "
                    "LEFT JOIN variants v ON v.id = r.variant_id WHERE r.id IN (?, ?)",
                    [run_a, run_b],
                )
            }
            for run_id in (run_a, run_b):
                row = found.get(run_id)
                if row is None:
                    raise StorageError(f"there is no run with id {run_id}")
                if row[1] != comparison_id:
                    raise StorageError(f"run {run_id} is not part of comparison {comparison_id}")
                if row[4] != "ok":
                    raise StorageError(f"run {run_id} has no output to judge (it {row[4]})")
            a, b = found[run_a], found[run_b]
            if a[2] is None or a[2] != b[2]:
                raise StorageError(
                    f"runs {run_a} and {run_b} answer different inputs ({a[5]} and {b[5]}); a "
                    "judgement compares two outputs of the same input"
                )
            if a[3] is None or a[3] == b[3]:
                raise StorageError(
                    f"runs {run_a} and {run_b} come from the same variant ({a[6]}); a judgement "
                    "compares two different variants"
                )
            record = {
                "comparison_id": comparison_id,
                "input_id": a[2],
                "run_a": run_a,
                "run_b": run_b,
                "choice": choice,
                "created_at": _utc_now(),
            }
            judgement_id = _inserted_id(db.table("judgements").insert(record))
            return JudgementRow(id=judgement_id, **record)

        return self._write("the judgement", write)

    def judgements(self, comparison_id: int) -> list[JudgementRow]:
        """In the order they were given."""

        def read(db: Database) -> list[JudgementRow]:
            return [
                JudgementRow(*r)
                for r in db.execute(
                    "SELECT id, comparison_id, input_id, run_a, run_b, choice, created_at "
                    "FROM judgements WHERE comparison_id = ? ORDER BY id",
                    [comparison_id],
                )
            ]

        return self._read("the judgements", read)

    def undo_last_judgement(self, comparison_id: int) -> JudgementRow | None:
        """Remove and return the newest judgement of the comparison (None when there is none),
        for a judge who pressed the wrong key."""

        def write(db: Database) -> JudgementRow | None:
            row = db.execute(
                "SELECT id, comparison_id, input_id, run_a, run_b, choice, created_at "
                "FROM judgements WHERE comparison_id = ? ORDER BY id DESC LIMIT 1",
                [comparison_id],
            ).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM judgements WHERE id = ?", [row[0]])
            return JudgementRow(*row)

        return self._write("the judgement", write)


def report_runs(store: Store, comparison_id: int) -> list[ReportRun]:
    """A saved comparison in the shape the report builds from, so a report made from the
    database (after a resume, or later) matches one made while the comparison ran."""
    variants = {v.id: v.name for v in store.variants(comparison_id)}
    inputs = {i.id: i for i in store.inputs(comparison_id)}
    ratings: dict[int, dict[str, int]] = {}
    for rating in store.criterion_ratings(comparison_id):
        ratings.setdefault(rating.run_id, {})[rating.criterion] = rating.score
    runs = []
    for run in store.runs(comparison_id):
        input_row = inputs.get(run.input_id) if run.input_id is not None else None
        runs.append(
            ReportRun(
                variant=variants.get(run.variant_id, "") if run.variant_id is not None else "",
                input_id=input_row.input_key if input_row else "",
                sample=run.sample,
                seed=run.seed,
                status=run.status,
                prompt=run.rendered_prompt or "",
                output=run.output or "",
                references=input_row.references if input_row else (),
                scores={s.metric: s.value for s in run.scores},
                tokens_per_second=run.tokens_per_second,
                total_s=run.total_s,
                ttft_s=run.ttft_s,
                error=run.error,
                run_id=run.id,
                criteria=ratings.get(run.id, {}),
                record=run.record,
            )
        )
    return runs


def comparison_judgements(store: Store, comparison_id: int) -> list[Judgement]:
    """A comparison's saved judgements with the texts, variants and models they were about:
    what the ranking is fitted on and the preference dataset is written from."""
    variants = {v.id: v for v in store.variants(comparison_id)}
    inputs = {i.id: i for i in store.inputs(comparison_id)}
    runs = {r.id: r for r in store.runs(comparison_id)}
    out: list[Judgement] = []
    for row in store.judgements(comparison_id):
        run_a, run_b = runs[row.run_a], runs[row.run_b]
        variant_a = variants[run_a.variant_id] if run_a.variant_id is not None else None
        variant_b = variants[run_b.variant_id] if run_b.variant_id is not None else None
        if variant_a is None or variant_b is None:
            continue  # not possible for a saved judgement; skipped rather than guessed
        input_row = inputs[row.input_id]
        out.append(
            Judgement(
                input_id=input_row.input_key,
                prompt=input_prompt(input_row.values),
                variant_a=variant_a.name,
                output_a=run_a.output or "",
                variant_b=variant_b.name,
                output_b=run_b.output or "",
                choice=cast(Choice, row.choice),
                model_a=run_model_name(run_a, variant_a),
                model_b=run_model_name(run_b, variant_b),
            )
        )
    return out


def run_model_name(run: RunRow, variant: VariantRow) -> str:
    """The model a run was generated by: its name as the run recorded it, else the model the
    variant asked for (a path or ``remote:NAME``)."""
    name = (run.model or {}).get("name")
    return str(name) if name else variant.model


# -- helpers --------------------------------------------------------------------------------------


def fts_literal(text: str) -> str:
    """An FTS5 query matching every whitespace-separated word of ``text`` as plain text.

    Each word becomes an FTS5 string (double quotes, inner quotes doubled), inside which no
    character is syntax. sqlite-utils' ``quote_fts`` is not used: it keeps user-typed quotes as
    phrase syntax and turns a lone ``"`` into an empty query that FTS5 rejects.
    """
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def _source_hash(source: str) -> str:
    """Templates are stored once per distinct text: an edited template is a new version, and
    old comparisons keep pointing at the text they actually ran."""
    return sha256(source.encode("utf-8")).hexdigest()


def _alternatives_json(result: Result) -> str | None:
    """Per-token alternatives are kept when they were asked for (a token view); the bare
    log-probabilities confidence needs are already in the scores."""
    if not result.logprobs or not any(lp.top for lp in result.logprobs):
        return None
    return _json([[lp.token, lp.logprob, [list(t) for t in lp.top]] for lp in result.logprobs])


def _token_logprobs(text: str | None) -> tuple[TokenLogprob, ...] | None:
    data = _load(text)
    if not isinstance(data, list):
        return None
    return tuple(
        TokenLogprob(str(token), float(logprob), tuple((str(t), float(v)) for t, v in top))
        for token, logprob, top in data
    )


def _inserted_id(table: Table) -> int:
    pk = table.last_pk
    if not isinstance(pk, int):
        raise StorageError(f"the database did not report the id of the new {table.name} row")
    return pk


def _page(limit: int, offset: int) -> tuple[int, int]:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise StorageError(f"limit must be a whole number of 0 or more, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise StorageError(f"offset must be a whole number of 0 or more, got {offset!r}")
    return limit, offset


def _chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _comparison_row(r: Mapping[str, Any]) -> ComparisonRow:
    return ComparisonRow(
        id=r["id"],
        name=r["name"],
        created_at=r["created_at"],
        status=r["status"],
        samples=r["samples"],
        metrics=tuple(json.loads(r["metrics_json"])),
        language=r["language"],
        spec=json.loads(r["spec_json"]),
        variant_count=r["variant_count"],
        input_count=r["input_count"],
        run_count=r["run_count"],
        ok_count=r["ok_count"],
        failed_count=r["failed_count"],
        cancelled_count=r["cancelled_count"],
    )


def _model_record(model: Mapping[str, Any]) -> dict[str, Any] | None:
    """The models table keeps one row per model file, however often it is used; runs keep
    their own full copy in ``model_json``."""
    if not model or not (model.get("name") or model.get("path")):
        return None

    def number(key: str) -> int | None:
        value = model.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return int(value) if math.isfinite(value) else None

    return {
        "id": content_hash([model.get("name"), model.get("file_size"), model.get("file_type")]),
        "name": model.get("name"),
        "path": None if model.get("path") is None else str(model.get("path")),
        "architecture": model.get("architecture"),
        "parameter_count": number("parameter_count"),
        "quant": None if model.get("file_type") is None else str(model.get("file_type")),
        "file_size": number("file_size"),
        "info_json": _json(dict(model)),
    }


def stored_report(store: Store, comparison_id: int) -> ComparisonReport:
    """The full report of a saved comparison (metrics, sweep, Likert ratings, pairwise
    ranking): the one every face of the app shows and exports for a stored comparison."""
    row = store.comparison(comparison_id)
    spec = row.to_spec()
    return build_report(
        row.name,
        report_runs(store, comparison_id),
        language=row.language,
        sweep=spec.sweep_values(),
        sweep_param=spec.sweep_param,
        criteria=store.criteria(comparison_id),
        judgements=comparison_judgements(store, comparison_id),
    )
