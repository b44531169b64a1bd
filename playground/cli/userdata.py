"""The user's database and prompt libraries, opened for a command with what opening them found
said on stderr."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # each imported when a command opens it: sqlite-utils brings numpy with it
    from playground.prompts.collection import Collection
    from playground.storage.store import Store


def open_store(path: str | None, err: TextIO) -> Store:
    """The database, with what opening it did said on stderr (an upgrade and where its backup
    is, a damaged file set aside): a change to the user's data is never silent."""
    from playground.storage.store import Store

    store = Store(path)
    for notice in store.notices:
        err.write(f"playground: {notice}\n")
    return store


def open_collection(err: TextIO) -> Collection:
    from playground.prompts.collection import load_collection

    collection = load_collection()
    for problem in collection.problems:
        err.write(f"warning: skipped an installed library: {problem}\n")
    return collection
