"""A variant's full settings (name, template, its own values, sampling settings, model, output
format) and how
they turn into a :class:`~playground.comparison.Variant`, a :class:`ColumnSetup` and back.

The editor owns its widgets but does not place the name: the compact header shows the name on
its first line and this form under it only while the variant is being edited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from superqt import QSearchableComboBox

from playground.comparison import Variant
from playground.engine.models import model_display_name
from playground.errors import PlaygroundError, TemplateError
from playground.prompts.collection import Collection
from playground.prompts.templates import PromptTemplate, parse_template
from playground.runs.build import build_variant, variant_from_template
from playground.sampling import HIGHEST_TEMPERATURE, USUAL_MAX_TEMPERATURE, SamplingParams
from ui.views.compare.variable_form import VariableForm
from ui.widgets.output_format import OutputFormat

#: Sampling settings each column edits: (key, short label, minimum, maximum, step, decimals);
#: decimals 0 means a whole number. The comparison's seed is shared by every column (the
#: runner gives sample k of every variant the same seed, so that columns differ only by their
#: setup), so it is edited once for the whole comparison, not per column. The temperature's top
#: follows the "allow higher" setting (:meth:`VariantEditor.set_temperature_top`).
PARAM_EDITORS: tuple[tuple[str, str, float, float, float, int], ...] = (
    ("temperature", "temp", 0.0, USUAL_MAX_TEMPERATURE, 0.1, 2),
    ("top_k", "top-k", 0, 100_000, 1, 0),
    ("top_p", "top-p", 0.0, 1.0, 0.05, 2),
    ("min_p", "min-p", 0.0, 1.0, 0.01, 2),
    ("repeat_penalty", "repeat", 0.0, 10.0, 0.05, 2),
    ("max_tokens", "max tok", 1, 32_768, 1, 0),
)

STORED_PREFIX = "stored:"
#: Below this width the settings form lists one setting a row.
NARROW = 280


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
    #: the output format control's state (:meth:`OutputFormat.state`); empty: the template's
    output: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "template": self.template, "values": dict(self.values),
                "params": dict(self.params), "model": self.model, "output": dict(self.output)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSetup:
        output = data.get("output")
        return cls(str(data.get("name", "")), str(data.get("template", "")),
                   dict(data.get("values") or {}), dict(data.get("params") or {}),
                   str(data.get("model", "")), dict(output) if isinstance(output, dict) else {})


class VariantEditor(QWidget):
    """The settings form of one variant."""

    #: the template changed (the view recomputes which variables the shared input fills)
    template_changed = Signal()
    #: anything the compact header shows changed
    edited = Signal()

    def __init__(self, collection: Collection, models: Sequence[tuple[str, str]],
                 current_model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._collection = collection
        # Templates only a stored comparison has (changed or removed from the libraries since)
        self._stored: dict[str, _StoredTemplate] = {}
        # A reopened variant's full settings (stop sequences, penalties the column does not
        # edit), kept until another template is chosen.
        self._base_params: dict[str, Any] | None = None
        self._temperature_top = USUAL_MAX_TEMPERATURE
        self.params: dict[str, QSpinBox | QDoubleSpinBox] = {}

        self.name_edit = QLineEdit()  # placed by the header
        self.name_edit.setPlaceholderText("Variant name")
        self.name_edit.setToolTip("The variant's name (each column needs its own)")
        bold = QFont(self.name_edit.font())
        bold.setBold(True)
        self.name_edit.setFont(bold)
        self.name_edit.textChanged.connect(self.edited)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        self.template_combo = QSearchableComboBox()
        self.template_combo.setToolTip("Template (Library / id); type to search")
        self.template_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.template_combo.setMinimumContentsLength(10)
        layout.addWidget(self.template_combo)
        self.values_box = VariableForm()
        layout.addWidget(self.values_box)
        layout.addLayout(self._build_params())
        self.model_combo = QComboBox()
        self.model_combo.setToolTip("Model: a local GGUF file or a saved remote endpoint")
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(10)
        self.model_combo.currentIndexChanged.connect(self.edited)
        layout.addWidget(self.model_combo)
        self.output_format = OutputFormat()
        self.output_format.changed.connect(self.edited)
        layout.addWidget(self.output_format)

        self._fill_templates()
        self.template_combo.currentIndexChanged.connect(self._on_template_index)
        self.set_model_choices(models)
        self.set_model(current_model)
        self._on_template_index()

    def _build_params(self) -> QGridLayout:
        self.params_grid = grid = QGridLayout()
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(2)
        self._captions: list[QLabel] = []
        for key, label, lo, hi, step, decimals in PARAM_EDITORS:
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
            editor.valueChanged.connect(self.edited)
            self.params[key] = editor
            caption = QLabel(label)
            caption.setBuddy(editor)
            self._captions.append(caption)
        self._per_row = 0
        self._arrange_params(2)
        return grid

    def _arrange_params(self, per_row: int) -> None:
        """Two settings a row, or one in a narrow column (six columns on a small screen)."""
        if per_row == self._per_row:
            return
        self._per_row = per_row
        for n, (caption, editor) in enumerate(zip(self._captions, self.params.values(),
                                                  strict=True)):
            self.params_grid.addWidget(caption, n // per_row, (n % per_row) * 2)
            self.params_grid.addWidget(editor, n // per_row, (n % per_row) * 2 + 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange_params(2 if event.size().width() >= NARROW else 1)

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
        self.values_box.set_values(values)

    def template_key(self) -> str:
        data = self.template_combo.currentData()
        return str(data) if data is not None else ""

    def template_id(self) -> str:
        """The chosen template's id (what the compact header names)."""
        key = self.template_key()
        if key in self._stored:
            return self._stored[key].template_id
        return key.rpartition("/")[2]

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
        self.output_format.set_template_output(template.meta.output if template else None,
                                               reset=not keep_params)
        if template is not None and not keep_params:
            self.set_params({**SamplingParams().to_dict(), **template.meta.params})
        if template is not None and not self.name_edit.text().strip():
            self.name_edit.setText(template.id)
        self.template_changed.emit()
        self.edited.emit()

    def values(self) -> dict[str, Any]:
        """The column's own variable values (text left empty falls back to the template)."""
        return self.values_box.values()

    # -- sampling settings --------------------------------------------------------------------

    def set_temperature_top(self, top: float) -> None:
        """The temperature box's top under the "allow higher" setting; a value already above
        it (from a template or a stored run) keeps the box wide enough to show it."""
        self._temperature_top = top
        box = self.params["temperature"]
        if isinstance(box, QDoubleSpinBox):
            box.setMaximum(max(top, box.value()))

    def set_params(self, params: Mapping[str, Any]) -> None:
        for key, editor in self.params.items():
            value = params.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if isinstance(editor, QSpinBox):
                editor.setValue(int(value))
            elif isinstance(editor, QDoubleSpinBox):
                if key == "temperature":
                    editor.setMaximum(min(max(self._temperature_top, float(value)),
                                          HIGHEST_TEMPERATURE))
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
            self.model_combo.addItem(model_display_name(key), key)
            index = self.model_combo.count() - 1
        self.model_combo.setCurrentIndex(index)
        self.model_combo.setToolTip(key or "the default model")

    def model(self) -> str:
        data = self.model_combo.currentData()
        return str(data) if data is not None else ""

    # -- setup as data ------------------------------------------------------------------------

    def setup(self) -> ColumnSetup:
        return ColumnSetup(self.name_edit.text().strip(), self.template_key(), self.values(),
                           self.param_values(), self.model(), self.output_format.state())

    def apply_setup(self, setup: ColumnSetup) -> None:
        if setup.template:
            self.set_template(setup.template)
        self.name_edit.setText(setup.name)
        self.values_box.set_values(setup.values)
        self.set_params(setup.params)
        if setup.model:
            self.set_model(setup.model)
        if setup.output:
            self.output_format.restore(setup.output)

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
                library_sources=stored.library_sources, base_params=self._base_params,
                output=self.output_format.constraint())
        if not key:
            raise TemplateError("choose a template")
        return build_variant(self._collection, key, name=name, model=self.model(),
                             params=self.param_values(), values=self.values(),
                             base_params=self._base_params,
                             output=self.output_format.constraint())

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
        self.values_box.set_values(variant.values)
        self.set_params(variant.params.to_dict())
        self._base_params = variant.params.to_dict()
        self.set_model(variant.model)
        self.output_format.show_constraint(variant.output)
        self.name_edit.setText(variant.name)

    def set_editing_enabled(self, enabled: bool) -> None:
        for widget in (self.name_edit, self.template_combo, self.values_box, self.model_combo,
                       self.output_format, *self.params.values()):
            widget.setEnabled(enabled)
