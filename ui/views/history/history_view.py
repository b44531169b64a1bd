"""The History tab: every saved Playground run and comparison, searchable, rateable, exportable.

All reads and writes go through :class:`~playground.storage.store.Store` inside background
tasks (one store per task, opened and closed on the task's thread); the widgets only show rows that
arrive. Each load carries a generation number, so a slow search overtaken by newer typing is
dropped instead of overwriting the newer result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QModelIndex,
    QSettings,
    QSignalBlocker,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.evaluation.report import EXPORT_FORMATS, ExportFormat, export
from playground.events import count_text
from playground.runs.history import stored_report
from playground.storage.store import (
    COMPARISON_STATUSES,
    ComparisonRow,
    RatingRow,
    RunRow,
    StorageError,
    Store,
)
from ui.context import AppContext
from ui.widgets.item_models import (
    THUMBS_DOWN,
    THUMBS_UP,
    HistoryItem,
    HistoryTableModel,
    RunDetail,
    RunTableModel,
    best_summary,
    format_scores,
    is_single_run,
    model_label,
    spec_models,
    spec_templates,
)
from ui.widgets.replay_dialog import ReplayDialog

#: Rows fetched per page of the history ("Load more" fetches the next page).
PAGE_SIZE = 50
#: Comparisons with at most this many runs get a best-score hint; larger ones would cost a
#: full read of their outputs for one table cell.
CHEAP_RUNS = 200
#: Typing pause before a search starts.
DEBOUNCE_MS = 250

Kind = Literal["all", "run", "comparison"]


# -- background reads and writes --------------------------------------------------------------


@dataclass(frozen=True)
class HistoryQuery:
    """What the table shows: ``text`` searches prompts and outputs; the rest filter."""

    text: str = ""
    kind: Kind = "all"
    status: str = ""
    contains: str = ""
    want: int = PAGE_SIZE


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    more: bool


def _wanted(row: ComparisonRow, query: HistoryQuery) -> bool:
    """The filters that need no run data, checked before anything costly is read."""
    single = is_single_run(row)
    if query.kind == "run" and not single:
        return False
    if query.kind == "comparison" and single:
        return False
    if query.status and row.status != query.status:
        return False
    needle = query.contains.strip().lower()
    if needle:
        models = spec_models(row)
        haystack = [row.name, *models, *(model_label(m) for m in models), *spec_templates(row)]
        if not any(needle in text.lower() for text in haystack):
            return False
    return True


def _comparison_item(store: Store, row: ComparisonRow) -> HistoryItem:
    single = is_single_run(row)
    run: RunRow | None = None
    best = ""
    if single or row.run_count <= CHEAP_RUNS:
        runs = store.runs(row.id)
        names = {} if single else {v.id: v.name for v in store.variants(row.id)}
        best = best_summary(runs, names)
        if single and runs:
            run = runs[-1]
    return HistoryItem(row, single, spec_models(row), spec_templates(row), best, run)


def _browse(store: Store, query: HistoryQuery) -> HistoryPage:
    """Newest first, page by page, until enough rows pass the filters."""
    items: list[HistoryItem] = []
    offset = 0
    chunk = max(query.want, PAGE_SIZE)
    while len(items) <= query.want:
        rows = store.history(chunk, offset)
        offset += len(rows)
        items.extend(_comparison_item(store, r) for r in rows if _wanted(r, query))
        if len(rows) < chunk:
            break
    return HistoryPage(items[: query.want], len(items) > query.want)


def _search(store: Store, query: HistoryQuery) -> HistoryPage:
    """Runs whose prompt or output hold every word, newest first, under the filters. The
    search has no offset, so a page further asks for a larger limit."""
    comparisons: dict[int, ComparisonRow | None] = {}
    variant_names: dict[int, dict[int, str]] = {}
    limit = max(query.want * 2, PAGE_SIZE)
    while True:
        runs = store.search(query.text, limit)
        items: list[HistoryItem] = []
        for run in runs:
            cid = run.comparison_id
            if cid is None:
                continue
            if cid not in comparisons:
                try:
                    comparisons[cid] = store.comparison(cid)
                except StorageError:  # deleted since the search read it
                    comparisons[cid] = None
            row = comparisons[cid]
            if row is None or not _wanted(row, query):
                continue
            single = is_single_run(row)
            variant = ""
            if not single:
                if cid not in variant_names:
                    variant_names[cid] = {v.id: v.name for v in store.variants(cid)}
                variant = variant_names[cid].get(run.variant_id or -1, "")
            items.append(HistoryItem(row, single, spec_models(row), spec_templates(row),
                                     format_scores(run, 1), run, variant))
            if len(items) > query.want:
                break
        if len(items) > query.want or len(runs) < limit:
            return HistoryPage(items[: query.want], len(items) > query.want)
        limit *= 4


def load_history(db_path: Path, query: HistoryQuery) -> Iterator[HistoryPage]:
    with Store(db_path) as store:
        yield _search(store, query) if query.text.split() else _browse(store, query)


def load_details(db_path: Path, comparison_id: int) -> Iterator[tuple[int, list[RunDetail]]]:
    with Store(db_path) as store:
        variants = {v.id: v.name for v in store.variants(comparison_id)}
        inputs = {i.id: i.input_key for i in store.inputs(comparison_id)}
        runs = store.runs(comparison_id)
    yield comparison_id, [
        RunDetail(r, variants.get(r.variant_id or -1, ""), inputs.get(r.input_id or -1, ""))
        for r in runs
    ]


def rate_run(
    db_path: Path,
    run_id: int,
    *,
    thumbs: int | None = None,
    stars: int | None = None,
    note: str | None = None,
    clear: bool = False,
) -> Iterator[tuple[int, RatingRow | None]]:
    with Store(db_path) as store:
        if clear:
            store.clear_rating(run_id)
            yield run_id, None
        else:
            yield run_id, store.rate(run_id, thumbs=thumbs, stars=stars, note=note)


def delete_comparisons(db_path: Path, ids: list[int]) -> Iterator[list[int]]:
    with Store(db_path) as store:
        yield [cid for cid in ids if store.delete_comparison(cid)]


def export_paths(path: Path, fmt: ExportFormat, ids: list[int]) -> dict[int, Path]:
    """One report per comparison: statistics never mix comparisons. One selected comparison is
    written to ``path`` itself; several go next to it as ``<stem>-<id>.<fmt>``."""
    if not path.suffix:
        path = path.with_suffix(f".{fmt}")
    if len(ids) == 1:
        return {ids[0]: path}
    return {cid: path.with_name(f"{path.stem}-{cid}{path.suffix}") for cid in ids}


def export_comparisons(
    db_path: Path, targets: dict[int, Path], fmt: ExportFormat
) -> Iterator[list[str]]:
    written: list[str] = []
    with Store(db_path) as store:
        for cid, target in targets.items():
            text = export(stored_report(store, cid), fmt)
            target.write_text(text, encoding="utf-8")
            written.append(str(target))
    yield written


# -- the view ---------------------------------------------------------------------------------


class HistoryView(QWidget):
    """Browse, search, open, rate, delete and export what was run before."""

    #: the history table was filled from a finished load
    history_loaded = Signal()
    #: the runs of the selected comparison arrived (comparison id)
    details_loaded = Signal(int)
    #: a rating was saved or cleared (run id)
    rating_saved = Signal(int)
    #: comparisons were deleted (their ids)
    deleted = Signal(list)
    #: report files were written (their paths)
    exported = Signal(list)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        #: Asked before deleting; returns whether to go ahead. Replaceable (scripts, tests).
        self.confirm: Callable[[str], bool] = self._ask
        self.page_size = PAGE_SIZE
        self._pages = 1
        self._generation = 0
        self._detail_generation = 0
        self._detail_comparison: int | None = None
        self._select_after_load: tuple[int, int | None] | None = None
        self._select_run_after_details: int | None = None
        self.loading = False
        self.more_available = False

        self.model = HistoryTableModel(self)
        self.runs_model = RunTableModel(self)
        self._build()
        self._restore(context.settings)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reload)
        # A comparison saves run after run: a burst of changes is read once, after it.
        context.history_changed.connect(self._debounce.start)
        self.reload()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search prompts and outputs…")
        self.search_edit.setClearButtonEnabled(True)
        self.kind_combo = QComboBox()
        for label, kind in (("Runs and comparisons", "all"), ("Runs", "run"),
                            ("Comparisons", "comparison")):
            self.kind_combo.addItem(label, kind)
        self.status_combo = QComboBox()
        self.status_combo.addItem("Any status", "")
        for status in COMPARISON_STATUSES:
            self.status_combo.addItem(status.capitalize(), status)
        self.contains_edit = QLineEdit()
        self.contains_edit.setPlaceholderText("Model or template contains…")
        self.contains_edit.setClearButtonEnabled(True)
        for edit in (self.search_edit, self.contains_edit):
            edit.textChanged.connect(self._schedule)
        for combo in (self.kind_combo, self.status_combo):
            combo.currentIndexChanged.connect(self._schedule)

        filters = QHBoxLayout()
        filters.addWidget(self.search_edit, 3)
        filters.addWidget(self.kind_combo)
        filters.addWidget(self.status_combo)
        filters.addWidget(self.contains_edit, 2)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

        self.table = self._table(self.model, (100, 230, 120, 80, 75, 170, 150, 110))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.doubleClicked.connect(lambda _: self.open_selected())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        self.count_label = QLabel()
        self.more_button = QPushButton("Load more")
        self.more_button.clicked.connect(self.load_more)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("A run opens in the Playground, a comparison in Compare")
        self.open_button.clicked.connect(self.open_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "Write a report of each selected comparison (CSV, JSONL, Markdown or HTML)"
        )
        self.export_button.clicked.connect(self.export_dialog)
        actions = QHBoxLayout()
        actions.addWidget(self.count_label)
        actions.addWidget(self.more_button)
        actions.addStretch(1)
        for button in (self.open_button, self.export_button, self.delete_button):
            actions.addWidget(button)

        open_action = QAction("Open", self.table)
        open_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        open_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        open_action.triggered.connect(self.open_selected)
        delete_action = QAction("Delete", self.table)
        delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete_action.triggered.connect(self.delete_selected)
        self.table.addActions([open_action, delete_action])

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table)
        top_layout.addLayout(actions)

        self.runs_table = self._table(self.runs_model, (140, 110, 60, 80, 380, 230))
        self.runs_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs_table.selectionModel().currentRowChanged.connect(self._run_changed)
        self.runs_table.doubleClicked.connect(self._open_run_at)
        self.runs_table.setToolTip("Double-click a run to open it in the Playground")

        self.run_label = QLabel()
        self.run_label.setWordWrap(True)
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output_text = QPlainTextEdit()
        self.output_text.setReadOnly(True)
        self.prompt_text = QPlainTextEdit()
        self.prompt_text.setReadOnly(True)
        self.text_tabs = QTabWidget()
        self.text_tabs.addTab(self.output_text, "Output")
        self.text_tabs.addTab(self.prompt_text, "Prompt")

        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.runs_table, 2)
        bottom_layout.addLayout(self._rating_bar())
        bottom_layout.addWidget(self.run_label)
        bottom_layout.addWidget(self.text_tabs, 3)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.error_label)
        layout.addWidget(self.splitter, 1)
        self._update_buttons()
        self._show_run(None)

    def _table(
        self, model: HistoryTableModel | RunTableModel, widths: tuple[int, ...]
    ) -> QTableView:
        table = QTableView()
        table.setModel(model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate(widths):
            table.setColumnWidth(column, width)
        return table

    def _rating_bar(self) -> QHBoxLayout:
        self.thumbs_up = QToolButton()
        self.thumbs_up.setText(THUMBS_UP)
        self.thumbs_up.setToolTip("Good output")
        self.thumbs_up.setCheckable(True)
        self.thumbs_up.clicked.connect(lambda: self.rate_selected(thumbs=1))
        self.thumbs_down = QToolButton()
        self.thumbs_down.setText(THUMBS_DOWN)
        self.thumbs_down.setToolTip("Bad output")
        self.thumbs_down.setCheckable(True)
        self.thumbs_down.clicked.connect(lambda: self.rate_selected(thumbs=-1))
        self.star_buttons: list[QToolButton] = []
        for n in range(1, 6):
            star = QToolButton()
            star.setText("☆")
            star.setToolTip(f"{n} star{'s' if n > 1 else ''}")
            star.setAutoRaise(True)
            star.clicked.connect(lambda _=False, n=n: self.rate_selected(stars=n))
            self.star_buttons.append(star)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Note about this output…")
        self.note_edit.returnPressed.connect(self.save_note)
        self.note_button = QPushButton("Save note")
        self.note_button.clicked.connect(self.save_note)
        self.clear_rating_button = QPushButton("Clear rating")
        self.clear_rating_button.clicked.connect(lambda: self.rate_selected(clear=True))
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Rate:"))
        bar.addWidget(self.thumbs_up)
        bar.addWidget(self.thumbs_down)
        for star in self.star_buttons:
            bar.addWidget(star)
        bar.addWidget(self.note_edit, 1)
        bar.addWidget(self.note_button)
        bar.addWidget(self.clear_rating_button)
        self.replay_button = QPushButton("Replay…")
        self.replay_button.setToolTip(
            "Run this again with its recorded prompt, settings, seed and model, and see "
            "whether it repeats and which recorded settings differ now")
        self.replay_button.clicked.connect(self.replay_selected)
        bar.addWidget(self.replay_button)
        return bar

    # -- settings ---------------------------------------------------------------------------

    def _restore(self, settings: QSettings) -> None:
        state = settings.value("history/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        for key, table in (("history/columns", self.table), ("history/run_columns",
                                                              self.runs_table)):
            columns = settings.value(key)
            if isinstance(columns, QByteArray):
                table.horizontalHeader().restoreState(columns)
        kind = self.kind_combo.findData(settings.value("history/kind", "all"))
        if kind >= 0:
            # Quietly: the first load, right after, reads the restored filter (a change signal
            # here would reach the debounce timer before it exists).
            with QSignalBlocker(self.kind_combo):
                self.kind_combo.setCurrentIndex(kind)

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("history/splitter", self.splitter.saveState())
        settings.setValue("history/columns", self.table.horizontalHeader().saveState())
        settings.setValue("history/run_columns", self.runs_table.horizontalHeader().saveState())
        settings.setValue("history/kind", self.kind_combo.currentData())

    # -- errors -----------------------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    # -- loading the table ------------------------------------------------------------------

    def query(self) -> HistoryQuery:
        kind = self.kind_combo.currentData()
        return HistoryQuery(
            text=self.search_edit.text().strip(),
            kind=kind if kind in ("all", "run", "comparison") else "all",
            status=str(self.status_combo.currentData() or ""),
            contains=self.contains_edit.text().strip(),
            want=self.page_size * self._pages,
        )

    def _schedule(self) -> None:
        """A filter changed: start over at the first page once typing pauses."""
        self._pages = 1
        self._debounce.start()

    def load_more(self) -> None:
        self._pages += 1
        self.reload()

    def reload(self) -> None:
        """Read the history again with the current filters (superseding any load running)."""
        self._debounce.stop()
        self._generation += 1
        generation = self._generation
        self.loading = True
        self.more_button.setEnabled(False)
        current = self.current_item()
        if current is not None and self._select_after_load is None:
            self._select_after_load = (
                current.comparison.id, current.run.id if current.run is not None else None
            )

        def event(page: HistoryPage) -> None:
            if generation == self._generation:
                self._apply(page)

        def error(message: str) -> None:
            if generation == self._generation:
                self.loading = False
                self._show_error(f"Could not read the history: {message}")

        self.context.tasks.start(load_history, self.context.db_path, self.query(),
                                 on_event=event, on_error=error)

    def _apply(self, page: HistoryPage) -> None:
        self._clear_error()
        wanted = self._select_after_load
        self._select_after_load = None
        self.model.set_items(page.items)
        self.more_available = page.more
        self.more_button.setVisible(page.more)
        self.more_button.setEnabled(page.more)
        searching = bool(self.search_edit.text().strip())
        noun = "matching runs" if searching else "items"
        self.count_label.setText(
            f"{len(page.items)} {noun}" + (" (more available)" if page.more else "")
        )
        if wanted is not None:
            self._reselect(*wanted)
        if self.current_item() is None:
            self._clear_details()
        self._update_buttons()
        self.loading = False
        self.history_loaded.emit()

    def _reselect(self, comparison_id: int, run_id: int | None) -> None:
        rows = [
            n for n, item in enumerate(self.model.items)
            if item.comparison.id == comparison_id
            and (run_id is None or item.run is None or item.run.id == run_id)
        ]
        if rows:
            self.select_row(rows[0])

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )

    # -- selection --------------------------------------------------------------------------

    def current_item(self) -> HistoryItem | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.item(index.row())

    def selected_items(self) -> list[HistoryItem]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        items = [self.model.item(r) for r in rows if r < self.model.rowCount()]
        if not items:
            current = self.current_item()
            items = [current] if current is not None else []
        return items

    def selected_comparison_ids(self) -> list[int]:
        return list(dict.fromkeys(item.comparison.id for item in self.selected_items()))

    def _update_buttons(self) -> None:
        has = bool(self.selected_items())
        for button in (self.open_button, self.delete_button, self.export_button):
            button.setEnabled(has)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_buttons()
        if not current.isValid():
            self._clear_details()
            return
        item = self.model.item(current.row())
        self._load_details(item.comparison.id, item.run.id if item.run is not None else None)

    def _clear_details(self) -> None:
        self._detail_generation += 1
        self._detail_comparison = None
        self.runs_model.set_rows([])
        self._show_run(None)

    def _load_details(self, comparison_id: int, select_run: int | None) -> None:
        self._detail_generation += 1
        generation = self._detail_generation
        self._select_run_after_details = select_run

        def event(result: tuple[int, list[RunDetail]]) -> None:
            if generation != self._detail_generation:
                return
            cid, rows = result
            self._detail_comparison = cid
            self.runs_model.set_rows(rows)
            wanted = self._select_run_after_details
            row = self.runs_model.row_of_run(wanted) if wanted is not None else None
            if row is None and rows:
                row = 0
            if row is not None:
                self.runs_table.selectionModel().setCurrentIndex(
                    self.runs_model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
            else:
                self._show_run(None)
            self.details_loaded.emit(cid)

        def error(message: str) -> None:
            if generation == self._detail_generation:
                self._show_error(f"Could not read the runs: {message}")

        self.context.tasks.start(load_details, self.context.db_path, comparison_id,
                                 on_event=event, on_error=error)

    def selected_run(self) -> RunRow | None:
        index = self.runs_table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= self.runs_model.rowCount():
            return None
        return self.runs_model.detail(index.row()).run

    def _run_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        run = self.runs_model.detail(current.row()).run if current.isValid() else None
        self._show_run(run)

    def _show_run(self, run: RunRow | None) -> None:
        """The full output and prompt of one run, with its rating in the controls."""
        enabled = run is not None
        for widget in (self.thumbs_up, self.thumbs_down, self.note_edit, self.note_button,
                       self.clear_rating_button, self.replay_button, *self.star_buttons):
            widget.setEnabled(enabled)
        if run is None:
            self.output_text.clear()
            self.prompt_text.clear()
            self.run_label.clear()
            self._show_rating(None)
            self.note_edit.clear()
            return
        self.output_text.setPlainText(run.output or "")
        self.prompt_text.setPlainText(run.rendered_prompt or "")
        facts = [f"run {run.id}", run.status, f"seed {run.seed}"]
        if run.completion_tokens is not None:
            facts.append(f"{run.completion_tokens} tokens")
            facts.append(f"prompt {count_text(run.prompt_tokens)} tokens")
        if run.tokens_per_second:
            facts.append(f"{run.tokens_per_second:.1f} tok/s")
        if run.finish_reason:
            facts.append(f"finished: {run.finish_reason}")
        if run.model and run.model.get("name"):
            facts.append(str(run.model["name"]))
        scores = format_scores(run, 8)
        text = " · ".join(facts) + (f"\nScores: {scores}" if scores else "")
        if run.error:
            text += f"\nError: {run.error}"
        self.run_label.setText(text)
        self._show_rating(run.rating)
        self.note_edit.setText(run.rating.note or "" if run.rating is not None else "")

    def _show_rating(self, rating: RatingRow | None) -> None:
        thumbs = rating.thumbs if rating is not None else None
        stars = (rating.stars or 0) if rating is not None else 0
        self.thumbs_up.setChecked(thumbs == 1)
        self.thumbs_down.setChecked(thumbs == -1)
        for n, star in enumerate(self.star_buttons, 1):
            star.setText("★" if n <= stars else "☆")

    # -- open -------------------------------------------------------------------------------

    def open_selected(self) -> None:
        item = self.current_item()
        if item is None:
            items = self.selected_items()
            item = items[0] if items else None
        if item is not None:
            self.open_item(item)

    def open_item(self, item: HistoryItem) -> None:
        """A Playground run opens in the Playground; anything else in Compare."""
        if item.single:
            if item.run is None:
                self._show_error(f"{item.comparison.name} has no saved run to open")
                return
            self.context.open_run.emit(item.run.id)
        else:
            self.context.open_comparison.emit(item.comparison.id)

    def _open_run_at(self, index: QModelIndex) -> None:
        if index.isValid():
            self.context.open_run.emit(self.runs_model.detail(index.row()).run.id)

    def replay_selected(self) -> None:
        run = self.selected_run()
        if run is not None:
            ReplayDialog(self.context, run.id, self).show()

    # -- rating -----------------------------------------------------------------------------

    def save_note(self) -> None:
        self.rate_selected(note=self.note_edit.text().strip())

    def rate_selected(
        self,
        *,
        thumbs: int | None = None,
        stars: int | None = None,
        note: str | None = None,
        clear: bool = False,
    ) -> None:
        """Save part of the selected run's rating; the other parts keep their values."""
        run = self.selected_run()
        if run is None:
            return
        self._show_rating(run.rating)  # a checkable button shows the stored state until saved

        def event(result: tuple[int, RatingRow | None]) -> None:
            run_id, rating = result
            self.runs_model.update_rating(run_id, rating)
            self.model.update_rating(run_id, rating)
            current = self.selected_run()
            if current is not None and current.id == run_id:
                self._show_rating(rating)
                if clear:
                    self.note_edit.clear()
            self.rating_saved.emit(run_id)

        def error(message: str) -> None:
            self._show_error(f"Could not save the rating: {message}")

        self.context.tasks.start(rate_run, self.context.db_path, run.id, thumbs=thumbs,
                                 stars=stars, note=note, clear=clear, on_event=event,
                                 on_error=error)

    # -- delete -----------------------------------------------------------------------------

    def _ask(self, text: str) -> bool:
        answer = QMessageBox.question(
            self, "Delete from history", text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def delete_selected(self) -> None:
        items = {item.comparison.id: item for item in self.selected_items()}
        if not items:
            return
        if len(items) == 1:
            item = next(iter(items.values()))
            what = "run" if item.single else "comparison"
            runs = item.comparison.run_count
            text = (f"Delete the {what} “{item.comparison.name}” and its {runs} saved "
                    f"run{'s' if runs != 1 else ''}? This cannot be undone.")
        else:
            text = (f"Delete {len(items)} selected items and all their saved runs? "
                    "This cannot be undone.")
        if not self.confirm(text):
            return
        ids = list(items)

        def event(removed: list[int]) -> None:
            self.context.status.emit(
                f"Deleted {len(removed)} item{'s' if len(removed) != 1 else ''} from the history"
            )
            self.deleted.emit(removed)
            self.context.history_changed.emit()

        def error(message: str) -> None:
            self._show_error(f"Could not delete: {message}")

        self.context.tasks.start(delete_comparisons, self.context.db_path, ids,
                                 on_event=event, on_error=error)

    # -- export -----------------------------------------------------------------------------

    def file_actions(self) -> list[QAction]:
        """The File menu's way to exporting the selected history items."""
        action = QAction("Export Selected History…", self)
        action.triggered.connect(self.export_dialog)
        return [action]

    def export_dialog(self) -> None:
        ids = self.selected_comparison_ids()
        if not ids:
            return
        filters = {
            "csv": "CSV (*.csv)",
            "jsonl": "JSON Lines (*.jsonl)",
            "md": "Markdown (*.md)",
            "html": "HTML page (*.html)",
        }
        caption = "Export report" if len(ids) == 1 else (
            f"Export {len(ids)} reports (one file each, named after the one you choose)"
        )
        path, chosen = QFileDialog.getSaveFileName(
            self, caption, str(Path.home() / "report.html"), ";;".join(filters.values()),
            filters["html"],
        )
        if not path:
            return
        fmt = next((f for f, label in filters.items() if label == chosen), None)
        suffix = Path(path).suffix.lstrip(".").lower()
        for candidate in EXPORT_FORMATS:
            if suffix == candidate:
                fmt = candidate
        self.export_selected(path, fmt or "html")

    def export_selected(self, path: str, fmt: str) -> None:
        """Write a report of each selected comparison in ``fmt`` (csv, jsonl, md, html).

        One selected comparison goes to ``path``; several each get their own file next to it,
        ``<stem>-<comparison id>.<fmt>``, because a report's statistics belong to one
        comparison. Emits :attr:`exported` with the paths written.
        """
        chosen = next((f for f in EXPORT_FORMATS if f == fmt), None)
        if chosen is None:
            self._show_error(
                f"cannot export as {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
            )
            return
        ids = self.selected_comparison_ids()
        if not ids:
            self._show_error("select a run or comparison to export first")
            return
        targets = export_paths(Path(path).expanduser(), chosen, ids)

        def event(written: list[str]) -> None:
            self._clear_error()
            names = ", ".join(Path(p).name for p in written)
            self.context.status.emit(f"Exported {names}")
            self.exported.emit(written)

        def error(message: str) -> None:
            self._show_error(f"Could not export: {message}")

        self.context.tasks.start(export_comparisons, self.context.db_path, targets, chosen,
                                 on_event=event, on_error=error)

