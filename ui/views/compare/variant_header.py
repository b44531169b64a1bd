"""A variant's compact header: its name, then one line naming its template, its model, its
output format when it has one ("JSON schema", "any JSON", "grammar") and the sampling settings
that differ from the defaults ("T 0.2 · top-k 20"), with Edit and ×.

Edit opens the full settings form in place under the header and closes it again; the outputs
below keep their height the rest of the time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from playground.errors import PlaygroundError
from playground.sampling import SamplingParams
from ui.views.compare.variant_editor import VariantEditor
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.output_format import short_label

#: How the header names a setting that differs from the default.
SHORT_NAMES = {"temperature": "T", "top_k": "top-k", "top_p": "top-p", "min_p": "min-p",
               "repeat_penalty": "repeat", "max_tokens": "max tok"}


def changed_settings(params: Mapping[str, Any]) -> str:
    """The settings that differ from the defaults, shortly: "T 0.2 · top-k 20"."""
    defaults = SamplingParams().to_dict()
    parts = []
    for key, short in SHORT_NAMES.items():
        value = params.get(key)
        if isinstance(value, (int, float)) and value != defaults[key]:
            parts.append(f"{short} {value:g}")
    return " · ".join(parts)


def header_line(template_id: str, model_name: str, params: Mapping[str, Any],
                output: str = "") -> str:
    return " · ".join(p for p in (template_id or "no template", model_name, output,
                                  changed_settings(params)) if p)


class VariantHeader(QFrame):
    #: × was clicked
    remove_clicked = Signal()

    def __init__(self, editor: VariantEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Every header gets the same share of the row, whatever its text: the outputs under
        # the headers are shared out the same way, so each header sits over its output.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 3, 4, 3)
        layout.setSpacing(2)
        top = QHBoxLayout()
        top.setSpacing(3)
        top.addWidget(editor.name_edit, 1)
        self.edit_button = QToolButton()
        self.edit_button.setText("Edit")
        self.edit_button.setCheckable(True)
        self.edit_button.setToolTip("Show this variant's template, values, settings and model")
        self.edit_button.toggled.connect(self.set_editing)
        top.addWidget(self.edit_button)
        self.remove_button = QToolButton()
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this column")
        self.remove_button.clicked.connect(self.remove_clicked)
        top.addWidget(self.remove_button)
        layout.addLayout(top)
        self.summary_label = ElidedLabel()
        self.summary_label.setStyleSheet("color: palette(mid);")
        layout.addWidget(self.summary_label)
        editor.setVisible(False)
        layout.addWidget(editor)
        editor.edited.connect(self.refresh)
        self.refresh()

    def set_editing(self, editing: bool) -> None:
        """Open or close the settings form (the Edit button shows which)."""
        if self.edit_button.isChecked() != editing:
            self.edit_button.setChecked(editing)  # comes back here through toggled
            return
        self.edit_button.setText("Done" if editing else "Edit")
        self.editor.setVisible(editing)
        self.summary_label.setVisible(not editing)

    def editing(self) -> bool:
        return self.edit_button.isChecked()

    def refresh(self) -> None:
        editor = self.editor
        try:
            output = short_label(editor.output_format.constraint())
        except PlaygroundError:
            output = "⚠ output format"
        self.summary_label.set_full_text(header_line(
            editor.template_id(), editor.model_combo.currentText(), editor.param_values(),
            output))
