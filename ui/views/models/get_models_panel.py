"""The Models tab's Get models page: find a GGUF model on Hugging Face, see which of its files fits
this machine before downloading anything, download with progress and cancel, and remove what the
app downloaded.

Every rule is the core's (:mod:`playground.engine.hub` for search, file lists, remote headers
and fits / tight / will not fit with the recommended file; :mod:`playground.engine.download` for
the checked download and removal); this page lays them out and runs them as tasks. Headers are
read once per repository; a new context size re-judges them on the spot, since the estimate is
arithmetic on the header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.engine.memory import available_memory, format_bytes
from playground.errors import PlaygroundError
from ui.context import AppContext
from ui.views.models.download_rows import DownloadRow
from ui.views.models.get_models_tasks import RepoRow, downloaded, find_repos, read_files, remove
from ui.widgets.palette import ERROR, ERROR_STYLE, MUTED, WARNING

if TYPE_CHECKING:
    from playground.engine.download import Destination, DownloadRecord
    from playground.engine.gguf import ModelInfo
    from playground.engine.hub import FileAssessment, HubFile

#: The colour of each verdict, and of a file with no estimate.
FIT_COLOURS = {"fits": "#1b7f3b", "tight": WARNING, "will not fit": ERROR, None: MUTED}
DESTINATIONS: tuple[tuple[str, Destination], ...] = (
    ("the app's models folder", "models"), ("the Hugging Face cache", "hf-cache"))
#: Columns of the file table.
FILE, QUANT, SIZE, NEEDS, FIT = range(5)


class GetModelsPanel(QWidget):
    """Search, a repository's files with fit, downloads and removal."""

    #: a model was downloaded or removed: the model list should look again
    models_changed = Signal()
    #: the results list is filled (after a search or the recommended list)
    results_shown = Signal()
    #: a repository's headers are all read (or the reading stopped with a message)
    files_shown = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = context.tasks
        #: Free RAM the verdicts are judged against; replaceable to see "tight" without filling RAM.
        self.available_memory: Callable[[], int] = available_memory
        self.repo_id: str | None = None
        self.files: list[HubFile] = []
        self.headers: dict[str, ModelInfo | str] = {}
        self.assessed: list[FileAssessment] = []
        self.best: FileAssessment | None = None
        self.rows: list[DownloadRow] = []
        self.records: list[DownloadRecord] = []
        self._search_generation = 0
        self._files_generation = 0
        self._started = False
        self._build()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText("Search Hugging Face for GGUF models (empty: the "
                                             "recommended list)")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.returnPressed.connect(self.search)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search)
        top = QHBoxLayout()
        top.addWidget(self.search_field, 1)
        top.addWidget(self.search_button)

        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        self.results.currentItemChanged.connect(self._repo_chosen)
        self.results_label = QLabel()
        self.results_label.setWordWrap(True)
        self.downloaded_list = QListWidget()
        self.downloaded_list.setMaximumHeight(96)
        self.downloaded_list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Delete the chosen file from the disk (only files this app "
                                      "downloaded)")
        self.remove_button.clicked.connect(self.remove_chosen)
        self.remove_label = QLabel()
        self.remove_label.setWordWrap(True)
        remove_row = QHBoxLayout()
        remove_row.addWidget(self.remove_button)
        remove_row.addWidget(self.remove_label, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.results, 1)
        left_layout.addWidget(self.results_label)
        left_layout.addWidget(QLabel("Downloaded by this app:"))
        left_layout.addWidget(self.downloaded_list)
        left_layout.addLayout(remove_row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self._build_files())
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 5)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self._update_buttons()

    def _build_files(self) -> QWidget:
        self.repo_label = QLabel("Choose a model on the left to see its files.")
        self.repo_label.setWordWrap(True)
        self.repo_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ctx_spin = QSpinBox()
        self.ctx_spin.setRange(256, 1 << 20)
        self.ctx_spin.setSingleStep(1024)
        self.ctx_spin.setValue(4096)
        self.ctx_spin.setToolTip("The context the memory estimates are for (capped at the "
                                 "model's trained context)")
        self.ctx_spin.valueChanged.connect(lambda _: self._judge())
        self.destination = QComboBox()
        for text, value in DESTINATIONS:
            self.destination.addItem(text, value)
        self.destination.setToolTip("Where the file goes: the app's own models folder, or the "
                                    "Hugging Face cache other tools also read")
        options = QHBoxLayout()
        options.addWidget(QLabel("Context:"))
        options.addWidget(self.ctx_spin)
        options.addSpacing(12)
        options.addWidget(QLabel("Save to:"))
        options.addWidget(self.destination)
        options.addStretch(1)

        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["File", "Quant", "Size", "Needs", "Fit"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(FILE, QHeaderView.ResizeMode.Stretch)
        for column, width in ((QUANT, 70), (SIZE, 85), (NEEDS, 85), (FIT, 95)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.memory_label = QLabel()
        self.memory_label.setWordWrap(True)

        self.download_button = QPushButton("Download")
        self.download_button.setToolTip("Download the chosen file; its SHA-256 and header are "
                                        "checked before it is offered as a model")
        self.download_button.clicked.connect(self.download_chosen)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        download_row = QHBoxLayout()
        download_row.addWidget(self.download_button)
        download_row.addWidget(self.message_label, 1)

        self.downloads = QWidget()
        self.downloads_layout = QVBoxLayout(self.downloads)
        self.downloads_layout.setContentsMargins(0, 0, 0, 0)
        self.downloads_layout.addStretch(1)
        self.downloads_scroll = QScrollArea()
        self.downloads_scroll.setWidgetResizable(True)
        self.downloads_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.downloads_scroll.setWidget(self.downloads)
        self.downloads_scroll.setMaximumHeight(110)
        self.downloads_scroll.hide()

        right = QWidget()
        layout = QVBoxLayout(right)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.repo_label)
        layout.addLayout(options)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.memory_label)
        layout.addLayout(download_row)
        layout.addWidget(self.downloads_scroll)
        return right

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:  # the hub core is imported only once someone looks here
            self._started = True
            self.search()
            self.list_downloaded()

    # -- searching --------------------------------------------------------------------------

    def search(self) -> None:
        """The hub's search for the words typed, or the recommended list when there are none."""
        self._search_generation += 1
        generation = self._search_generation
        query = self.search_field.text().strip()
        self.results_label.setStyleSheet("")
        self.results_label.setText(f"Searching for {query!r}…" if query else "")

        def shown(rows: list[RepoRow]) -> None:
            if generation != self._search_generation:
                return
            self.results.clear()
            for row in rows:
                item = QListWidgetItem(row.title if row.title == row.repo_id
                                       else f"{row.title}\n{row.repo_id}")
                item.setData(Qt.ItemDataRole.UserRole, row.repo_id)
                item.setToolTip(row.detail)
                self.results.addItem(item)
            if query:
                self.results_label.setText(
                    f"{len(rows)} GGUF repositor{'y' if len(rows) == 1 else 'ies'} match "
                    f"{query!r}" if rows else f"No GGUF repositories match {query!r}")
            else:
                self.results_label.setText("Recommended instruct models; type to search "
                                           "Hugging Face")

        def failed(message: str) -> None:
            if generation == self._search_generation:
                self.results.clear()
                self.results_label.setText(message)
                self.results_label.setStyleSheet(ERROR_STYLE)

        def done() -> None:
            if generation == self._search_generation:
                self.results_shown.emit()

        self.tasks.start(find_repos, query, on_event=shown, on_error=failed, on_done=done)

    # -- a repository's files ---------------------------------------------------------------

    def _repo_chosen(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            return
        repo_id = str(item.data(Qt.ItemDataRole.UserRole))
        self._files_generation += 1
        generation = self._files_generation
        self.repo_id = repo_id
        self.files, self.headers = [], {}
        self.repo_label.setText(f"<b>{repo_id}</b>: listing its files…")
        self._say("")
        self._judge()

        def event(item: tuple[str, Any]) -> None:
            if generation != self._files_generation:
                return
            kind, payload = item
            if kind == "files":
                self.files = payload
                self.repo_label.setText(f"<b>{repo_id}</b>: {len(payload)} GGUF file"
                                        f"{'' if len(payload) == 1 else 's'}; reading headers…")
            else:
                file, info, error = payload
                self.headers[file.filename] = info if info is not None else error
            self._judge()

        def failed(message: str) -> None:
            if generation == self._files_generation:
                self.repo_label.setText(f"<b>{repo_id}</b>")
                self._say(message, error=True)
                for file in self.files:  # the files not read say why in their tooltips
                    self.headers.setdefault(file.filename, message)
                self._judge()

        def done() -> None:
            if generation == self._files_generation:
                if self.files:
                    self.repo_label.setText(f"<b>{repo_id}</b>: {len(self.files)} GGUF file"
                                            f"{'' if len(self.files) == 1 else 's'}")
                self.files_shown.emit()

        self.tasks.start(read_files, repo_id, on_event=event, on_error=failed, on_done=done)

    def _judge(self) -> None:
        """Fit of each file at the chosen context, from the headers read so far."""
        kept = self.chosen_file()
        if self.best is not None and kept == self.best.file:
            kept = None  # the recommendation was chosen for the person: follow the new one
        self.table.setRowCount(0)
        self.assessed, self.best = [], None
        if not self.files:
            self.memory_label.setText("")
            self._update_buttons()
            return
        from playground.engine import hub

        avail = self.available_memory()

        def header(file: HubFile) -> ModelInfo:
            got = self.headers.get(file.filename)
            if got is None:
                raise PlaygroundError("reading its header…")
            if isinstance(got, str):
                raise PlaygroundError(got)
            return got

        self.assessed = hub.assess_files(self.files, self.ctx_spin.value(), available=avail,
                                         read_header=header)
        self.best = hub.recommended(self.assessed)
        for assessment in self.assessed:
            self._add_row(assessment, avail)
        self.memory_label.setText(
            f"Memory available now: {format_bytes(avail)}. Fits: the estimate is at most "
            f"{hub.FIT_SHARE:.0%} of it; tight: up to all of it. "
            + (f"Recommended (★): {self.best.file.filename}, the largest file that fits."
               if self.best else "None of these fits; try a smaller context or model."
               if any(a.estimate for a in self.assessed) else ""))
        files = [a.file for a in self.assessed]
        if kept is not None and kept in files:
            self.table.selectRow(files.index(kept))
        elif self.best is not None:
            self.table.selectRow(self.assessed.index(self.best))
        self._update_buttons()

    def _add_row(self, a: FileAssessment, avail: int) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        star = "★ " if a is self.best else ""
        name = QTableWidgetItem(star + a.file.filename)
        name.setToolTip(f"{a.file.filename}\nSHA-256 {a.file.sha256 or 'not listed'}"
                        + ("\nRecommended: the largest file that fits" if star else ""))
        needs = a.estimate.cpu_bytes if a.estimate is not None else None
        cells = [name, QTableWidgetItem(a.file.quant or "?"),
                 QTableWidgetItem(format_bytes(a.file.size)),
                 QTableWidgetItem(format_bytes(needs) if needs is not None else "?"),
                 QTableWidgetItem(a.fit or ("…" if a.error == "reading its header…" else "?"))]
        reason = self._reason(a, avail)
        cells[FIT].setForeground(QColor(FIT_COLOURS[a.fit]))
        for cell in cells[NEEDS:]:
            cell.setToolTip(reason)
        for column, cell in enumerate(cells):
            self.table.setItem(row, column, cell)

    def _reason(self, a: FileAssessment, avail: int) -> str:
        if a.estimate is None:
            return f"No estimate: {a.error}"
        share = a.estimate.cpu_bytes / avail if avail else float("inf")
        need = (f"Needs about {format_bytes(a.estimate.cpu_bytes)} at a context of "
                f"{a.estimate.n_ctx:,} ({a.estimate.describe()}): {share:.0%} of the "
                f"{format_bytes(avail)} available now")
        if a.fit == "fits":
            return f"{need}; fits means at most 80 %."
        if a.fit == "tight":
            return f"{need}: over 80 %, so other programs may be pushed to swap."
        return f"{need}: more than there is; pick a smaller file or context."

    def chosen_file(self) -> HubFile | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.assessed):
            return None
        return self.assessed[rows[0].row()].file

    # -- downloading ------------------------------------------------------------------------

    def download_chosen(self) -> None:
        file = self.chosen_file()
        if file is None or self._running(file):
            return
        for row in [r for r in self.rows if r.file.ref == file.ref]:  # the previous attempt's row
            self.rows.remove(row)
            row.deleteLater()
        destination: Destination = self.destination.currentData()
        row = DownloadRow(file, destination, self.tasks)
        row.finished.connect(self._downloaded)
        row.ended.connect(self._update_buttons)
        self.rows.append(row)
        self.downloads_layout.insertWidget(self.downloads_layout.count() - 1, row)
        self.downloads_scroll.show()
        self._say("")
        self._update_buttons()

    def _running(self, file: HubFile) -> bool:
        return any(r.running and r.file.ref == file.ref for r in self.rows)

    def _downloaded(self, _path: str) -> None:
        self.list_downloaded()
        self.models_changed.emit()

    # -- what the app downloaded ------------------------------------------------------------

    def list_downloaded(self) -> None:
        def shown(records: list[DownloadRecord]) -> None:
            self.records = records
            self.downloaded_list.clear()
            for record in records:
                item = QListWidgetItem(f"{record.name} ({format_bytes(record.size)})")
                item.setToolTip(f"{record.repo_id}: {record.filename}\n{record.path}")
                self.downloaded_list.addItem(item)
            self._update_buttons()

        self.tasks.start(downloaded, on_event=shown)

    def remove_chosen(self) -> None:
        row = self.downloaded_list.currentRow()
        if not 0 <= row < len(self.records):
            return
        record = self.records[row]
        self.remove_button.setEnabled(False)

        def removed(result: tuple[DownloadRecord, int]) -> None:
            gone, freed = result
            self.remove_label.setStyleSheet("")
            self.remove_label.setText(f"Removed {gone.name}: freed {format_bytes(freed)}"
                                      + ("" if freed else " (the file was already gone)"))
            self.models_changed.emit()

        def failed(message: str) -> None:
            self.remove_label.setText(message)
            self.remove_label.setStyleSheet(ERROR_STYLE)

        self.tasks.start(remove, record.path, on_event=removed, on_error=failed,
                         on_done=self.list_downloaded)

    # -- state ------------------------------------------------------------------------------

    def _say(self, message: str, *, error: bool = False) -> None:
        self.message_label.setText(message)
        self.message_label.setStyleSheet(ERROR_STYLE if error else "")

    def _update_buttons(self) -> None:
        file = self.chosen_file()
        self.download_button.setEnabled(file is not None and not self._running(file))
        self.remove_button.setEnabled(self.downloaded_list.currentRow() >= 0)
