"""One variant of the Compare tab: its compact header (with the settings form it opens in
place) in the row of headers, and its output pane on the Outputs page.

The two halves live in different rows of the view, so the column itself is not a widget: it
holds them, keeps them in step (the pane is titled with the variant's name) and answers for
both under one name, as the panel, scripts and tests reach a column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QWidget

from playground.comparison import Variant
from playground.evaluation.report import ReportRun
from playground.evaluation.stats import Estimate
from playground.prompts.collection import Collection
from playground.prompts.templates import PromptTemplate
from ui.views.compare.output_pane import OutputPane
from ui.views.compare.variant_editor import PARAM_EDITORS, ColumnSetup, VariantEditor
from ui.views.compare.variant_header import VariantHeader

__all__ = ["PARAM_EDITORS", "ColumnSetup", "CompareColumn", "score_value"]


class CompareColumn(QObject):
    """A variant's header and editor, then its streamed output, its samples and its scores."""

    remove_requested = Signal(object)
    #: the template changed (the view recomputes which variables the shared input fills)
    template_changed = Signal()

    def __init__(self, collection: Collection, models: Sequence[tuple[str, str]],
                 current_model: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = VariantEditor(collection, models, current_model)
        self.header = VariantHeader(self.editor)
        self.pane = OutputPane()
        editor, header, pane = self.editor, self.header, self.pane
        self.name_edit, self.template_combo = editor.name_edit, editor.template_combo
        self.values_box, self.model_combo = editor.values_box, editor.model_combo
        self.params = editor.params
        self.edit_button, self.remove_button = header.edit_button, header.remove_button
        self.output, self.status_label = pane.output, pane.status_label
        self.sample_combo, self.error_label, self.scores = (pane.sample_combo, pane.error_label,
                                                            pane.scores)
        editor.template_changed.connect(self.template_changed)
        header.remove_clicked.connect(lambda: self.remove_requested.emit(self))
        editor.name_edit.textChanged.connect(pane.set_title)
        pane.set_title(editor.name_edit.text())

    def widgets(self) -> tuple[QWidget, QWidget]:
        return self.header, self.pane

    def dispose(self) -> None:
        for widget in self.widgets():
            widget.setParent(None)
            widget.deleteLater()
        self.deleteLater()

    # -- the settings -------------------------------------------------------------------------

    def set_collection(self, collection: Collection) -> None:
        self.editor.set_collection(collection)

    def template_key(self) -> str:
        return self.editor.template_key()

    def set_template(self, template_id: str) -> bool:
        return self.editor.set_template(template_id)

    def template(self) -> PromptTemplate | None:
        return self.editor.template()

    @property
    def variable_editors(self) -> dict[str, QWidget]:
        return self.values_box.editors

    def set_provided(self, names: set[str]) -> None:
        """Variables a dataset fills for every row: their editors are disabled (ignored)."""
        self.values_box.set_provided(names)

    def values(self) -> dict[str, Any]:
        return self.editor.values()

    def set_params(self, params: Mapping[str, Any]) -> None:
        self.editor.set_params(params)

    def param_values(self) -> dict[str, Any]:
        return self.editor.param_values()

    def set_temperature_top(self, top: float) -> None:
        self.editor.set_temperature_top(top)

    def set_model_choices(self, models: Sequence[tuple[str, str]]) -> None:
        self.editor.set_model_choices(models)

    def set_model(self, key: str) -> None:
        self.editor.set_model(key)

    def model(self) -> str:
        return self.editor.model()

    def setup(self) -> ColumnSetup:
        return self.editor.setup()

    def apply_setup(self, setup: ColumnSetup) -> None:
        self.editor.apply_setup(setup)

    def variant(self) -> Variant:
        """The column as a comparison variant; raises PlaygroundError with a readable reason."""
        return self.editor.variant()

    def load_variant(self, variant: Variant) -> None:
        self.editor.load_variant(variant)

    def set_editing_enabled(self, enabled: bool) -> None:
        self.editor.set_editing_enabled(enabled)
        self.remove_button.setEnabled(enabled)

    # -- results ------------------------------------------------------------------------------

    @property
    def confidence_threshold(self) -> float:
        return self.pane.confidence_threshold

    @confidence_threshold.setter
    def confidence_threshold(self, value: float) -> None:
        self.pane.confidence_threshold = value

    def clear_results(self) -> None:
        self.pane.clear_results()

    def show_build_error(self, message: str) -> None:
        self.pane.clear_results()
        self.pane.show_error(message)

    def show_error(self, message: str) -> None:
        self.pane.show_error(message)

    def stream(self, input_id: str, sample: int, text: str, label: str) -> None:
        self.pane.stream(input_id, sample, text, label)

    def add_result(self, run: ReportRun, label: str, *, select: bool = True) -> None:
        self.pane.add_result(run, label, select=select)

    def set_confidence_threshold(self, threshold: float) -> None:
        self.pane.set_confidence_threshold(threshold)

    def outputs(self) -> list[tuple[str, str]]:
        return self.pane.outputs()

    def current_output(self) -> str:
        return self.pane.current_output()

    # -- scores -------------------------------------------------------------------------------

    @property
    def score_labels(self) -> dict[str, QLabel]:
        return self.scores.labels

    def set_metrics(self, metrics: Sequence[str]) -> None:
        self.pane.set_metrics(metrics)

    def show_scores(self, estimates: Mapping[str, Estimate | None], *, spread: bool) -> None:
        self.pane.show_scores(estimates, spread=spread)

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
