"""Table models behind the History and Models tabs.

They hold plain rows built off the GUI thread (from :class:`~playground.storage.store.Store`
reads and GGUF headers) and only format them, so painting a table never touches the database or
a file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from playground.engine.endpoints import Endpoint
from playground.engine.gguf import ModelInfo
from playground.engine.memory import format_bytes
from playground.prompts.chat_formats import chat_mode_label
from playground.runs.browsing import HistoryItem, RunDetail, format_scores, model_label
from playground.storage.store import RatingRow
from playground.wording import human_time

Index = QModelIndex | QPersistentModelIndex

#: Thumbs in plain geometric characters: colour emoji are missing from many Linux desktops.
THUMBS_UP = "▲ good"
THUMBS_DOWN = "▼ bad"
#: Characters of an output shown in a table cell (the full text is in the tooltip).
PREVIEW_CHARS = 80

# -- shared formatting ------------------------------------------------------------------------


def preview(text: str | None, limit: int = PREVIEW_CHARS) -> str:
    """One line of a long text: tables stay one row high, whatever the model wrote."""
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_rating(rating: RatingRow | None) -> str:
    """Thumbs, stars and a note marker, so a rated run stands out in a long table."""
    if rating is None:
        return ""
    parts: list[str] = []
    if rating.thumbs == 1:
        parts.append(THUMBS_UP)
    elif rating.thumbs == -1:
        parts.append(THUMBS_DOWN)
    if rating.stars:
        parts.append("★" * rating.stars + "☆" * (5 - rating.stars))
    if rating.note:
        parts.append(f"“{preview(rating.note, 30)}”")
    return " ".join(parts)


def created_label(created_at: str) -> str:
    """Stored times are UTC ISO strings; the table shows them as people say them ("today
    14:02"), the ISO time in the tooltip."""
    return human_time(created_at)


class _HeaderedTable(QAbstractTableModel):
    """A flat table under fixed column headers, the shape of every table here."""

    HEADERS: tuple[str, ...] = ()

    def _count(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None


class HistoryTableModel(_HeaderedTable):
    """The comparisons (or search matches) of the history, newest first."""

    HEADERS = ("No.", "Name", "Created", "Status", "Size", "Model", "Score", "Rating", "Output")
    NUMBER, NAME, CREATED, STATUS, SIZE, MODEL, SCORE, RATING, OUTPUT = range(9)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._items: list[HistoryItem] = []

    # -- content --------------------------------------------------------------------------

    @property
    def items(self) -> list[HistoryItem]:
        return list(self._items)

    def item(self, row: int) -> HistoryItem:
        return self._items[row]

    def set_items(self, items: Sequence[HistoryItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def row_of_comparison(self, comparison_id: int) -> int | None:
        return next(
            (n for n, i in enumerate(self._items) if i.comparison.id == comparison_id), None
        )

    def update_rating(self, run_id: int, rating: RatingRow | None) -> None:
        """A new rating shows at once in every row that carries the run."""
        for n, item in enumerate(self._items):
            if item.run is not None and item.run.id == run_id:
                run = dataclasses.replace(item.run, rating=rating)
                self._items[n] = dataclasses.replace(item, run=run)
                cell = self.index(n, self.RATING)
                self.dataChanged.emit(cell, cell)

    # -- Qt -------------------------------------------------------------------------------

    def _count(self) -> int:
        return len(self._items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(item, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, index.column())
        if role == Qt.ItemDataRole.UserRole:
            return item.comparison.id
        return None

    def _text(self, item: HistoryItem, column: int) -> str | None:
        c, run = item.comparison, item.run
        if column == self.NUMBER:
            return c.label
        if column == self.NAME:
            if item.is_match and item.match_variant:
                return f"{c.name} · {item.match_variant}"
            return c.name
        if column == self.CREATED:
            return created_label(run.created_at if item.is_match and run else c.created_at)
        if column == self.STATUS:
            if item.is_match and run is not None:
                return run.status
            if c.status == "done" or c.run_count >= c.expected_runs:
                return c.status
            return f"{c.status} ({c.run_count}/{c.expected_runs})"
        if column == self.SIZE:
            return f"{c.variant_count} × {c.input_count} × {c.samples}"
        if column == self.MODEL:
            return ", ".join(model_label(m) for m in item.models)
        if column == self.SCORE:
            return format_scores(run, 1) if item.is_match and run is not None else item.best
        if column == self.RATING:
            return format_rating(run.rating) if run is not None else ""
        if column == self.OUTPUT:
            return preview(run.output) if run is not None else ""
        return None

    def _tooltip(self, item: HistoryItem, column: int) -> str | None:
        if column == self.OUTPUT and item.run is not None:
            return item.run.output or item.run.error or None
        if column == self.MODEL:
            return "\n".join(m or f"the default model, {model_label(m)}"
                             for m in item.models) or None
        if column == self.CREATED:
            run = item.run
            return run.created_at if item.is_match and run else item.comparison.created_at
        if column == self.NUMBER and item.is_match:
            return f"a run in comparison {item.comparison.label}"
        if column == self.RATING and item.run is not None and item.run.rating is not None:
            return item.run.rating.note or None
        if column == self.STATUS and item.run is not None and item.run.error:
            return item.run.error
        return None


class RunTableModel(_HeaderedTable):
    """The runs of the selected comparison."""

    HEADERS = ("Variant", "Input", "Sample", "Status", "Output", "Scores", "Rating")
    VARIANT, INPUT, SAMPLE, STATUS, OUTPUT, SCORES, RATING = range(7)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[RunDetail] = []

    @property
    def rows(self) -> list[RunDetail]:
        return list(self._rows)

    def detail(self, row: int) -> RunDetail:
        return self._rows[row]

    def set_rows(self, rows: Sequence[RunDetail]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_of_run(self, run_id: int) -> int | None:
        return next((n for n, d in enumerate(self._rows) if d.run.id == run_id), None)

    def update_rating(self, run_id: int, rating: RatingRow | None) -> None:
        row = self.row_of_run(run_id)
        if row is None:
            return
        detail = self._rows[row]
        self._rows[row] = dataclasses.replace(
            detail, run=dataclasses.replace(detail.run, rating=rating)
        )
        cell = self.index(row, self.RATING)
        self.dataChanged.emit(cell, cell)

    def _count(self) -> int:
        return len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        detail = self._rows[index.row()]
        run, column = detail.run, index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            texts = {
                self.VARIANT: detail.variant,
                self.INPUT: detail.input,
                self.SAMPLE: str(run.sample + 1),  # counted from 1, as people count
                self.STATUS: run.status,
                self.OUTPUT: preview(run.output),
                self.SCORES: format_scores(run),
                self.RATING: format_rating(run.rating),
            }
            return texts.get(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.OUTPUT:
                return run.output or run.error or None
            if column == self.STATUS:
                return run.error
            if column == self.RATING and run.rating is not None:
                return run.rating.note
            return None
        if role == Qt.ItemDataRole.UserRole:
            return run.id
        return None


# -- models -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelEntry:
    """One model the window can use: a local GGUF (``key`` is its path) or a saved endpoint
    (``key`` is ``remote:NAME``). ``error`` is the header check's message for a file that
    cannot be used; ``missing`` marks an added file that is no longer there."""

    key: str
    name: str
    source: str
    path: str | None = None
    info: ModelInfo | None = None
    error: str | None = None
    missing: bool = False
    endpoint: Endpoint | None = None

    @property
    def remote(self) -> bool:
        return self.endpoint is not None or self.key.startswith("remote:")

    @property
    def usable(self) -> bool:
        return self.error is None and not self.missing

    def summary(self) -> str:
        if self.missing:
            return "missing: the file is no longer there"
        if self.error:
            return self.error
        if self.endpoint is not None:
            return f"{self.endpoint.model} at {self.endpoint.base_url}"
        info = self.info
        if info is None:
            return "reading…"
        parts = [info.architecture or "unknown architecture", info.size_label]
        if info.file_type:
            parts.append(info.file_type)
        parts.append(format_bytes(info.file_size))
        return " · ".join(parts)


class ModelTableModel(_HeaderedTable):
    """Every model on offer, with its state in the window and a mark on the current one."""

    HEADERS = ("In use", "Name", "State", "Source", "Details")
    CURRENT, NAME, STATE, SOURCE, DETAILS = range(5)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._entries: list[ModelEntry] = []
        self._states: dict[str, str] = {}
        self._current = ""
        self._chat_formats: dict[str, str | None] = {}

    @property
    def entries(self) -> list[ModelEntry]:
        return list(self._entries)

    def entry(self, row: int) -> ModelEntry:
        return self._entries[row]

    def row_of(self, key: str) -> int | None:
        return next((n for n, e in enumerate(self._entries) if e.key == key), None)

    def set_entries(self, entries: Sequence[ModelEntry]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()

    def put(self, entry: ModelEntry) -> int:
        """Replace the entry with the same key, or append it; returns its row."""
        row = self.row_of(entry.key)
        if row is None:
            row = len(self._entries)
            self.beginInsertRows(QModelIndex(), row, row)
            self._entries.append(entry)
            self.endInsertRows()
        else:
            self._entries[row] = entry
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))
        return row

    def remove(self, key: str) -> None:
        row = self.row_of(key)
        if row is not None:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._entries[row]
            self.endRemoveRows()

    def state_text(self, key: str) -> str:
        return self._states.get(key, "unloaded")

    def set_state_text(self, key: str, text: str) -> None:
        self._states[key] = text
        row = self.row_of(key)
        if row is not None:
            cell = self.index(row, self.STATE)
            self.dataChanged.emit(cell, cell)

    def set_chat_format(self, key: str, chat_format: str | None) -> None:
        """The built-in chat format chosen for a model (None: its own template)."""
        self._chat_formats[key] = chat_format
        row = self.row_of(key)
        if row is not None:
            cell = self.index(row, self.DETAILS)
            self.dataChanged.emit(cell, cell)

    def details_text(self, entry: ModelEntry) -> str:
        """The entry's summary after how it chats when that is not its own template (first, so
        a narrow column still shows it): a base model with no format chosen reads "raw
        completion"."""
        text = entry.summary()
        if entry.info is not None and entry.usable and not entry.remote:
            label = chat_mode_label(entry.info.chat_template is not None,
                                    self._chat_formats.get(entry.key))
            if label:
                text = f"{label} · {text}"
        return text

    @property
    def current(self) -> str:
        return self._current

    def set_current(self, key: str) -> None:
        self._current = key
        if self._entries:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._entries) - 1,
                                                                len(self.HEADERS) - 1))

    def _count(self) -> int:
        return len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        column = index.column()
        current = entry.key == self._current
        if role == Qt.ItemDataRole.DisplayRole:
            texts = {
                self.CURRENT: "●" if current else "",
                self.NAME: entry.name,
                self.SOURCE: entry.source,
                self.DETAILS: preview(self.details_text(entry), 120),
                self.STATE: "missing" if entry.missing else (
                    "unusable" if entry.error else self.state_text(entry.key)
                ),
            }
            return texts.get(column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.CURRENT and current:
                return "new Playground runs use this model"
            if column in (self.NAME, self.DETAILS):
                return entry.path or entry.key
            if column == self.STATE:
                return entry.error or self.state_text(entry.key)
            return None
        if role == Qt.ItemDataRole.FontRole and current:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.UserRole:
            return entry.key
        return None
