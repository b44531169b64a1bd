"""One column of the Compare tab: a variant (name, template, values, sampling settings, model)
above its output and scores.

The column knows how to turn its editors into a :class:`~playground.comparison.Variant` and how
to show results handed to it; running, routing and statistics belong to the view.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QSearchableComboBox

from playground.comparison import Variant
from playground.errors import PlaygroundError, TemplateError
from playground.evaluation.report import LOW_CONFIDENCE, ReportRun
from playground.evaluation.stats import Estimate
from playground.prompts.collection import Collection
from playground.prompts.templates import PromptTemplate, parse_template
from playground.runs.build import build_variant, variant_from_template
from playground.sampling import SamplingParams
from ui.views.compare.score_grid import ScoreGrid
from ui.views.compare.variable_form import VariableForm
from ui.widgets.references import confidence_flag

#: Sampling settings each column edits: (key, short label, minimum, maximum, step, decimals);
#: decimals 0 means a whole number. The comparison's seed is shared by every column (the
#: runner gives sample k of every variant the same seed, so that columns differ only by their
#: setup), so it is edited once for the whole comparison, not per column.
PARAM_EDITORS: tuple[tuple[str, str, float, float, float, int], ...] = (
    ("temperature", "temp", 0.0, 5.0, 0.1, 2),
    ("top_k", "top-k", 0, 100_000, 1, 0),
    ("top_p", "top-p", 0.0, 1.0, 0.05, 2),
    ("min_p", "min-p", 0.0, 1.0, 0.01, 2),
    ("repeat_penalty", "repeat", 0.0, 10.0, 0.05, 2),
    ("max_tokens", "max tok", 1, 32_768, 1, 0),
)

STORED_PREFIX = "stored:"


def template_key(library_name: str, template_id: str) -> str:
    return f"{library_name}/{template_id}"


@dataclass(frozen=True)
class _StoredTemplate:
    template_id: str
    source: str
    library_sources: Mapping[str, str]
    values: Mapping[str, Any]


@dataclass(frozen=True)
class ColumnSetup:
    """What a column remembers between sessions."""

    name: str
    template: str
    values: Mapping[str, Any]
    params: Mapping[str, Any]
    model: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "template": self.template, "values": dict(self.values),
                "params": dict(self.params), "model": self.model}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSetup:
        return cls(str(data.get("name", "")), str(data.get("template", "")),
                   dict(data.get("values") or {}), dict(data.get("params") or {}),
                   str(data.get("model", "")))


class CompareColumn(QFrame):
    """A variant's editors, then its streamed output, its samples and its scores."""

    remove_requested = Signal(object)
    #: the template changed (the view recomputes which variables the shared input fills)
    template_changed = Signal()

    def __init__(self, collection: Collection, models: Sequence[tuple[str, str]],
                 current_model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(240)
        self._collection = collection
        # Templates only a stored comparison has (changed or removed from the libraries since)
        self._stored: dict[str, _StoredTemplate] = {}
        self._runs: dict[tuple[str, int], ReportRun] = {}
        self.confidence_threshold = LOW_CONFIDENCE
        self._streaming: tuple[str, int] | None = None
        # A reopened variant's full settings (stop sequences, penalties the column does not
        # edit), kept until another template is chosen.
        self._base_params: dict[str, Any] | None = None
        self.params: dict[str, QSpinBox | QDoubleSpinBox] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(self._build_header())
        self.template_combo = QSearchableComboBox()
        self.template_combo.setToolTip("Template (Library / id); type to search")
        self.template_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.template_combo.setMinimumContentsLength(12)
        layout.addWidget(self.template_combo)
        self.values_box = VariableForm()
        layout.addWidget(self.values_box)
        layout.addLayout(self._build_params())
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("Model: a local GGUF file or a saved remote endpoint")
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        layout.addWidget(self.model_combo)
        self.scores = ScoreGrid()
        layout.addWidget(self.scores)
        layout.addLayout(self._build_output(), 1)

        self._fill_templates()
        self.template_combo.currentIndexChanged.connect(self._on_template_index)
        self.set_model_choices(models)
        self.set_model(current_model)
        self._on_template_index()

    # -- construction -----------------------------------------------------------------------

    def _build_header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Variant name")
        self.name_edit.setToolTip("The variant's name (each column needs its own)")
        bold = QFont(self.name_edit.font())
        bold.setBold(True)
        self.name_edit.setFont(bold)
        row.addWidget(self.name_edit, 1)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this column")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))
        row.addWidget(self.remove_button)
        return row

    def _build_params(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        for n, (key, label, lo, hi, step, decimals) in enumerate(PARAM_EDITORS):
            editor: QSpinBox | QDoubleSpinBox
            if decimals == 0:
                spin = QSpinBox()
                spin.setRange(int(lo), int(hi))
                spin.setSingleStep(int(step))
                editor = spin
            else:
                dspin = QDoubleSpinBox()
                dspin.setRange(lo, hi)
                dspin.setSingleStep(step)
                dspin.setDecimals(decimals)
                editor = dspin
            editor.setToolTip(key.replace("_", " "))
            editor.setAccessibleName(key)
            editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self.params[key] = editor
            caption = QLabel(label)
            caption.setBuddy(editor)
            grid.addWidget(caption, n // 2, (n % 2) * 2)
            grid.addWidget(editor, n // 2, (n % 2) * 2 + 1)
        return grid

    def _build_output(self) -> QVBoxLayout:
        box = QVBoxLayout()
        row = QHBoxLayout()
        self.status_label = QLabel("")
        self.status_label.setStyleSheet("color: palette(mid);")
        row.addWidget(self.status_label, 1)
        self.sample_combo = QComboBox()
        self.sample_combo.setToolTip("Which output to show (samples, and rows of a dataset)")
        self.sample_combo.setVisible(False)
        self.sample_combo.currentIndexChanged.connect(self._show_selected)
        row.addWidget(self.sample_combo)
        box.addLayout(row)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setVisible(False)
        box.addWidget(self.error_label)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("Output appears here")
        self.output.setMinimumHeight(90)
        box.addWidget(self.output, 1)
        return box

    # -- templates and values ----------------------------------------------------------------

    def _fill_templates(self) -> None:
        combo: QComboBox = self.template_combo
        combo.blockSignals(True)
        combo.clear()
        # QComboBox's own addItem: the searchable combo's override is untyped, and the search
        # only needs the model set once, below.
        for library, template in self._collection.templates():
            QComboBox.addItem(combo, f"{library.name} / {template.id}",
                              template_key(library.name, template.id))
        for key, stored in self._stored.items():
            QComboBox.addItem(combo, f"stored / {stored.template_id}", key)
        self.template_combo.completer_object.setModel(combo.model())
        combo.blockSignals(False)

    def set_collection(self, collection: Collection) -> None:
        """The libraries changed: list them again, keeping the chosen template if it remains."""
        key = self.template_key()
        self._collection = collection
        values = self.values()
        self._fill_templates()
        index = self.template_combo.findData(key)
        self.template_combo.setCurrentIndex(max(index, 0))
        self._on_template_index(keep_params=True)
        self._set_values(values)

    def template_key(self) -> str:
        data = self.template_combo.currentData()
        return str(data) if data is not None else ""

    def set_template(self, template_id: str) -> bool:
        """Choose a template by ``id`` or ``Library/id``; False when no library has it."""
        index = self.template_combo.findData(template_id)
        if index < 0:
            for i in range(self.template_combo.count()):
                data = str(self.template_combo.itemData(i))
                if not data.startswith(STORED_PREFIX) and data.rpartition("/")[2] == template_id:
                    index = i
                    break
        if index < 0:
            return False
        if index == self.template_combo.currentIndex():
            self._on_template_index()
        else:
            self.template_combo.setCurrentIndex(index)
        return True

    def template(self) -> PromptTemplate | None:
        key = self.template_key()
        try:
            if key in self._stored:
                stored = self._stored[key]
                return parse_template(stored.source, stored.template_id)
            return self._collection.find(key)[1] if key else None
        except PlaygroundError:
            return None

    def _on_template_index(self, *_: object, keep_params: bool = False) -> None:
        template = self.template()
        self._base_params = None
        self.values_box.build(template)
        if template is not None and not keep_params:
            self.set_params({**SamplingParams().to_dict(), **template.meta.params})
        if template is not None and not self.name_edit.text().strip():
            self.name_edit.setText(template.id)
        self.template_changed.emit()

    @property
    def variable_editors(self) -> dict[str, QWidget]:
        return self.values_box.editors

    def set_provided(self, names: set[str]) -> None:
        """Variables a dataset fills for every row: their editors are disabled (ignored)."""
        self.values_box.set_provided(names)

    def values(self) -> dict[str, Any]:
        """The column's own variable values (text left empty falls back to the template)."""
        return self.values_box.values()

    def _set_values(self, values: Mapping[str, Any]) -> None:
        self.values_box.set_values(values)

    # -- sampling settings --------------------------------------------------------------------

    def set_params(self, params: Mapping[str, Any]) -> None:
        for key, editor in self.params.items():
            value = params.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if isinstance(editor, QSpinBox):
                editor.setValue(int(value))
            elif isinstance(editor, QDoubleSpinBox):
                editor.setValue(float(value))

    def param_values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, editor in self.params.items():
            if isinstance(editor, QSpinBox):
                out[key] = editor.value()
            elif isinstance(editor, QDoubleSpinBox):
                out[key] = round(editor.value(), editor.decimals())
        return out

    # -- models -------------------------------------------------------------------------------

    def set_model_choices(self, models: Sequence[tuple[str, str]]) -> None:
        """(label, key) pairs; the chosen model stays chosen even when it is not listed."""
        keep = self.model()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for label, key in models:
            self.model_combo.addItem(label, key)
        self.model_combo.blockSignals(False)
        if keep:
            self.set_model(keep)

    def set_model(self, key: str) -> None:
        index = self.model_combo.findData(key)
        if index < 0:
            label = key if key.startswith("remote:") or not key else Path(key).stem
            self.model_combo.addItem(label or "(default model)", key)
            index = self.model_combo.count() - 1
        self.model_combo.setCurrentIndex(index)
        self.model_combo.setToolTip(key or "the default model")

    def model(self) -> str:
        data = self.model_combo.currentData()
        return str(data) if data is not None else ""

    # -- setup as data ------------------------------------------------------------------------

    def setup(self) -> ColumnSetup:
        return ColumnSetup(self.name_edit.text().strip(), self.template_key(), self.values(),
                           self.param_values(), self.model())

    def apply_setup(self, setup: ColumnSetup) -> None:
        if setup.template:
            self.set_template(setup.template)
        self.name_edit.setText(setup.name)
        self._set_values(setup.values)
        self.set_params(setup.params)
        if setup.model:
            self.set_model(setup.model)

    def variant(self) -> Variant:
        """The column as a comparison variant; raises PlaygroundError with a readable reason."""
        name = self.name_edit.text().strip()
        if not name:
            raise PlaygroundError("the column needs a name")
        key = self.template_key()
        if key in self._stored:
            stored = self._stored[key]
            template = parse_template(stored.source, stored.template_id)  # names the error
            return variant_from_template(
                template, name=name, model=self.model(), params=self.param_values(),
                values={**stored.values, **self.values()},
                library_sources=stored.library_sources, base_params=self._base_params)
        if not key:
            raise TemplateError("choose a template")
        return build_variant(self._collection, key, name=name, model=self.model(),
                             params=self.param_values(), values=self.values(),
                             base_params=self._base_params)

    def load_variant(self, variant: Variant) -> None:
        """Show a stored variant: its library template when the source is unchanged, else the
        stored source itself (listed as ``stored / id``)."""
        chosen = None
        for library, template in self._collection.templates():
            if template.id == variant.template_id and template.source == variant.template_source:
                chosen = template_key(library.name, template.id)
                break
        if chosen is None:
            chosen = f"{STORED_PREFIX}{variant.template_id}:{len(self._stored)}"
            self._stored[chosen] = _StoredTemplate(
                variant.template_id, variant.template_source, dict(variant.library_sources),
                dict(variant.values))
            self._fill_templates()
        self.name_edit.setText(variant.name)
        index = self.template_combo.findData(chosen)
        self.template_combo.setCurrentIndex(index)
        self._on_template_index()
        self._set_values(variant.values)
        self.set_params(variant.params.to_dict())
        self._base_params = variant.params.to_dict()
        self.set_model(variant.model)
        self.name_edit.setText(variant.name)

    def set_editing_enabled(self, enabled: bool) -> None:
        for widget in (self.name_edit, self.template_combo, self.values_box, self.model_combo,
                       self.remove_button, *self.params.values()):
            widget.setEnabled(enabled)

    # -- results ------------------------------------------------------------------------------

    def clear_results(self) -> None:
        self._runs.clear()
        self._streaming = None
        self.output.clear()
        self.error_label.clear()
        self.error_label.setVisible(False)
        self.status_label.clear()
        self.sample_combo.blockSignals(True)
        self.sample_combo.clear()
        self.sample_combo.blockSignals(False)
        self.sample_combo.setVisible(False)
        self.show_scores({}, spread=False)
        self.set_best(set())

    def show_build_error(self, message: str) -> None:
        self.clear_results()
        self.show_error(message)

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)

    def stream(self, input_id: str, sample: int, text: str, label: str) -> None:
        """A streamed token of the run in flight; a new run starts a fresh output."""
        if self._streaming != (input_id, sample):
            self._streaming = (input_id, sample)
            self.output.clear()
            self.status_label.setText(f"generating {label}…")
        cursor = self.output.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)

    def add_result(self, run: ReportRun, label: str, *, select: bool = True) -> None:
        """A finished run: listed in the selector and, with ``select``, shown; a failed run
        shows its error in red."""
        key = (run.input_id, run.sample)
        new = key not in self._runs
        self._runs[key] = run
        self._streaming = None
        if new:
            self.sample_combo.addItem(label, key)  # the first item selects (and shows) itself
        self.sample_combo.setVisible(self.sample_combo.count() > 1)
        index = self.sample_combo.findData(key)
        if select and self.sample_combo.currentIndex() != index:
            self.sample_combo.setCurrentIndex(index)
        elif self.sample_combo.currentIndex() == index:
            self._show_selected()

    def set_confidence_threshold(self, threshold: float) -> None:
        self.confidence_threshold = threshold
        self._show_selected()

    def outputs(self) -> list[tuple[str, str]]:
        """(label, output) of every finished run, in selector order."""
        out = []
        for i in range(self.sample_combo.count()):
            run = self._runs.get(self.sample_combo.itemData(i))
            if run is not None:
                out.append((self.sample_combo.itemText(i), run.output))
        return out

    def current_output(self) -> str:
        run = self._runs.get(self.sample_combo.currentData())
        return run.output if run is not None else self.output.toPlainText()

    def _show_selected(self, *_: object) -> None:
        run = self._runs.get(self.sample_combo.currentData())
        if run is None:
            return
        self.output.setPlainText(run.output)
        failed = sum(r.status == "failed" for r in self._runs.values())
        if run.status == "ok":
            self.error_label.setVisible(False)
            speed = f" · {run.tokens_per_second:.0f} tok/s" if run.tokens_per_second else ""
            flag = confidence_flag(run.scores.get("mean_logprob"), self.confidence_threshold)
            self.status_label.setText(f"{self.sample_combo.currentText()}{speed}"
                                      + (f" · {flag}" if flag else ""))
        else:
            self.show_error(run.error or run.status)
            self.status_label.setText(f"{self.sample_combo.currentText()}: {run.status}")
        if failed and run.status == "ok":
            self.show_error(f"{failed} of {len(self._runs)} runs failed")

    # -- scores -------------------------------------------------------------------------------

    @property
    def score_labels(self) -> dict[str, QLabel]:
        return self.scores.labels

    def set_metrics(self, metrics: Sequence[str]) -> None:
        self.scores.set_metrics(metrics)

    def show_scores(self, estimates: Mapping[str, Estimate | None], *, spread: bool) -> None:
        self.scores.show_scores(estimates, spread=spread)

    def set_best(self, metrics: set[str] | frozenset[str],
                 tied: set[str] | frozenset[str] | None = None) -> None:
        self.scores.set_best(metrics, tied)

    def is_best(self, metric: str) -> bool:
        return self.scores.is_best(metric)

    def is_tied(self, metric: str) -> bool:
        return self.scores.is_tied(metric)


def score_value(text: str) -> float | None:
    """The number a score label shows (what a reader compares), None for N/A."""
    match = re.search(r"-?\d+(?:\.\d+)?", text)
    return float(match.group()) if match else None
