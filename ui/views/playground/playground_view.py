"""The Playground: one template, one set of values, one model, run and looked at closely.

A run here is a comparison of one variant on one input, so it is saved to the history, scored
and reproducible like any other. Everything slow (rendering, counting tokens, generating,
reading the history) happens in background tasks; the window only shows their results, and a
result that arrives after the person has moved on is dropped.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFontDatabase, QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.comparison import ComparisonSpec, Input, Variant
from playground.engine.backends import LocalBackend
from playground.engine.endpoints import PREFIX, is_remote, load_endpoints
from playground.engine.models import discover_models
from playground.errors import PlaygroundError, SamplingError
from playground.evaluation.scoring import DEFAULT_METRICS
from playground.events import Result, Token, TokenLogprob, count_text
from playground.prompts.library import Library
from playground.prompts.templates import (
    HEADER_PATTERN,
    PromptTemplate,
    TemplateMeta,
    parse_template,
    render_template,
    template_params,
    to_request,
)
from playground.runs.runner import CancelToken, ComparisonStarted, RunDone
from playground.sampling import SamplingParams
from playground.scores import Score
from playground.storage.store import Store
from ui.context import AppContext
from ui.services.jobs import TokenRelay, comparison_job
from ui.services.tasks import Worker
from ui.views.playground.params_panel import ParamsPanel
from ui.views.playground.template_picker import TemplatePicker
from ui.views.playground.variables_form import VariablesForm
from ui.widgets.highlighter import JinjaHighlighter
from ui.widgets.references import (
    REFERENCE_HINT,
    confidence_flag,
    confidence_threshold,
    join_references,
    split_references,
)
from ui.widgets.replay_dialog import ReplayDialog
from ui.widgets.token_view import TokenView

PREVIEW_DEBOUNCE_MS = 250
LIVE_DEBOUNCE_MS = 400
TOKEN_VIEW_ALTERNATIVES = 5
_LINE = re.compile(r"\bline (\d+)\b")
_FINISH = {
    "stop": "end of text or a stop sequence",
    "length": "max tokens reached",
    "cancelled": "stopped",
    "error": "error",
}
ERROR_STYLE = "color: #c62828;"


# -- background work (no widgets here: these run on pool threads) ---------------------------------


@dataclass(frozen=True)
class PreviewOutcome:
    """What the preview task found: the prompt as the model will read it, or why not."""

    serial: int
    template: PromptTemplate | None = None
    text: str = ""
    warnings: tuple[str, ...] = ()
    error: str | None = None
    tokens: int | None = None
    n_ctx: int | None = None
    fit_warning: str | None = None
    note: str | None = None


def preview_task(
    serial: int,
    source: str,
    template_id: str,
    values: Mapping[str, Any],
    library_sources: Mapping[str, str],
    params: SamplingParams,
    backend: object,
    special_tokens: Sequence[str],
    engine_lock: Any,
) -> Iterator[PreviewOutcome]:
    """Render the edited template and, when the model is loaded and free, count its tokens
    through the model's own chat template. Never waits for a generation to end."""
    try:
        template = parse_template(source, template_id)
    except PlaygroundError as exc:
        yield PreviewOutcome(serial, error=str(exc))
        return
    try:
        rendered = render_template(template, values, library=library_sources,
                                   special_tokens=special_tokens)
    except PlaygroundError as exc:
        # The form still follows the edited variables (a new one may be what is missing).
        yield PreviewOutcome(serial, template, error=str(exc))
        return
    outcome = PreviewOutcome(serial, template, rendered.text, rendered.warnings)
    if not isinstance(backend, LocalBackend):
        note = ("token count: not available for a remote model" if backend is not None
                else "token count: load the model to count the prompt's tokens")
        yield replace(outcome, note=note)
        return
    if backend.state != "ready":
        note = ("token count: once the model has loaded" if backend.state == "loading"
                else "token count: load the model to count the prompt's tokens")
        yield replace(outcome, note=note)
        return
    if not engine_lock.acquire(blocking=False):
        yield replace(outcome, note="token count: once the model is free again")
        return
    try:
        preview = backend.preview(to_request(rendered, params))
    except PlaygroundError as exc:
        yield replace(outcome, note=f"token count unavailable: {exc}")
        return
    finally:
        engine_lock.release()
    yield replace(outcome, text=preview.prompt, tokens=preview.tokens, n_ctx=preview.n_ctx,
                  fit_warning=preview.warning)


def models_task() -> Iterator[list[tuple[str, str]]]:
    """(label, model key) of every discovered model and saved endpoint."""
    found = [(f"{m.name} ({m.source})", str(m.path)) for m in discover_models()]
    try:
        endpoints = load_endpoints()
    except PlaygroundError:
        endpoints = {}  # the Models view reports a damaged endpoints file
    found += [(f"{name} (remote)", f"{PREFIX}{name}") for name in endpoints]
    yield found


@dataclass(frozen=True)
class StoredRun:
    """A saved run with everything needed to put it back in the Playground."""

    run_id: int
    template_id: str
    template_source: str
    template: PromptTemplate | None
    library_sources: dict[str, str]
    values: dict[str, Any]
    params: SamplingParams
    model: str
    references: tuple[str, ...]
    output: str
    status: str
    error: str | None
    scores: tuple[Score, ...]
    facts: dict[str, Any]
    logprobs: tuple[TokenLogprob, ...] | None = None


def open_run_task(db_path: Path, run_id: int) -> Iterator[StoredRun]:
    store = Store(db_path)
    try:
        run = store.run(run_id)
        if run.comparison_id is None:
            raise PlaygroundError(f"run {run_id} does not belong to a comparison")
        variants = store.variants(run.comparison_id)
        inputs = store.inputs(run.comparison_id)
        spec = store.comparison(run.comparison_id).to_spec()
    finally:
        store.close()
    variant = next((v for v in variants if v.id == run.variant_id), None)
    if variant is None:
        raise PlaygroundError(f"run {run_id} has no template stored with it")
    input_row = next((i for i in inputs if i.id == run.input_id), None)
    spec_variant = next((v for v in spec.variants if v.name == variant.name), None)
    try:
        template: PromptTemplate | None = parse_template(variant.template_source,
                                                         variant.template_id)
    except PlaygroundError:
        template = None  # shown as stored; the editor marks the problem
    values = {**(input_row.values if input_row else {}), **variant.values}
    params = SamplingParams.from_dict(run.params or variant.params)
    facts = {"completion_tokens": run.completion_tokens, "tokens_per_second":
             run.tokens_per_second, "ttft_s": run.ttft_s, "prompt_tokens": run.prompt_tokens,
             "finish_reason": run.finish_reason, "created_at": run.created_at}
    yield StoredRun(
        run_id=run_id,
        template_id=variant.template_id,
        template_source=variant.template_source,
        template=template,
        library_sources=dict(spec_variant.library_sources) if spec_variant else {},
        values=values,
        params=params,
        model=variant.model,
        references=input_row.references if input_row else (),
        output=run.output or "",
        status=run.status,
        error=run.error,
        scores=run.scores,
        facts=facts,
        logprobs=run.logprobs,
    )


# -- presenting results -------------------------------------------------------------------------


def describe_scores(scores: Sequence[Score]) -> tuple[str, str]:
    """A one-line summary (F-scores, BLEU, chrF) and a tooltip with every number."""
    parts: list[str] = []
    details: list[str] = []
    for score in scores:
        value = "n/a" if score.value is None else f"{score.value:.3f}"
        details.append(f"{score.metric}: {value}" + (f" ({score.reason})" if score.reason else ""))
        if score.metric.endswith(("_p", "_r")):
            continue
        name = score.metric.removesuffix("_f")
        parts.append(f"{name} {value}")
    return " · ".join(parts), "\n".join(details)


def describe_result(result: Result, seed: int | None) -> str:
    parts = [f"{result.completion_tokens} tokens"]
    if result.tokens_per_second is not None:
        parts.append(f"{result.tokens_per_second:.1f} tokens/s")
    if result.ttft_s is not None:
        parts.append(f"first token after {result.ttft_s:.2f} s")
    parts.append(f"prompt {count_text(result.prompt_tokens)} tokens")
    parts.append(f"finished: {_FINISH.get(result.finish_reason, result.finish_reason)}")
    if seed is not None:
        parts.append(f"seed {seed}")
    return " · ".join(parts)


def error_line(message: str, source: str) -> int | None:
    """The line of the template a TemplateError message points at (1-based), if any. Header
    errors count lines from the start of the YAML, so they are moved down to the file's."""
    match = _LINE.search(message)
    if match is None:
        return None
    line = int(match.group(1))
    if "metadata header" in message:
        header = HEADER_PATTERN.match(source)
        if header is not None:
            line += source[: header.start("yaml")].count("\n")
    return line


@dataclass
class _ActiveRun:
    serial: int
    spec: ComparisonSpec
    cancel: CancelToken
    relay: TokenRelay
    random_seed: bool
    worker: Worker | None = None
    done: RunDone | None = None
    comparison_id: int | None = None
    error: str | None = None
    streamed: int = 0


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
        self._run: _ActiveRun | None = None
        #: every run whose task has not ended yet (a replaced run ends in the background)
        self._tasks: dict[int, _ActiveRun] = {}
        self._serial = 0
        self._last: _ActiveRun | None = None
        self._preview_serial = 0
        self._preview_busy = False
        self._preview_dirty = False
        self._loading = False
        self._load_requested = False
        self.error_line: int | None = None

        self._build_widgets()
        self._build_layout()
        self._build_actions()
        self._connect()
        self._restore(context.settings)
        self._refresh_models()
        self._show_model_state()

    # -- construction ------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.picker = TemplatePicker(self.context)

        self.editor = QPlainTextEdit()
        self.editor.setFont(mono)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setPlaceholderText("Choose a template on the left; its source appears here.")
        self.highlighter = JinjaHighlighter(self.editor.document())
        self.editor_message = QLabel()
        self.editor_message.setWordWrap(True)
        self.editor_message.setStyleSheet(ERROR_STYLE)
        self.editor_message.hide()

        self.variables = VariablesForm()
        self.variables_scroll = QScrollArea()
        self.variables_scroll.setWidgetResizable(True)
        self.variables_scroll.setWidget(self.variables)

        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setFont(mono)
        self.preview_tokens_label = QLabel("—")
        self.preview_tokens_label.setWordWrap(True)
        self.preview_warnings = QLabel()
        self.preview_warnings.setWordWrap(True)
        self.preview_warnings.setStyleSheet("color: #e65100;")
        self.preview_warnings.hide()

        self.model_combo = QComboBox()
        self.model_combo.setToolTip("The model runs go to (shared with the Models tab)")
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(18)
        self.model_state = QLabel()
        # A fixed width: a state change must not re-lay out the panel (and repaint its sliders)
        # while a model loads, when every bit of Python in the window waits for the loader.
        self.model_state.setFixedWidth(self.model_state.fontMetrics().horizontalAdvance(
            "not loaded  ") + 8)
        self.load_button = QToolButton()
        self.load_button.setText("Load")
        self.load_button.setToolTip("Load the model now (a run loads it too)")

        self.params = ParamsPanel()
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

        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("The model's output appears here as it is generated.")
        self.token_view = TokenView()
        self.token_view.hide()
        self.scores_label = QLabel()
        self.scores_label.setWordWrap(True)
        self.scores_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel("Ready.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.reference = QPlainTextEdit()
        self.reference.setPlaceholderText(
            "Optional reference output: the run is scored against it (ROUGE, BLEU, chrF). "
            + REFERENCE_HINT
        )

    @staticmethod
    def _titled(title: str, *widgets: QWidget, stretch: int = 0) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        heading = QLabel(f"<b>{title}</b>")
        layout.addWidget(heading)
        for n, widget in enumerate(widgets):
            layout.addWidget(widget, stretch if n == 0 else 0)
        return box

    def _build_layout(self) -> None:
        self.center_splitter = QSplitter(Qt.Orientation.Vertical)
        self.center_splitter.addWidget(self._titled("Template", self.editor, self.editor_message,
                                                    stretch=1))
        self.center_splitter.addWidget(self._titled("Variables", self.variables_scroll,
                                                    stretch=1))
        preview_head = QWidget()
        head = QHBoxLayout(preview_head)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.preview_tokens_label, 1)
        self.center_splitter.addWidget(self._titled("Prompt preview", self.preview, preview_head,
                                                    self.preview_warnings, stretch=1))
        self.center_splitter.setStretchFactor(0, 3)
        self.center_splitter.setStretchFactor(1, 2)
        self.center_splitter.setStretchFactor(2, 2)

        model_row = QHBoxLayout()
        model_row.addWidget(QLabel("Model"))
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.model_state)
        model_row.addWidget(self.load_button)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.stop_button, self.regenerate_button,
                       self.replay_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.live_check)
        buttons.addWidget(self.token_check)
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addLayout(model_row)
        settings_layout.addWidget(self.params)
        settings_layout.addLayout(buttons)
        settings_scroll = QScrollArea()
        settings_scroll.setWidgetResizable(True)
        settings_scroll.setWidget(settings)

        output_box = QWidget()
        output_layout = QVBoxLayout(output_box)
        output_layout.setContentsMargins(0, 0, 0, 0)
        output_layout.setSpacing(2)
        output_layout.addWidget(QLabel("<b>Output</b>"))
        output_layout.addWidget(self.output, 2)
        output_layout.addWidget(self.token_view, 2)
        output_layout.addWidget(self.scores_label)
        output_layout.addWidget(self.status_label)

        self.right_splitter = QSplitter(Qt.Orientation.Vertical)
        self.right_splitter.addWidget(settings_scroll)
        self.right_splitter.addWidget(output_box)
        self.right_splitter.addWidget(self._titled("Reference", self.reference, stretch=1))
        self.right_splitter.setStretchFactor(0, 2)
        self.right_splitter.setStretchFactor(1, 3)
        self.right_splitter.setStretchFactor(2, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.picker)
        self.splitter.addWidget(self.center_splitter)
        self.splitter.addWidget(self.right_splitter)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setStretchFactor(2, 4)
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
        self._replay_id: int | None = None

    def run_actions(self) -> list[QAction]:
        return [self.run_action, self.stop_action, self.regenerate_action, self.replay_action]

    def _set_replayable(self, run_id: int | None) -> None:
        self._replay_id = run_id
        self.replay_action.setEnabled(run_id is not None)

    def replay(self) -> None:
        if self._replay_id is not None:
            ReplayDialog(self.context, self._replay_id, self).show()

    def _connect(self) -> None:
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DEBOUNCE_MS)
        self._preview_timer.timeout.connect(self._start_preview)
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_DEBOUNCE_MS)
        self._live_timer.timeout.connect(self.run)

        self.picker.template_chosen.connect(self._load_template)
        self.editor.textChanged.connect(self._inputs_changed)
        self.variables.values_changed.connect(self._inputs_changed)
        self.variables.references_offered.connect(self._references_offered)
        self.params.changed.connect(self._inputs_changed)
        self.live_check.toggled.connect(self._live_toggled)
        self.token_check.toggled.connect(self._token_view_toggled)
        self.model_combo.activated.connect(self._model_chosen)
        self.load_button.clicked.connect(self._load_model)
        hub = self.context.hub
        hub.current_changed.connect(self._current_model_changed)
        hub.state_changed.connect(self._model_state_changed)
        hub.loaded.connect(self._model_loaded)
        hub.failed.connect(self._model_failed)
        self.context.open_run.connect(self.open_run)

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
        self._library_sources = library.sources()
        with QSignalBlocker(self.editor):
            self.editor.setPlainText(template.source)
        self._set_error(None)
        self.variables.set_template(library, template)
        defaults = template_params(template)
        self.params.set_defaults(defaults)
        current_seed = None if self.params.random_seed.isChecked() else \
            int(self.params.seed_spin.value())
        self.params.set_params(replace(defaults, seed=current_seed))
        self._inputs_changed()

    @property
    def template_id(self) -> str | None:
        return self._template_key[1] if self._template_key else None

    # -- preview -----------------------------------------------------------------------------

    def _inputs_changed(self, *_: object) -> None:
        self._preview_timer.start()
        if self.live_check.isChecked() and not self._loading and self._template_key:
            self._live_timer.start()

    @property
    def preview_pending(self) -> bool:
        """Whether a preview is waiting for its debounce or being rendered."""
        return self._preview_timer.isActive() or self._preview_busy

    def _start_preview(self) -> None:
        if self._template_key is None:
            return
        if self._preview_busy:
            self._preview_dirty = True
            return
        self._preview_busy = True
        self._preview_dirty = False
        self._preview_serial += 1
        hub = self.context.hub
        backend = hub.backend(hub.current) if hub.current else None
        loaded = hub.loaded_model(hub.current) if hub.current else None
        try:
            params = self.params.params()
        except SamplingError:
            params = SamplingParams()
        self.context.tasks.start(
            preview_task,
            self._preview_serial,
            self.editor.toPlainText(),
            self._template_key[1],
            self.variables.values(),
            dict(self._library_sources),
            params,
            backend,
            loaded.special_tokens if loaded is not None else (),
            hub.engine_lock,
            on_event=self._show_preview,
            on_error=self._preview_failed,
            on_done=self._preview_done,
        )

    def _preview_done(self) -> None:
        self._preview_busy = False
        if self._preview_dirty:
            self._start_preview()

    def _preview_failed(self, message: str) -> None:
        self.preview_tokens_label.setText(f"Preview failed: {message}")

    def _show_preview(self, outcome: PreviewOutcome) -> None:
        if outcome.serial != self._preview_serial or self._preview_dirty:
            return  # the template or values changed since: a newer preview follows
        if outcome.error is not None:
            self._set_error(outcome.error)
            self.preview_tokens_label.setText("The template cannot be rendered (see above).")
            self.preview_tokens_label.setStyleSheet(ERROR_STYLE)
            if outcome.template is not None:
                self._adopt_edited_template(outcome.template)
            return
        self._set_error(None)
        self.preview.setPlainText(outcome.text)
        if outcome.tokens is not None and outcome.n_ctx is not None:
            text = f"{outcome.tokens:,} / {outcome.n_ctx:,} tokens"
            if outcome.fit_warning:
                text += f" — does not fit: {outcome.fit_warning}"
            self.preview_tokens_label.setText(text)
            self.preview_tokens_label.setStyleSheet(ERROR_STYLE if outcome.fit_warning else "")
        else:
            self.preview_tokens_label.setText(
                f"Rendered template ({len(outcome.text):,} characters); {outcome.note}")
            self.preview_tokens_label.setStyleSheet("")
        self.preview_warnings.setText("\n".join(f"⚠ {w}" for w in outcome.warnings))
        self.preview_warnings.setVisible(bool(outcome.warnings))
        if outcome.template is not None:
            self._adopt_edited_template(outcome.template)

    def _adopt_edited_template(self, template: PromptTemplate) -> None:
        """An edit that adds, removes or retypes variables rebuilds the form (keeping what
        was typed); a changed header changes what the reset buttons go back to."""
        shown = self.variables.template
        if shown is None or shown.meta.variables != template.meta.variables:
            self.variables.set_template(self._library, template, keep=True)
        defaults = template_params(template)
        if defaults != self.params.defaults():
            self.params.set_defaults(defaults)

    def _set_error(self, message: str | None) -> None:
        """Show a template error under the editor and underline the line it names."""
        self.editor_message.setText(message or "")
        self.editor_message.setVisible(message is not None)
        line = error_line(message, self.editor.toPlainText()) if message else None
        self.error_line = line
        selections: list[QTextEdit.ExtraSelection] = []
        block = self.editor.document().findBlockByNumber(line - 1) if line else None
        if block is not None and block.isValid():
            whole = QTextEdit.ExtraSelection()
            whole.format.setBackground(QColor("#fdecea"))
            whole.format.setProperty(QTextCharFormat.Property.FullWidthSelection, True)
            whole.cursor = QTextCursor(block)
            wave = QTextEdit.ExtraSelection()
            wave.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            wave.format.setUnderlineColor(QColor("#c62828"))
            wave.format.setToolTip(message or "")
            cursor = QTextCursor(block)
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock,
                                QTextCursor.MoveMode.KeepAnchor)
            wave.cursor = cursor
            selections = [whole, wave]
        self.editor.setExtraSelections(selections)

    # -- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._run is not None

    def run(self) -> None:
        """Run the template as shown; a run in flight is cancelled first."""
        self._start(regenerate=False)

    def regenerate(self) -> None:
        """The last run's prompt again (not the edits since): a new seed when the seed is
        random, the fixed seed otherwise."""
        self._start(regenerate=True)

    def stop(self) -> None:
        run = self._run
        if run is None:
            return
        run.cancel.cancel()
        if run.worker is not None:
            run.worker.quit()
        self.status_label.setText("Stopping…")

    def _start(self, *, regenerate: bool) -> None:
        self._live_timer.stop()
        self._abandon_current()
        try:
            if regenerate and self._last is not None:
                spec, random_seed = self._respec(self._last)
            else:
                spec, random_seed = self._build_spec()
        except PlaygroundError as exc:
            self._fail_status(str(exc))
            self.run_finished.emit(None)
            return
        self._serial += 1
        self._set_replayable(None)
        relay = TokenRelay()
        run = _ActiveRun(self._serial, spec, CancelToken(), relay, random_seed)
        relay.token.connect(functools.partial(self._on_token, run.serial))
        self._run = run
        self._tasks[run.serial] = run
        self.output.clear()
        self.token_view.clear()
        self.scores_label.clear()
        self.scores_label.setToolTip("")
        self._set_status("Waiting for the model…", error=False)
        self.stop_action.setEnabled(True)
        run.worker = self.context.tasks.start(
            comparison_job, self.context, spec, run.cancel, relay,
            on_event=functools.partial(self._on_run_event, run.serial),
            on_error=functools.partial(self._on_run_error, run.serial),
            on_done=functools.partial(self._on_run_done, run.serial),
        )

    def _abandon_current(self) -> None:
        """Cancel the run in flight without reporting it: a new one replaces it."""
        run = self._run
        if run is None:
            return
        self._run = None
        run.cancel.cancel()
        if run.worker is not None:
            run.worker.quit()

    def _build_spec(self) -> tuple[ComparisonSpec, bool]:
        if self._template_key is None or not self.editor.toPlainText().strip():
            raise PlaygroundError("choose a template first")
        model = self.context.hub.current
        if not model:
            raise PlaygroundError("no model is chosen; add one in the Models tab")
        params = self.params.params()
        random_seed = params.seed is None
        seed = self.params.new_seed() if random_seed else params.seed
        assert seed is not None
        template_id = self._template_key[1]
        variant = Variant(
            name=template_id,
            template_id=template_id,
            template_source=self.editor.toPlainText(),
            params=replace(params, seed=seed),
            model=model,
            values=self.variables.values(),
            library_sources=dict(self._library_sources),
        )
        references = split_references(self.reference.toPlainText())
        spec = ComparisonSpec(
            name=f"Playground: {template_id}",
            variants=(variant,),
            inputs=(Input("input", {}, references),),
            samples=1,
            base_seed=seed,
            metrics=(*DEFAULT_METRICS, "confidence"),
            logprobs=TOKEN_VIEW_ALTERNATIVES if self.token_check.isChecked() else None,
        )
        return spec, random_seed

    def _respec(self, last: _ActiveRun) -> tuple[ComparisonSpec, bool]:
        """The last run's spec with the seed as the panel says now: a fresh one when "random"
        is on, the fixed seed otherwise."""
        spec = last.spec
        logprobs = TOKEN_VIEW_ALTERNATIVES if self.token_check.isChecked() else None
        random_seed = self.params.random_seed.isChecked()
        seed = self.params.new_seed() if random_seed else int(self.params.seed_spin.value())
        variants = tuple(replace(v, params=replace(v.params, seed=seed)) for v in spec.variants)
        return replace(spec, variants=variants, base_seed=seed, logprobs=logprobs), random_seed

    def _on_token(self, serial: int, _planned: object, token: Token) -> None:
        run = self._run
        if run is None or run.serial != serial:
            return
        if run.streamed == 0:
            self._set_status("Generating…", error=False)
        run.streamed += 1
        cursor = QTextCursor(self.output.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(token.text)
        bar = self.output.verticalScrollBar()
        bar.setValue(bar.maximum())
        if token.logprob is not None and self.token_check.isChecked():
            self.token_view.append(token.logprob)

    def _on_run_event(self, serial: int, event: object) -> None:
        run = self._run
        if run is None or run.serial != serial:
            return
        if isinstance(event, ComparisonStarted):
            run.comparison_id = event.comparison_id
        elif isinstance(event, RunDone):
            run.done = event
            self._show_done(run, event)

    def _on_run_error(self, serial: int, message: str) -> None:
        run = self._run
        if run is None or run.serial != serial:
            return
        run.error = message
        self._mark_template_error(message)
        self._fail_status(message)

    def _mark_template_error(self, message: str) -> None:
        """A failure the template caused (its messages start with the template's id) is
        marked in the editor too."""
        template_id = self.template_id
        if template_id and message.startswith(f"{template_id}:"):
            self._set_error(message)

    def _on_run_done(self, serial: int) -> None:
        finished = self._tasks.pop(serial, None)
        if finished is not None and finished.comparison_id is not None:
            self.context.history_changed.emit()
        run = self._run
        if run is not None and run.serial == serial:
            self._run = None
            self.stop_action.setEnabled(False)
            if run.done is None and run.error is None:
                self._set_status(
                    "Stopped; the output so far is kept." if run.streamed else "Stopped.",
                    error=False,
                )
            if run.done is not None:
                self._last = run
            self.run_finished.emit(run.done)
            self._preview_timer.start()  # the token count may have waited for the model

    def _show_done(self, run: _ActiveRun, done: RunDone) -> None:
        result = done.result
        if result is not None:
            # What streamed is normally the result already; redrawing 300 tokens would only
            # cost the window a pause at the end of every run.
            if self.output.toPlainText() != result.text:
                self.output.setPlainText(result.text)
            if result.logprobs and not self.token_view.shows(result.logprobs):
                self.token_view.set_tokens(result.logprobs)
        if done.status == "failed":
            message = done.error or (result.error if result else None) or "the run failed"
            if result is None:
                self._mark_template_error(message)
            self._fail_status(f"Failed: {message}")
        elif result is not None:
            saved = f" · saved as run {done.run_id}" if done.run_id is not None else ""
            self._set_replayable(done.run_id)
            mean = next((s.value for s in done.scores if s.metric == "mean_logprob"), None)
            flag = confidence_flag(mean, confidence_threshold(self.context.settings))
            confidence = flag or ("" if mean is None else f"mean log-prob {mean:.2f}")
            self._set_status(describe_result(result, done.planned.seed)
                             + (f" · {confidence}" if confidence else "") + saved, error=False)
        if done.scores:
            summary, details = describe_scores(done.scores)
            self.scores_label.setText(f"Scores: {summary}")
            self.scores_label.setToolTip(details)
        elif done.planned.input.references:
            self.scores_label.setText("No scores (the output is empty or the run failed).")
        else:
            self.scores_label.setText("Type a reference below to score the output.")

    def _set_status(self, text: str, *, error: bool) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")

    def _fail_status(self, message: str) -> None:
        self._set_status(message, error=True)

    # -- toggles -----------------------------------------------------------------------------

    def _live_toggled(self, on: bool) -> None:
        if on and self._template_key is not None:
            self._live_timer.start()
        elif not on:
            self._live_timer.stop()

    def _token_view_toggled(self, on: bool) -> None:
        self.token_view.setVisible(on)
        if on and self._last is not None and self._last.done is not None:
            result = self._last.done.result
            if result is not None and result.logprobs:
                self.token_view.set_tokens(result.logprobs)
            elif not self.token_view.tokens:
                self.token_view.text.setPlainText(
                    "Run again to see the tokens: they are recorded while the token view is on.")

    def _references_offered(self, references: tuple[str, ...]) -> None:
        self.reference.setPlainText(join_references(references))

    # -- models --------------------------------------------------------------------------------

    @staticmethod
    def _model_label(key: str) -> str:
        if is_remote(key):
            return f"{key[len(PREFIX):]} (remote)"
        return Path(key).stem if key else "(no model)"

    def _refresh_models(self) -> None:
        self.context.tasks.start(models_task, on_event=self._fill_models)

    def _fill_models(self, models: list[tuple[str, str]]) -> None:
        with QSignalBlocker(self.model_combo):
            self.model_combo.clear()
            for label, key in models:
                self.model_combo.addItem(label, key)
                self.model_combo.setItemData(self.model_combo.count() - 1, key,
                                             Qt.ItemDataRole.ToolTipRole)
        self._select_model(self.context.hub.current)

    def _select_model(self, key: str) -> None:
        with QSignalBlocker(self.model_combo):
            index = self.model_combo.findData(key)
            if index < 0 and key:
                self.model_combo.addItem(self._model_label(key), key)
                index = self.model_combo.count() - 1
            self.model_combo.setCurrentIndex(index)

    def _model_chosen(self, index: int) -> None:
        key = self.model_combo.itemData(index)
        if isinstance(key, str):
            self.context.hub.set_current(key)

    def _current_model_changed(self, key: str) -> None:
        self._select_model(key)
        self._show_model_state()
        self._preview_timer.start()

    def _model_state_changed(self, key: str, _state: str) -> None:
        if key == self.context.hub.current:
            self._show_model_state()
            self._preview_timer.start()

    def _model_loaded(self, key: str, _loaded: object) -> None:
        self._load_requested = False
        self._model_state_changed(key, "ready")

    def _show_model_state(self) -> None:
        hub = self.context.hub
        state = hub.state(hub.current) if hub.current else "unloaded"
        shown = {"unloaded": "not loaded", "loading": "loading…", "ready": "ready",
                 "crashed": "crashed"}.get(state, state)
        if is_remote(hub.current):
            shown = "remote"
        self.model_state.setText(shown)
        self.load_button.setEnabled(state in ("unloaded", "crashed")
                                    and not is_remote(hub.current) and bool(hub.current))
        self.load_button.setText("Restart" if state == "crashed" else "Load")

    def _load_model(self) -> None:
        hub = self.context.hub
        if hub.current:
            self._load_requested = True
            hub.load(hub.current, restart=hub.state(hub.current) == "crashed")
            self.model_state.setText("loading…")
            self.load_button.setEnabled(False)

    def _model_failed(self, key: str, message: str) -> None:
        if key != self.context.hub.current:
            return
        self._show_model_state()
        self.model_state.setToolTip(message)
        if self._load_requested:
            self._fail_status(f"The model could not be loaded: {message}")
        self._load_requested = False

    # -- opening a stored run ------------------------------------------------------------------

    def open_run(self, run_id: int) -> None:
        """Put a saved run back: its template source, values, settings, output, reference."""
        self._set_status(f"Opening run {run_id}…", error=False)
        self.context.tasks.start(
            open_run_task, self.context.db_path, run_id,
            on_event=self._show_stored_run,
            on_error=lambda message: self._fail_status(f"Run {run_id} cannot be opened: "
                                                       f"{message}"),
        )

    def _show_stored_run(self, stored: StoredRun) -> None:
        self._abandon_current()
        self.stop_action.setEnabled(False)
        self._loading = True
        try:
            library = self._library_of(stored.template_id)
            if library is not None:
                self.select_template(library.name, stored.template_id)
            else:
                self.picker.clear_choice()
                self._library = None
            self._template_key = (library.name if library else None, stored.template_id)
            self._library_sources = stored.library_sources or (
                library.sources() if library else {})
            with QSignalBlocker(self.editor):
                self.editor.setPlainText(stored.template_source)
            if stored.template is not None:
                self.variables.set_template(library, stored.template, stored.values)
                self.params.set_defaults(template_params(stored.template))
            else:
                # The stored source no longer parses (the editor marks why); the form follows
                # once it is fixed.
                self.variables.set_template(library, PromptTemplate(
                    stored.template_id, stored.template_source,
                    TemplateMeta(stored.template_id), ""))
            self.params.set_params(stored.params)
            self.output.setPlainText(stored.output)
            self.token_view.clear()
            if stored.logprobs:
                self.token_view.set_tokens(stored.logprobs)
            self.reference.setPlainText(join_references(stored.references))
            summary, details = describe_scores(stored.scores)
            self.scores_label.setText(f"Scores: {summary}" if summary else "")
            self.scores_label.setToolTip(details)
            self._set_status(self._stored_status(stored), error=stored.status == "failed")
            self._set_replayable(stored.run_id)
        finally:
            self._loading = False
        self._preview_timer.start()

    def _library_of(self, template_id: str) -> Library | None:
        try:
            library, _ = self.context.collection().find(template_id)
        except PlaygroundError:
            return None
        return library

    @staticmethod
    def _stored_status(stored: StoredRun) -> str:
        facts = stored.facts
        parts = [f"Run {stored.run_id} of {facts.get('created_at') or 'earlier'}",
                 f"model {PlaygroundView._model_label(stored.model)}"]
        if stored.status == "failed":
            parts.append(f"failed: {stored.error or 'no reason recorded'}")
        elif facts.get("completion_tokens") is not None:
            parts.append(f"{facts['completion_tokens']} tokens")
            parts.append(f"prompt {count_text(facts.get('prompt_tokens'))} tokens")
            if facts.get("tokens_per_second"):
                parts.append(f"{facts['tokens_per_second']:.1f} tokens/s")
            if facts.get("finish_reason"):
                reason = str(facts["finish_reason"])
                parts.append(f"finished: {_FINISH.get(reason, reason)}")
        if stored.params.seed is not None:
            parts.append(f"seed {stored.params.seed}")
        return " · ".join(parts)

    # -- settings --------------------------------------------------------------------------------

    def save_settings(self, settings: QSettings) -> None:
        settings.beginGroup("playground")
        try:
            key = self.picker.current()
            settings.setValue("template_library", key[0] if key else "")
            settings.setValue("template_id", key[1] if key else "")
            # Invalid settings are not worth keeping; the last good ones stay.
            with contextlib.suppress(SamplingError):
                settings.setValue("params", json.dumps(self.params.params().to_dict()))
            settings.setValue("seed", int(self.params.seed_spin.value()))
            settings.setValue("live", self.live_check.isChecked())
            settings.setValue("token_view", self.token_check.isChecked())
            settings.setValue("splitter", self.splitter.saveState())
            settings.setValue("center_splitter", self.center_splitter.saveState())
            settings.setValue("right_splitter", self.right_splitter.saveState())
        finally:
            settings.endGroup()
        settings.setValue("models/current", self.context.hub.current)

    def _restore(self, settings: QSettings) -> None:
        self._loading = True
        try:
            model = settings.value("models/current", "", type=str)
            if isinstance(model, str) and model and self._model_exists(model):
                self.context.hub.set_current(model)
            settings.beginGroup("playground")
            try:
                self._restore_view(settings)
            finally:
                settings.endGroup()
        finally:
            self._loading = False

    def _restore_view(self, settings: QSettings) -> None:
        for name, splitter in (("splitter", self.splitter),
                               ("center_splitter", self.center_splitter),
                               ("right_splitter", self.right_splitter)):
            state = settings.value(name)
            if isinstance(state, QByteArray):
                splitter.restoreState(state)
        library = settings.value("template_library", "", type=str)
        template_id = settings.value("template_id", "", type=str)
        if isinstance(library, str) and isinstance(template_id, str) and template_id:
            self.select_template(library, template_id)
        raw = settings.value("params", "", type=str)
        if isinstance(raw, str) and raw:
            # Settings from an older version: the template's own settings stay.
            with contextlib.suppress(ValueError, TypeError, PlaygroundError):
                self.params.set_params(SamplingParams.from_dict(json.loads(raw)))
        seed = settings.value("seed", 0, type=int)
        if isinstance(seed, int) and self.params.random_seed.isChecked():
            with QSignalBlocker(self.params.seed_spin):
                self.params.seed_spin.setValue(seed)
        self.token_check.setChecked(bool(settings.value("token_view", False, type=bool)))
        self.live_check.setChecked(bool(settings.value("live", False, type=bool)))

    @staticmethod
    def _model_exists(key: str) -> bool:
        if is_remote(key):
            try:
                return key[len(PREFIX):] in load_endpoints()
            except PlaygroundError:
                return False
        return Path(key).is_file()
