"""The Playground: one template, one set of values, one model, run and looked at closely.

A run here is a comparison of one variant on one input (:mod:`playground.runs.single_run`), so
it is saved to the history, scored and reproducible like any other. The view lays out its
panels and wires them: the template picker, the editor (:mod:`.editor_panel`), the variables
form, the prompt preview (:mod:`.preview_panel`), the model row (:mod:`.model_chooser`), the
settings, and the output (:mod:`.output_panel`); runs go through a :class:`.RunSession`.
Everything slow happens in background tasks, and a result that arrives after the person has
moved on is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.errors import PlaygroundError, SamplingError
from playground.prompts.library import Library
from playground.prompts.templates import PromptTemplate, template_params
from playground.runs.live import unfilled_variables, waiting_message
from playground.runs.preview import PromptPreview
from playground.runs.runner import RunDone
from playground.runs.single_run import SingleRun, reseeded, single_run_spec
from playground.sampling import SamplingParams
from ui.context import AppContext
from ui.views.playground.editor_panel import TemplateEditor
from ui.views.playground.model_chooser import ModelChooser
from ui.views.playground.output_panel import OutputPanel
from ui.views.playground.params_panel import ParamsPanel
from ui.views.playground.preview_panel import PreviewPanel, PreviewRequest
from ui.views.playground.reopening import open_run_task, show_stored_run
from ui.views.playground.run_session import ActiveRun, RunSession
from ui.views.playground.scratch_modes import ScratchModes
from ui.views.playground.template_picker import TemplatePicker
from ui.views.playground.variables_form import VariablesForm
from ui.views.playground.view_settings import restore_settings, save_view_settings
from ui.widgets.output_format import OutputFormat
from ui.widgets.references import (
    REFERENCE_HINT,
    confidence_threshold,
    join_references,
    split_references,
)
from ui.widgets.replay_dialog import ReplayDialog
from ui.widgets.temperature_setting import HIGH_TEMPERATURE_KEY

__all__ = ["PlaygroundView", "split_references"]

LIVE_DEBOUNCE_MS = 400
#: Alternatives recorded per token while the token view is on.
TOKEN_VIEW_ALTERNATIVES = 5


class PlaygroundView(QWidget):
    """Pick a template, edit it, fill its variables, set the sampling and run it on a model."""

    #: the finished run's RunDone, or None when it was cancelled or could not start
    run_finished = Signal(object)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._library: Library | None = None
        self._template_key: tuple[str | None, str] | None = None
        self._library_sources: dict[str, str] = {}
        self._loading = False
        self._replay_id: int | None = None
        self.session = RunSession(context, self)

        self._build_widgets()
        self._build_layout()
        self._build_actions()
        self._connect()
        self._loading = True
        try:
            restore_settings(self, context.settings)
        finally:
            self._loading = False
        self.modes.set_mode("scratch")  # the Playground opens ready to type
        self.model_chooser.refresh()
        self.model_chooser.show_state()

    # -- construction ------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.picker = TemplatePicker(self.context)
        self.template_editor = TemplateEditor()
        self.variables = VariablesForm()
        self.variables_scroll = QScrollArea()
        self.variables_scroll.setWidgetResizable(True)
        self.variables_scroll.setWidget(self.variables)
        self.preview_panel = PreviewPanel(self.context, self._preview_request)
        self.model_chooser = ModelChooser(self.context)
        self.params = ParamsPanel()
        self.output_format = OutputFormat()
        # Compare's temperature boxes follow this choice: it is written as soon as it changes.
        self.params.allow_high.toggled.connect(
            lambda on: self.context.settings.setValue(HIGH_TEMPERATURE_KEY, on))
        self.live_check = QCheckBox("Live")
        self.live_check.setToolTip("Run again shortly after every change to the template, "
                                   "its values or the settings")
        self.token_check = QCheckBox("Token view")
        self.token_check.setToolTip("Colour the output by each token's probability; hover a "
                                    "token for the alternatives")
        self.run_button = QToolButton()
        self.stop_button = QToolButton()
        self.regenerate_button = QToolButton()
        self.replay_button = QToolButton()
        self.output_panel = OutputPanel()
        self.reference = QPlainTextEdit()
        self.reference.setPlaceholderText(
            "Optional reference output: the run is scored against it (ROUGE, BLEU, chrF). "
            + REFERENCE_HINT
        )

        # The panels' widgets, by the names the rest of the window and its tests use.
        self.editor: QPlainTextEdit = self.template_editor.editor
        self.editor_message: QLabel = self.template_editor.message
        self.highlighter = self.template_editor.highlighter
        self.preview: QPlainTextEdit = self.preview_panel.preview
        self.preview_tokens_label: QLabel = self.preview_panel.tokens_label
        self.preview_warnings: QLabel = self.preview_panel.warnings
        self.model_combo: QComboBox = self.model_chooser.combo
        self.model_state: QLabel = self.model_chooser.state
        self.load_button: QToolButton = self.model_chooser.load_button
        self.output = self.output_panel.output
        self.token_view = self.output_panel.token_view
        self.scores_label = self.output_panel.scores_label
        self.status_label = self.output_panel.status_label

    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(QLabel(f"<b>{title}</b>"))
        layout.addWidget(widget, 1)
        return box

    def _build_layout(self) -> None:
        self.center_splitter = QSplitter(Qt.Orientation.Vertical)
        self.center_splitter.addWidget(self.template_editor)
        self.center_splitter.addWidget(self._titled("Variables", self.variables_scroll))
        self.center_splitter.addWidget(self.preview_panel)
        for index, stretch in enumerate((3, 2, 2)):
            self.center_splitter.setStretchFactor(index, stretch)

        buttons = QHBoxLayout()
        for button in (self.run_button, self.stop_button, self.regenerate_button,
                       self.replay_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.output_panel.title_row.addWidget(self.live_check)
        self.output_panel.title_row.addWidget(self.token_check)
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addWidget(self.model_chooser)
        settings_layout.addWidget(self.output_format)
        settings_layout.addWidget(self.params)
        settings_scroll = QScrollArea()
        settings_scroll.setWidgetResizable(True)
        settings_scroll.setWidget(settings)
        # Run and its neighbours stay in sight above the output, whatever the settings scroll.
        run_box = QWidget()
        run_layout = QVBoxLayout(run_box)
        run_layout.setContentsMargins(0, 0, 0, 0)
        run_layout.addLayout(buttons)
        run_layout.addWidget(self.output_panel, 1)

        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(settings_scroll)
        self.right_splitter.addWidget(run_box)
        self.right_splitter.addWidget(self._titled("Reference", self.reference))
        for index, stretch in enumerate((2, 3, 1)):
            self.right_splitter.setStretchFactor(index, stretch)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.picker)
        self.modes = ScratchModes(self.context, self.session, self.center_splitter)
        self.splitter.addWidget(self.modes)
        self.splitter.addWidget(self.right_splitter)
        for index, stretch in enumerate((2, 4, 4)):
            self.splitter.setStretchFactor(index, stretch)
        self.splitter.setSizes([380, 560, 560])
        self.center_splitter.setSizes([320, 260, 300])
        self.right_splitter.setSizes([320, 380, 160])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

    def _action(self, text: str, shortcuts: Sequence[str], tip: str) -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        # Only while the Playground has focus: other tabs have Run and Stop of their own.
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(f"{tip} ({QKeySequence(shortcuts[0]).toString()})")
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.run_action = self._action("&Run", ["Ctrl+Return", "Ctrl+Enter"],
                                       "Run the template (cancels a run in flight)")
        self.stop_action = self._action("&Stop", ["Esc"], "Stop the run in flight")
        self.regenerate_action = self._action(
            "Re&generate", ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
            "Run the last prompt again (a new seed when the seed is random)")
        self.run_action.triggered.connect(self.run)
        self.stop_action.triggered.connect(self.stop)
        self.regenerate_action.triggered.connect(self.regenerate)
        self.run_button.setDefaultAction(self.run_action)
        self.stop_button.setDefaultAction(self.stop_action)
        self.regenerate_button.setDefaultAction(self.regenerate_action)
        self.stop_action.setEnabled(False)
        self.replay_action = QAction("Re&play…", self)
        self.replay_action.setToolTip(
            "Run the saved run again with its recorded prompt, settings, seed and model, and "
            "see whether it repeats and which recorded settings differ now")
        self.replay_action.triggered.connect(self.replay)
        self.replay_action.setEnabled(False)
        self.replay_button.setDefaultAction(self.replay_action)

    def run_actions(self) -> list[QAction]:
        return [self.run_action, self.stop_action, self.regenerate_action, self.replay_action]

    def _set_replayable(self, run_id: int | None) -> None:
        self._replay_id = run_id
        self.replay_action.setEnabled(run_id is not None)

    def replay(self) -> None:
        if self._replay_id is not None:
            ReplayDialog(self.context, self._replay_id, self).show()

    def _connect(self) -> None:
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DEBOUNCE_MS)
        self._live_timer.timeout.connect(self._live_run)

        self.picker.template_chosen.connect(self._load_template)
        self.template_editor.edited.connect(self._inputs_changed)
        self.variables.values_changed.connect(self._inputs_changed)
        self.variables.references_offered.connect(
            lambda refs: self.reference.setPlainText(join_references(refs)))
        self.params.changed.connect(self._inputs_changed)
        self.output_format.changed.connect(self._inputs_changed)
        self.preview_panel.rendered.connect(self._preview_rendered)
        self.live_check.toggled.connect(self._live_toggled)
        self.token_check.toggled.connect(self._token_view_toggled)
        self.model_chooser.changed.connect(self.preview_panel.schedule)
        self.model_chooser.load_failed.connect(
            lambda message: self._fail_status(f"The model could not be loaded: {message}"))
        self.session.token.connect(
            lambda token, first: self.output_panel.append(
                token, first=first, alternatives=self.token_check.isChecked()))
        self.session.done.connect(self._show_done)
        self.session.failed.connect(self._run_failed)
        self.session.ended.connect(self._run_ended)
        self.context.open_run.connect(self.open_run)
        self.modes.run_requested.connect(self.run)
        self.modes.status.connect(lambda text, error: self._set_status(text, error=error))
        self.modes.mode_changed.connect(lambda _mode: self._live_timer.stop())
        self.modes.mode_changed.connect(lambda mode: self.output_format.set_template_output(
            self.variables.template.meta.output
            if mode == "template" and self.variables.template else None))

    # -- templates -------------------------------------------------------------------------

    def select_template(self, library_name: str, template_id: str) -> bool:
        """Show a template as if picked in the tree (its own source, defaults and settings)."""
        if self.picker.current() == (library_name, template_id):
            self._load_template(library_name, template_id)
            return True
        return self.picker.select(library_name, template_id)

    def _load_template(self, library_name: str, template_id: str) -> None:
        try:
            library = self.context.collection().library(library_name)
        except PlaygroundError as exc:
            self._fail_status(str(exc))
            return
        template = library.template(template_id)
        if template is None:
            self._fail_status(f"the library {library_name!r} has no template {template_id!r}")
            return
        self._library = library
        self._template_key = (library_name, template_id)
        self.modes.set_mode("template")
        self.session.burst.end()  # the last template's Live run stays in History
        self._library_sources = library.sources()
        self.template_editor.set_source(template.source)
        self.template_editor.set_error(None)
        self.variables.set_template(library, template)
        self.output_format.set_template_output(template.meta.output, reset=True)
        defaults = template_params(template)
        self.params.set_defaults(defaults)
        current_seed = None if self.params.random_seed.isChecked() else \
            int(self.params.seed_spin.value())
        self.params.set_params(replace(defaults, seed=current_seed))
        self._inputs_changed()

    @property
    def template_id(self) -> str | None:
        return self._template_key[1] if self._template_key else None

    @property
    def error_line(self) -> int | None:
        """The template line the shown error points at."""
        return self.template_editor.error_line

    # -- preview -----------------------------------------------------------------------------

    def _inputs_changed(self, *_: object) -> None:
        self.preview_panel.schedule()
        if self.live_check.isChecked() and not self._loading and self._template_key:
            self._schedule_live()

    def _schedule_live(self) -> None:
        """Run shortly, once every variable the template needs has a value."""
        template = self.variables.template
        missing = unfilled_variables(template.meta, self.variables.values()) if template else ()
        if missing:
            self._live_timer.stop()
            self._set_status(waiting_message(missing), error=False)
        else:
            self._live_timer.start()

    @property
    def preview_pending(self) -> bool:
        """Whether a preview is waiting for its debounce or being rendered."""
        return self.preview_panel.pending

    def _preview_request(self) -> PreviewRequest | None:
        if self._template_key is None:
            return None
        try:
            params = self.params.params()
        except SamplingError:
            params = SamplingParams()
        return PreviewRequest(self.template_editor.source(), self._template_key[1],
                              self.variables.values(), dict(self._library_sources), params)

    def _preview_rendered(self, outcome: PromptPreview) -> None:
        self.template_editor.set_error(outcome.error)
        if outcome.template is not None:
            self._adopt_edited_template(outcome.template)

    def _adopt_edited_template(self, template: PromptTemplate) -> None:
        """An edit that adds, removes or retypes variables rebuilds the form (keeping what
        was typed); a changed header changes what the reset buttons go back to."""
        shown = self.variables.template
        if shown is None or shown.meta.variables != template.meta.variables:
            self.variables.set_template(self._library, template, keep=True)
        self.output_format.set_template_output(template.meta.output)
        defaults = template_params(template)
        if defaults != self.params.defaults():
            self.params.set_defaults(defaults)

    # -- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session.running

    def run(self) -> None:
        """Run the template as shown; a run in flight is cancelled first."""
        self._start(regenerate=False)

    def _live_run(self) -> None:
        if not self.modes.active:  # Live follows a template's edits, not a scratch prompt
            self._start(regenerate=False, live=True)

    def regenerate(self) -> None:
        """The last run's prompt again (not the edits since): a new seed when the seed is
        random, the fixed seed otherwise."""
        self._start(regenerate=True)

    def stop(self) -> None:
        if self.session.stop():
            self.status_label.setText("Stopping…")

    def _start(self, *, regenerate: bool, live: bool = False) -> None:
        self._live_timer.stop()
        self.session.abandon()
        # Alternatives are always recorded, so the token view shows them without a new run.
        alternatives = TOKEN_VIEW_ALTERNATIVES
        last = self.session.last
        try:
            if regenerate and last is not None:
                random_seed = self.params.random_seed.isChecked()
                seed = self.params.new_seed() if random_seed else int(self.params.seed_spin.value())
                spec = reseeded(last.spec, seed, alternatives)
            else:
                params = self.params.params()
                random_seed = params.seed is None
                seed = self.params.new_seed() if params.seed is None else params.seed
                spec = single_run_spec(self._single_run(params, alternatives), seed)
        except PlaygroundError as exc:
            self._fail_status(str(exc))
            self.run_finished.emit(None)
            return
        self._set_replayable(None)
        self.output_panel.start(keep_previous=live)
        self.stop_action.setEnabled(True)
        self.session.start(spec, random_seed=random_seed, live=live)
        self.modes.run_started(spec)

    def _single_run(self, params: SamplingParams, alternatives: int | None) -> SingleRun:
        """What the editor, the form, the settings and the reference hold now (or the scratch
        prompt or chat, in those modes)."""
        references = split_references(self.reference.toPlainText())
        scratch = self.modes.single_run(self.context.hub.current, params, alternatives,
                                        references)
        run = scratch or SingleRun(
            template_id=self.template_id or "",
            template_source=self.template_editor.source(),
            model=self.context.hub.current,
            params=params,
            values=self.variables.values(),
            references=references,
            library_sources=dict(self._library_sources),
            alternatives=alternatives,
        )
        return replace(run, output=self.output_format.constraint())

    def _show_done(self, done: RunDone) -> None:
        current = self.session.current
        self.output_panel.show_done(done, confidence_threshold(self.context.settings),
                                    current.label if current is not None else None)
        if done.status == "failed" and done.result is None:
            message = done.error or "the run failed"
            self.template_editor.mark_run_error(self.template_id, message)
        elif done.result is not None and done.status != "failed":
            self._set_replayable(done.run_id)

    def _run_failed(self, message: str) -> None:
        self.template_editor.mark_run_error(self.template_id, message)
        self._fail_status(message)

    def _run_ended(self, run: ActiveRun) -> None:
        self.stop_action.setEnabled(False)
        if run.done is None and run.error is None:
            if self.output_panel.settle():
                self._set_status("Stopped; the output shown is the previous run's.", error=False)
            else:
                self._set_status("Stopped; the output so far is kept." if run.streamed
                                 else "Stopped.", error=False)
        self.run_finished.emit(run.done)
        self.preview_panel.schedule()  # the token count may have waited for the model

    def _set_status(self, text: str, *, error: bool) -> None:
        self.output_panel.set_status(text, error=error)

    def _fail_status(self, message: str) -> None:
        self._set_status(message, error=True)

    # -- toggles -----------------------------------------------------------------------------

    def _live_toggled(self, on: bool) -> None:
        if on and self._template_key is not None:
            self._schedule_live()
        elif not on:
            self._live_timer.stop()
            self.session.burst.end()

    def _token_view_toggled(self, on: bool) -> None:
        last = self.session.last
        self.output_panel.show_tokens(on, last.done.result if last and last.done else None)

    # -- opening a stored run ------------------------------------------------------------------

    def open_run(self, run_id: int) -> None:
        """Put a saved run back: its template source, values, settings, output, reference."""
        self._set_status(f"Opening run {run_id}…", error=False)
        self.context.tasks.start(
            open_run_task, self.context.db_path, run_id,
            on_event=lambda stored: show_stored_run(self, stored),
            on_error=lambda message: self._fail_status(f"Run {run_id} cannot be opened: "
                                                       f"{message}"),
        )

    # -- settings --------------------------------------------------------------------------------

    def save_settings(self, settings: QSettings) -> None:
        save_view_settings(self, settings)
