"""The history database file: opening, configuring, upgrading, backing up and locking it.

Everything here is about the file and the connection, nothing about what the rows mean: the
record stores (``comparisons``, ``runs``, ``ratings``) run their queries through
:meth:`Connection.write` and :meth:`Connection.read`, and read rows by column name, so a column
added by a later migration never shifts another.

**Threads.** A :class:`Connection` wraps one sqlite3 connection, and a connection belongs to the
thread that opened it: use it only from the thread that created it (every query checks and
raises :class:`StorageError` otherwise). Threads or processes that write at the same time each
open their own on the same file; SQLite serialises their writes, and a writer that finds the
database busy waits and retries instead of failing.

**Where.** A connection opened without a path opens :func:`default_db_path`: ``$PLAYGROUND_DB``
when set, else ``playground.db`` in the per-user data folder. A path given wins over both.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database
from sqlite_utils.db import Table

from playground import paths
from playground.errors import PlaygroundError
from playground.storage.migrations import known_migrations, migrations

DB_ENV = paths.DB_ENV
DB_FILE_NAME = paths.DB_FILE_NAME

log = logging.getLogger("playground.storage")


#: How long SQLite itself waits for another writer before reporting the database busy.
BUSY_TIMEOUT_MS = 5000
#: How long a write keeps retrying a busy database before giving up.
RETRY_BUDGET_S = 10.0
_FIRST_BACKOFF_S = 0.05
_MAX_BACKOFF_S = 1.0


# Primary result codes (extended codes carry them in the low byte).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_FULL = 13
_SQLITE_NOTADB = 26

T = TypeVar("T")


class StorageError(PlaygroundError):
    """The database could not be opened, read or written; the message says what to do."""


#: A row read by column name: what every record store builds its rows from.
Row = dict[str, Any]


# -- paths and names -------------------------------------------------------------------------------


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


# -- values ----------------------------------------------------------------------------------------


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def fetch_all(db: Database, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Rows as column name → value: a row is read by name, so the order of the columns in the
    table (a column added by a later migration, a table rebuilt) never shifts a field."""
    cursor = db.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def fetch_one(db: Database, sql: str, params: Sequence[Any] = ()) -> Row | None:
    rows = fetch_all(db, sql, params)
    return rows[0] if rows else None


def inserted_id(table: Table) -> int:
    pk = table.last_pk
    if not isinstance(pk, int):
        raise StorageError(f"the database did not report the id of the new {table.name} row")
    return pk


def page(limit: int, offset: int) -> tuple[int, int]:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise StorageError(f"limit must be a whole number of 0 or more, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise StorageError(f"offset must be a whole number of 0 or more, got {offset!r}")
    return limit, offset


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class Connection:
    """One thread's connection to the history database; see the module docstring.

    Opening it sets aside a file that is not a database, configures the connection and brings
    the schema up to date (with a backup first). ``notices`` collects things the user should
    be told about that (a damaged file set aside, a backup taken before an upgrade); nothing
    here prints.
    """

    def __init__(self, path: Path | str | None = None, *, readonly: bool = False) -> None:
        self.path = Path(path).expanduser() if path is not None else default_db_path()
        self.readonly = readonly
        self.notices: list[str] = []
        self._thread = threading.get_ident()
        self._db: Database | None = None
        self._open()

    # -- lifecycle --------------------------------------------------------------------------------


    def _notice(self, text: str) -> None:
        """Something the user must be told about opening the database. Kept for the caller,
        and logged (``playground.storage``) so a face that opens stores in many places, like
        the window, hears of it in one."""
        self.notices.append(text)
        log.warning("%s", text)
    def __enter__(self) -> Connection:
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
        self._notice(
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
            self._notice(
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
            self._notice(
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

    @property
    def db(self) -> Database:
        """The sqlite-utils database, for this thread only."""
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

    def write(self, doing: str, fn: Callable[[Database], T]) -> T:
        """Run ``fn`` in one write transaction: all of it is committed, or none of it.

        ``BEGIN IMMEDIATE`` takes the write lock up front, where the busy timeout can wait for
        it; a deferred transaction that reads first could be refused the lock later with no
        wait at all.
        """
        db = self.db
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

    def read(self, doing: str, fn: Callable[[Database], T]) -> T:
        """Run ``fn`` in one read transaction so related queries (runs and their scores) see
        the same moment, even while another store is writing."""
        db = self.db
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
