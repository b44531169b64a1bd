"""The collection the Library tab shows, and the one change at a time it writes.

Disk work (saving, reading the collection back, importing, exporting) runs as a background task:
the collection alone takes longer to read than a frame lasts. Each change ends by reading the
collection back, so what the tab shows is what the next start of the app will load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from playground.prompts.collection import (
    BUILTIN,
    ENTRY_KINDS,
    Collection,
    Entry,
    EntryKind,
    find_entry,
    library_path,
    load_collection,
    save_library,
    target_library,
)
from playground.prompts.library import Library
from ui.context import AppContext
from ui.views.library.browser import Key


def _change_job(work: Callable[[], object], folder: Path | None) -> Iterator[Collection]:
    """Apply one change on disk, then read the collection back for the tree."""
    work()
    yield load_collection(folder)


def _load_job(folder: Path | None) -> Iterator[Collection]:
    yield load_collection(folder)


class LibraryChanges(QObject):
    #: a task started or ended (actions are enabled only while idle)
    busy_changed = Signal()
    #: the collection was read back: (collection, the key to select or None to keep)
    read_back = Signal(object, object)
    #: the tab shows a freshly read collection
    refreshed = Signal()
    #: an action was refused or failed
    failed = Signal(str)
    #: an action ended well
    informed = Signal(str)

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.collection = context.collection()
        #: the user library last selected: where copies and new items go by default
        self.last_user_library = str(context.settings.value("library/last_user_library", ""))
        self._busy = 0
        self._reload_pending = False
        self._emitting = False
        context.library_changed.connect(self._changed_elsewhere)

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def folder(self) -> Path:
        """Where user libraries are installed."""
        return self.context.libraries_dir or library_path("x").parent

    def library(self, name: str) -> Library | None:
        return next((lib for lib in self.collection.libraries if lib.name == name), None)

    def entry(self, key: Key) -> tuple[Library, EntryKind, Entry] | None:
        library = self.library(key[0])
        if library is None or key[1] not in ENTRY_KINDS:
            return None
        kind: EntryKind = key[1]
        entry = find_entry(library, kind, key[2])
        return (library, kind, entry) if entry is not None else None

    def target(self, selected: Key | None) -> Library:
        """Where a copy or a new item goes (see ``target_library``)."""
        return target_library(self.collection, selected[0] if selected else "",
                              self.last_user_library)

    def start(self, func: Callable[..., Iterator[Any]], *args: Any,
              on_event: Callable[[Any], None], on_error: Callable[[str], None]) -> None:
        """Run a one-result job; the tab is idle again before the result is handled, so
        that whatever the result starts (a save after an import) can run at once."""
        self._busy += 1
        self.busy_changed.emit()
        ended = False

        def end() -> None:
            nonlocal ended
            if not ended:
                ended = True
                self._busy -= 1
                self.busy_changed.emit()

        def result(value: Any) -> None:
            end()
            on_event(value)

        def error(message: str) -> None:
            end()
            on_error(message)

        def done() -> None:
            end()
            if self._reload_pending and self._busy == 0:
                self._reload_pending = False
                self._reload()

        self.context.tasks.start(func, *args, on_event=result, on_error=error, on_done=done)

    def run_change(
        self, work: Callable[[], object], select: Key, done: str, *,
        then: Callable[[], None] | None = None, on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Write one change in a task, then show and announce the collection read back (and
        run ``then``); a failure is announced by ``on_error``, else as ``failed``."""

        def applied(collection: Collection) -> None:
            self._applied(collection, select, done)
            if then is not None:
                then()

        self.start(_change_job, work, self.context.libraries_dir, on_event=applied,
                   on_error=on_error or self.failed.emit)

    def save(
        self, library: Library, select: Key, done: str, *,
        then: Callable[[], None] | None = None, on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Save an edited or imported library over its file, checked by the core first."""
        folder = self.context.libraries_dir
        self.run_change(lambda: save_library(library, folder), select, done, then=then,
                        on_error=on_error)

    def _applied(self, collection: Collection, select: Key, done: str) -> None:
        if select[0] != BUILTIN:
            self.last_user_library = select[0]
        self.collection = collection
        self.read_back.emit(collection, select)
        self.informed.emit(done)
        self._emitting = True
        try:
            self.context.update_collection(collection)
        finally:
            self._emitting = False
        self.refreshed.emit()

    def _changed_elsewhere(self) -> None:
        if self._emitting:
            return
        if self._busy:
            self._reload_pending = True
        else:
            self._reload()

    def _reload(self) -> None:
        self.start(_load_job, self.context.libraries_dir, on_event=self._reloaded,
                   on_error=self.failed.emit)

    def _reloaded(self, collection: Collection) -> None:
        self.collection = collection
        self.read_back.emit(collection, None)
        self.refreshed.emit()
