"""The History tab: every saved Playground run and comparison, searchable, rateable, exportable.

All reads and writes go through :class:`~playground.storage.store.Store` inside background
tasks (:mod:`.tasks`: one store per task, opened and closed on the task's thread); the widgets
only show rows that arrive. Each load carries a generation number, so a slow search overtaken
by newer typing is dropped instead of overwriting the newer result.

The view lays out and wires its panels: the search and filters (:mod:`.filter_bar`), the
comparisons with their actions (:mod:`.comparisons_panel`), the judges of the selected one
(:mod:`.judges_panel`), and its runs with the rating bar and replay
(:mod:`.run_details_panel`). Which rows a filter keeps, how pages are read and where reports go
are the core's (:mod:`playground.runs.browsing`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QSplitter, QVBoxLayout, QWidget

from playground.evaluation.exports import EXPORT_FORMATS, ExportFormat, export_format
from playground.runs.browsing import PAGE_SIZE, HistoryItem, HistoryPage, RunDetail, report_paths
from playground.storage.store import RatingRow, RunRow
from playground.wording import plural
from ui.context import AppContext
from ui.views.history.comparisons_panel import ComparisonsPanel
from ui.views.history.filter_bar import HistoryFilterBar
from ui.views.history.judges_panel import JudgesPanel
from ui.views.history.rating_bar import RatingEdit
from ui.views.history.run_details_panel import RunDetailsPanel
from ui.views.history.tasks import (
    delete_comparisons,
    export_comparisons,
    load_details,
    load_history,
    rate_run,
)
from ui.widgets.palette import ERROR_STYLE
from ui.widgets.replay_dialog import ReplayDialog

#: Typing pause before a search starts.
DEBOUNCE_MS = 250
#: The report formats the export dialog offers, by the format each writes.
EXPORT_FILTERS: dict[ExportFormat, str] = {
    "csv": "CSV (*.csv)",
    "jsonl": "JSON Lines (*.jsonl)",
    "md": "Markdown (*.md)",
    "html": "HTML page (*.html)",
}


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
        self.loading = False
        self.more_available = False
        self.export_file_dialog: QFileDialog | None = None

        self.filters = HistoryFilterBar()
        self.comparisons = ComparisonsPanel()
        self.details = RunDetailsPanel()
        self.judges = JudgesPanel(context)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.comparisons)
        below = QWidget()  # the selected comparison's judges above its runs
        below_layout = QVBoxLayout(below)
        below_layout.setContentsMargins(0, 0, 0, 0)
        below_layout.addWidget(self.judges)
        below_layout.addWidget(self.details, 1)
        self.splitter.addWidget(below)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters)
        layout.addWidget(self.error_label)
        layout.addWidget(self.splitter, 1)
        self._expose_panels()
        self._restore(context.settings)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reload)
        self._wire()
        # A comparison saves run after run: a burst of changes is read once, after it.
        context.history_changed.connect(self._debounce.start)
        self.reload()

    def _expose_panels(self) -> None:
        """The panels' widgets under the view's own names, as scripts and tests reach them."""
        filters, comparisons, details = self.filters, self.comparisons, self.details
        bar = details.rating_bar
        self.search_edit, self.kind_buttons = filters.search_edit, filters.kind_buttons
        self.status_combo, self.contains_edit = filters.status_combo, filters.contains_edit
        self.model, self.table = comparisons.model, comparisons.table
        self.count_label, self.more_button = comparisons.count_label, comparisons.more_button
        self.open_button, self.delete_button = comparisons.open_button, comparisons.delete_button
        self.export_button = comparisons.export_button
        self.runs_model, self.runs_table = details.runs_model, details.runs_table
        self.run_label, self.text_tabs = details.run_label, details.text_tabs
        self.output_text, self.prompt_text = details.output_text, details.prompt_text
        self.thumbs_up, self.thumbs_down = bar.thumbs_up, bar.thumbs_down
        self.star_buttons, self.note_edit = bar.star_buttons, bar.note_edit
        self.note_button, self.clear_rating_button = bar.note_button, bar.clear_rating_button
        self.replay_button = bar.replay_button

    def _wire(self) -> None:
        self.filters.edited.connect(self._schedule)
        self.filters.submitted.connect(self._search_now)
        self.comparisons.current_changed.connect(self._current_changed)
        self.comparisons.open_requested.connect(self.open_selected)
        self.comparisons.delete_requested.connect(self.delete_selected)
        self.comparisons.export_requested.connect(self.export_dialog)
        self.comparisons.more_requested.connect(self.load_more)
        self.details.open_run.connect(self.context.open_run)
        self.details.rating_bar.edited.connect(self._rate)
        self.details.rating_bar.replay_requested.connect(self.replay_selected)
        self.judges.changed.connect(lambda _: self.context.history_changed.emit())
        # Right-click on a comparison: the table's own actions (Open, Delete) and Judge…
        judge_action = QAction("Judge…", self.table)
        judge_action.triggered.connect(self.judges.open_dialog)
        self.table.addAction(judge_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

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
        self.filters.restore(settings)

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("history/splitter", self.splitter.saveState())
        settings.setValue("history/columns", self.table.horizontalHeader().saveState())
        settings.setValue("history/run_columns", self.runs_table.horizontalHeader().saveState())
        self.filters.save(settings)

    # -- errors -----------------------------------------------------------------------------

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def _clear_error(self) -> None:
        self.error_label.clear()
        self.error_label.hide()

    # -- loading the table ------------------------------------------------------------------

    def _schedule(self) -> None:
        """A filter changed: start over at the first page once typing pauses."""
        self._pages = 1
        self._debounce.start()

    def _search_now(self) -> None:
        self._pages = 1
        self.reload()

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

        query = self.filters.query(self.page_size * self._pages)
        self.context.tasks.start(load_history, self.context.db_path, query,
                                 on_event=event, on_error=error)

    def _apply(self, page: HistoryPage) -> None:
        self._clear_error()
        wanted = self._select_after_load
        self._select_after_load = None
        self.comparisons.show_page(page, searching=self.filters.searching,
                                   kind=self.filters.kind)
        self.more_available = page.more
        if wanted is not None:
            self.comparisons.reselect(*wanted)
        if self.current_item() is None:
            self._clear_details()
        self.loading = False
        self.history_loaded.emit()

    def select_row(self, row: int) -> None:
        self.comparisons.select_row(row)

    # -- selection --------------------------------------------------------------------------

    def current_item(self) -> HistoryItem | None:
        return self.comparisons.current_item()

    def selected_items(self) -> list[HistoryItem]:
        return self.comparisons.selected_items()

    def selected_comparison_ids(self) -> list[int]:
        return self.comparisons.selected_comparison_ids()

    def selected_run(self) -> RunRow | None:
        return self.details.selected_run()

    def _current_changed(self, item: HistoryItem | None) -> None:
        if item is None:
            self._clear_details()
        else:
            self.judges.show_comparison(item.comparison.id, item.comparison.label)
            self._load_details(item.comparison.id, item.run.id if item.run is not None else None)

    def _clear_details(self) -> None:
        self._detail_generation += 1
        self._detail_comparison = None
        self.details.clear()
        self.judges.show_comparison(None, "")

    def _load_details(self, comparison_id: int, select_run: int | None) -> None:
        self._detail_generation += 1
        generation = self._detail_generation

        def event(result: tuple[int, list[RunDetail]]) -> None:
            if generation != self._detail_generation:
                return
            cid, rows = result
            self._detail_comparison = cid
            self.details.show_rows(rows, select_run)
            self.details_loaded.emit(cid)

        def error(message: str) -> None:
            if generation == self._detail_generation:
                self._show_error(f"Could not read the runs: {message}")

        self.context.tasks.start(load_details, self.context.db_path, comparison_id,
                                 on_event=event, on_error=error)

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

    def replay_selected(self) -> None:
        run = self.selected_run()
        if run is not None:
            ReplayDialog(self.context, run.id, self).show()

    # -- rating -----------------------------------------------------------------------------

    def _rate(self, edit: RatingEdit) -> None:
        self.rate_selected(thumbs=edit.thumbs, stars=edit.stars, note=edit.note,
                           clear=edit.clear)

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
        # A checkable button shows the stored state until the save comes back.
        self.details.rating_bar.show_rating(run.rating)

        def event(result: tuple[int, RatingRow | None]) -> None:
            run_id, rating = result
            self.details.rating_saved(run_id, rating, cleared=clear)
            self.model.update_rating(run_id, rating)
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
            c = item.comparison
            text = (f"Delete {c.label} “{c.name}” and its saved {plural(c.run_count, 'run')}? "
                    "This cannot be undone.")
        else:
            text = (f"Delete {len(items)} selected items and all their saved runs? "
                    "This cannot be undone.")
        if not self.confirm(text):
            return

        def event(removed: list[int]) -> None:
            self.context.status.emit(f"Deleted {plural(len(removed), 'item')} from the history")
            self.deleted.emit(removed)
            self.context.history_changed.emit()

        def error(message: str) -> None:
            self._show_error(f"Could not delete: {message}")

        self.context.tasks.start(delete_comparisons, self.context.db_path, list(items),
                                 on_event=event, on_error=error)

    # -- export -----------------------------------------------------------------------------

    def file_actions(self) -> list[QAction]:
        """The File menu's way to exporting the selected history items."""
        action = QAction("Export Selected History…", self)
        action.triggered.connect(self.export_dialog)
        return [action]

    def export_dialog(self) -> None:
        """Ask where to write the selected items' reports; the window stays responsive while
        the dialog is open. The file's extension names the format, else the chosen filter."""
        ids = self.selected_comparison_ids()
        if not ids:
            return
        caption = "Export report" if len(ids) == 1 else (
            f"Export {len(ids)} reports (one file each, named after the one you choose)"
        )
        dialog = QFileDialog(self, caption, str(Path.home()))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(list(EXPORT_FILTERS.values()))
        dialog.selectNameFilter(EXPORT_FILTERS["html"])
        dialog.selectFile("report.html")

        def chosen(path: str) -> None:
            by_label = {text: fmt for fmt, text in EXPORT_FILTERS.items()}
            self.export_selected(
                path, export_format(path) or by_label.get(dialog.selectedNameFilter(), "html"))

        dialog.fileSelected.connect(chosen)
        dialog.finished.connect(dialog.deleteLater)
        self.export_file_dialog = dialog
        dialog.open()

    def export_selected(self, path: str, fmt: str) -> None:
        """Write a report of each selected comparison in ``fmt`` (csv, jsonl, md, html).

        One selected comparison goes to ``path``; several each get their own file next to it,
        ``<stem>-<number>.<fmt>`` (``-run<number>`` for a Playground run), because a report's
        statistics belong to one comparison. Emits :attr:`exported` with the paths written.
        """
        chosen = next((f for f in EXPORT_FORMATS if f == fmt), None)
        if chosen is None:
            self._show_error(
                f"cannot export as {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
            )
            return
        rows = list({i.comparison.id: i.comparison for i in self.selected_items()}.values())
        if not rows:
            self._show_error("select a run or comparison to export first")
            return
        targets = report_paths(Path(path).expanduser(), chosen, rows)

        def event(written: list[str]) -> None:
            self._clear_error()
            names = ", ".join(Path(p).name for p in written)
            self.context.status.emit(f"Exported {names}")
            self.exported.emit(written)

        def error(message: str) -> None:
            self._show_error(f"Could not export: {message}")

        self.context.tasks.start(export_comparisons, self.context.db_path, targets, chosen,
                                 on_event=event, on_error=error)
