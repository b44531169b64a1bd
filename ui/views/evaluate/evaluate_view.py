"""The Evaluate tab: people rate and judge a comparison's outputs, and see what that says.

Two ways of judging, each blind (no variant names, outputs in a shuffled order) so that nobody
favours the prompt they wrote:

* **Likert**: one output at a time, rated 1–5 on the comparison's criteria, with a note;
* **Pairwise**: two outputs of the same input side by side, in random order; 1, 2 or 3 says
  which is better, and the next pair follows at once.

The **Results** tab (kept apart so that a judge does not watch the ranking move and guess which
side was which) shows the Bradley–Terry ranking with its intervals, how far each automatic
metric agrees with it, the Likert means, and exports the judgements as a preference dataset.

The view lays out and wires its panels: the comparison chooser (:mod:`.chooser`), the Likert
panel (:mod:`.likert_panel`), the pairwise panel (:mod:`.pairwise_panel`) and the results
(:mod:`.results_panel`). What there is to judge, the order of the pairs and the exported
dataset are the core's (:mod:`playground.runs.judging`). Every database access runs in a task
with its own Store (:mod:`.tasks`); writes go one at a time, in the order they were made
(:mod:`.write_queue`), so "undo" always removes the judgement the judge last gave.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from playground.evaluation import preferences as prefs
from playground.evaluation.preferences import BlindPair
from playground.ratings import PreferenceError
from playground.runs.judging import JudgingSet, PairQueue
from playground.storage.store import JudgementRow
from ui.context import AppContext
from ui.views.evaluate.chooser import ComparisonChooser
from ui.views.evaluate.lifetime import live
from ui.views.evaluate.likert_panel import LikertPanel
from ui.views.evaluate.pairwise_panel import PairwisePanel
from ui.views.evaluate.results_panel import ResultsPanel
from ui.views.evaluate.tasks import Exported, Results, load_comparison, load_results
from ui.views.evaluate.tasks import export_preferences as export_task
from ui.views.evaluate.write_queue import WriteQueue
from ui.widgets.palette import ERROR_STYLE

_SETTINGS_KEY = "evaluate/comparison"


class EvaluateView(QWidget):
    """Likert ratings, blind pairwise judgements and their results for one comparison."""

    #: a judgement was saved (a playground.ratings.Judgement)
    judged = Signal(object)
    #: a comparison was loaded and is shown (its id)
    loaded = Signal(int)
    #: the ranking and the Likert means were recomputed
    results_updated = Signal()
    #: the preference dataset was written (the path)
    exported = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.comparison_id: int | None = None
        self._queue = PairQueue()
        self._loading = 0  # the newest load's number; results of older ones are dropped
        self._load_running = False
        self._results_running = False
        self._results_stale = False

        self.chooser = ComparisonChooser(context)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self.likert_widget = LikertPanel()
        self.pairwise_widget = PairwisePanel()
        self.results_panel = ResultsPanel()
        self.modes = QTabWidget()
        self.modes.addTab(self.likert_widget, "Likert")
        self.modes.addTab(self.pairwise_widget, "Pairwise")
        self.modes.addTab(self.results_panel, "Results")
        layout = QVBoxLayout(self)
        layout.addWidget(self.chooser)
        layout.addWidget(self.message)
        layout.addWidget(self.modes, 1)
        self.writes = WriteQueue(context, self)
        self._expose_panels()
        self._wire()

        context.history_changed.connect(self.chooser.reload)
        self.chooser.reload()
        saved = context.settings.value(_SETTINGS_KEY)
        try:
            restored = int(str(saved)) if saved is not None else None
        except ValueError:
            restored = None
        if restored is not None:
            self.set_comparison(restored, quiet=True)

    def _expose_panels(self) -> None:
        """The panels' widgets under the view's own names, as scripts and tests reach them."""
        results = self.results_panel
        self.picker = self.chooser.picker
        self.ranking_model, self.ranking_table = results.ranking_model, results.ranking_table
        self.likert_model, self.likert_table = results.likert_model, results.likert_table
        self.summary_label, self.agreement_label = results.summary_label, results.agreement_label
        self.export_button = results.export_button

    def _wire(self) -> None:
        self.chooser.picked.connect(self.set_comparison)
        self.chooser.failed.connect(self._error)
        self.likert_widget.rated.connect(self._rate)
        self.likert_widget.note_edited.connect(self._note)
        self.likert_widget.criteria_edited.connect(self._edit_criteria)
        self.pairwise_widget.chosen.connect(self.choose)
        self.pairwise_widget.undo_requested.connect(self.undo)
        self.pairwise_widget.results_requested.connect(
            lambda: self.modes.setCurrentWidget(self.results_panel))
        self.results_panel.export_chosen.connect(self.export_preferences)
        self.modes.currentChanged.connect(self._mode_changed)
        self.writes.failed.connect(self._error)
        self.writes.saved.connect(self._results_changed)
        self.writes.drained.connect(self._refresh_results)

    # -- state for tests and the window -----------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether anything is still being loaded, saved or recomputed."""
        return (self.writes.busy or self._load_running or self._results_running
                or self._results_stale or self.chooser.listing)

    @property
    def current_pair(self) -> BlindPair | None:
        """The pair on screen in the Pairwise tab (None once every pair is judged)."""
        return self._queue.current

    @property
    def pairs_total(self) -> int:
        return self._queue.total

    @property
    def pairs_judged(self) -> int:
        return self._queue.done

    @property
    def results(self) -> Results | None:
        return self.results_panel.results

    def save_settings(self, settings: QSettings) -> None:
        if self.comparison_id is not None:
            settings.setValue(_SETTINGS_KEY, self.comparison_id)

    # -- messages ---------------------------------------------------------------------------

    def _error(self, message: str) -> None:
        self.message.setText(message)
        self.message.show()

    def _clear_error(self) -> None:
        self.message.hide()
        self.message.clear()

    # -- loading ----------------------------------------------------------------------------

    def reload_history(self) -> None:
        """List the recent comparisons again."""
        self.chooser.reload()

    def set_comparison(self, comparison_id: int, *, quiet: bool = False) -> None:
        """Show a comparison's outputs for rating and judging, and its results."""
        self._clear_error()
        self._load(comparison_id, quiet=quiet)

    def _load(self, comparison_id: int, *, quiet: bool = False) -> None:
        self._loading += 1
        number = self._loading
        self._load_running = True

        def loaded(value: JudgingSet | Results) -> None:
            if number != self._loading:
                return
            if isinstance(value, JudgingSet):
                self._apply(value)
            else:
                self._apply_results(value)

        def failed(message: str) -> None:
            if number == self._loading and not quiet:
                self._error(f"Could not open comparison {comparison_id}: {message}")

        def done() -> None:
            if number == self._loading:
                self._load_running = False

        self.context.tasks.start(load_comparison, self.context.db_path, comparison_id,
                                 on_event=live(self, loaded), on_error=live(self, failed),
                                 on_done=live(self, done))

    def _apply(self, data: JudgingSet) -> None:
        # Read again (after a failed write or new criteria): stay on the output being rated.
        shown = self.likert_widget.current_item
        keep = shown.run_id if shown and data.comparison_id == self.comparison_id else None
        self.comparison_id = data.comparison_id
        self.chooser.show_comparison(data.comparison_id, data.name)
        self.likert_widget.load(data.items, data.criteria, keep_run=keep)
        self._queue = PairQueue(data)
        self._show_next_pair()
        if self.isVisible():
            # Ready for the keys at once, wherever the focus was (the chooser, usually).
            self._mode_changed(self.modes.currentIndex())
        self.loaded.emit(data.comparison_id)

    def _mode_changed(self, index: int) -> None:
        widget = self.modes.widget(index)
        if widget in (self.likert_widget, self.pairwise_widget):
            widget.setFocus()

    def _reload(self) -> None:
        """Read the comparison again, so the panels show what the database holds (the message
        of the failure that asked for this stays on screen)."""
        if self.comparison_id is not None:
            self._load(self.comparison_id)

    # -- Likert -----------------------------------------------------------------------------

    def _rate(self, run_id: int, criterion: str, score: int) -> None:
        self._clear_error()
        self.writes.enqueue(lambda store: store.rate_criterion(run_id, criterion, score),
                            on_failure=self._reload)

    def _note(self, run_id: int, note: str) -> None:
        self.writes.enqueue(lambda store: store.rate(run_id, note=note), on_failure=self._reload)

    def _edit_criteria(self, names: list[str], renamed: dict[str, str]) -> None:
        comparison_id = self.comparison_id
        if comparison_id is None:
            return
        self._clear_error()

        def applied(_criteria: tuple[str, ...]) -> None:
            if comparison_id == self.comparison_id:
                self._reload()

        self.writes.enqueue(
            lambda store: store.set_criteria(comparison_id, names, renamed=renamed),
            on_result=applied,
            on_failure=lambda: self.likert_widget.set_criteria(self.likert_widget.criteria))

    # -- pairwise ---------------------------------------------------------------------------

    def _show_next_pair(self) -> None:
        self.pairwise_widget.show_pair(self._queue.current, self._queue.done, self._queue.total)

    def choose(self, key: str) -> None:
        """Judge the shown pair: "1" left (A) is better, "2" right (B), "3" a tie."""
        pair, comparison_id, queue = self.current_pair, self.comparison_id, self._queue
        if pair is None or comparison_id is None:
            return
        try:
            judgement = prefs.judge(pair, key)
        except PreferenceError as exc:
            self._error(str(exc))
            return
        self._clear_error()
        run_a, run_b = queue.take(pair)
        self._show_next_pair()

        def undone() -> None:
            # Not saved: the pair comes back first, to be judged again.
            queue.put_back(pair)
            if queue is self._queue:
                self._show_next_pair()

        self.writes.enqueue(
            lambda store: store.save_judgement(comparison_id, run_a, run_b, judgement.choice),
            on_result=lambda _: self.judged.emit(judgement),
            on_failure=undone,
        )

    def undo(self) -> None:
        """Take back the newest judgement and show its pair again."""
        comparison_id = self.comparison_id
        if comparison_id is None:
            return
        self._clear_error()

        def undone(row: JudgementRow | None) -> None:
            if row is None or comparison_id != self.comparison_id:
                return
            self._queue.taken_back(row.run_a, row.run_b)
            self._show_next_pair()

        self.writes.enqueue(lambda store: store.undo_last_judgement(comparison_id),
                            on_result=undone)

    # -- results ----------------------------------------------------------------------------

    def _results_changed(self) -> None:
        self._results_stale = True

    def _refresh_results(self) -> None:
        if self._results_running or not self._results_stale or self.comparison_id is None:
            return
        self._results_running = True
        self._results_stale = False

        def done() -> None:
            self._results_running = False
            if self._results_stale and not self.writes.busy:
                self._refresh_results()

        self.context.tasks.start(
            load_results, self.context.db_path, self.comparison_id,
            on_event=live(self, self._apply_results),
            on_error=live(self, lambda m: self._error(f"Could not compute the results: {m}")),
            on_done=live(self, done))

    def _apply_results(self, results: Results) -> None:
        if results.comparison_id != self.comparison_id:
            return
        self.results_panel.show_results(results)
        self.results_updated.emit()

    # -- export -----------------------------------------------------------------------------

    def export_preferences(self, path: str) -> None:
        """Write the judgements as a preference dataset (ties left out) and say so."""
        comparison_id = self.comparison_id
        if comparison_id is None:
            self._error("Choose a comparison first.")
            return
        self._clear_error()

        def written(result: Exported) -> None:
            ties = f" ({result.ties} tie{'s' * (result.ties != 1)} left out)" if result.ties else ""
            self.context.status.emit(
                f"Wrote {result.pairs} preference pair{'s' * (result.pairs != 1)} to "
                f"{result.path}{ties}")
            self.exported.emit(result.path)

        self.context.tasks.start(
            export_task, self.context.db_path, comparison_id, path,
            on_event=live(self, written),
            on_error=live(self, lambda m: self._error(f"Could not export the preferences: {m}")))
