"""What every view shares: the models, the task runner, the settings, the database path, the
prompt libraries, and the signals one view uses to hand work to another."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from playground.prompts.collection import Collection, load_collection
from playground.storage.store import default_db_path
from ui.services.hub import LocalOpener, ModelHub, open_local
from ui.services.tasks import TaskRunner


class AppContext(QObject):
    #: a library was imported, edited or removed: pickers reload
    library_changed = Signal()
    #: runs or comparisons were saved or deleted: History reloads
    history_changed = Signal()
    #: a run id to open in the Playground
    open_run = Signal(int)
    #: a comparison id to open in Compare
    open_comparison = Signal(int)
    #: a short message for the status bar
    status = Signal(str)
    #: a readable error for the window to show (title, message)
    error = Signal(str, str)

    def __init__(
        self,
        settings: QSettings,
        *,
        db_path: Path | None = None,
        libraries_dir: Path | None = None,
        opener: LocalOpener = open_local,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.db_path = db_path or default_db_path()
        self.libraries_dir = libraries_dir
        self.tasks = TaskRunner(self)
        self.hub = ModelHub(self.tasks, self, opener=opener)
        self._collection: Collection | None = None
        self._fresh: Collection | None = None
        self.library_changed.connect(self._take_fresh_collection)

    def _take_fresh_collection(self) -> None:
        # Reading the libraries takes longer than a frame; a view that has just read them in a
        # task hands them over here, so no other view reads them again on the GUI thread.
        self._collection, self._fresh = self._fresh, None

    def update_collection(self, collection: Collection) -> None:
        """Announce changed libraries, already read off the GUI thread."""
        self._fresh = collection
        self.library_changed.emit()

    def collection(self) -> Collection:
        """The built-in and installed libraries (read once, again after a change)."""
        if self._collection is None:
            self._collection = load_collection(self.libraries_dir)
        return self._collection

    def close(self) -> None:
        """On quit: runs in flight end at their next token rather than at max tokens."""
        self.hub.cancel_all()
        self.tasks.close()
        self.hub.close()
