"""The Compare tab's columns: two to six variants side by side, each a compact header in the
row of headers (this widget) and an output pane with its scores in the row of outputs
(:attr:`ColumnsPanel.outputs`, placed on the view's Outputs page).

The panel adds, removes and names columns, turns them into variants, and routes what a
comparison yields (streamed tokens, finished runs, the report's estimates and best marks) to
the column of each variant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from playground.comparison import ComparisonSpec, Variant
from playground.engine.models import model_display_name
from playground.errors import PlaygroundError
from playground.evaluation.report import ReportRun
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import SCORE_NAMES, best_marks, display_metrics, run_label
from playground.prompts.collection import Collection
from playground.runs.build import input_variable
from ui.context import AppContext
from ui.views.compare.compare_column import ColumnSetup, CompareColumn
from ui.widgets.references import confidence_threshold
from ui.widgets.temperature_setting import temperature_top

MIN_COLUMNS = 2
MAX_COLUMNS = 6


class ColumnsPanel(QWidget):
    """The row of headers; :attr:`outputs` is the row of output panes under it."""

    #: a column was added or removed, or chose another template
    columns_changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.columns: list[CompareColumn] = []
        self._models: list[tuple[str, str]] = []
        self._provided: set[str] = set()
        self._running = False
        self.headers_layout = QHBoxLayout(self)
        self.outputs = QWidget()
        self.outputs_layout = QHBoxLayout(self.outputs)
        # The same margins and spacing in both rows, so each header sits over its output.
        for layout in (self.headers_layout, self.outputs_layout):
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(6)

    # -- adding and removing ------------------------------------------------------------------

    def _model_choices(self) -> list[tuple[str, str]]:
        current = self.context.hub.current
        choices = list(self._models)
        if current and all(key != current for _, key in choices):
            choices.insert(0, (model_display_name(current), current))
        return choices

    def add_column(self, setup: ColumnSetup | None = None) -> CompareColumn | None:
        """A new column (None at the maximum); without a setup it copies the last column's
        template and model under a new name."""
        if len(self.columns) >= MAX_COLUMNS:
            return None
        column = CompareColumn(self.context.collection(), self._model_choices(),
                               self.context.hub.current)
        column.confidence_threshold = confidence_threshold(self.context.settings)
        column.set_temperature_top(temperature_top(self.context.settings))
        if setup is None and self.columns:
            last = self.columns[-1].setup()
            setup = replace(last, name=self._free_name(last.template.rpartition("/")[2]))
        if setup is not None:
            column.apply_setup(setup)
        if not column.name_edit.text().strip() or self._name_taken(column.name_edit.text()):
            column.name_edit.setText(self._free_name(column.name_edit.text().strip() or "variant"))
        column.remove_requested.connect(self.remove_column)
        column.set_provided(self._provided)
        column.template_changed.connect(self.columns_changed)
        column.name_edit.textChanged.connect(self.columns_changed)  # the hint names columns
        self.columns.append(column)
        self.headers_layout.addWidget(column.header, 1, Qt.AlignmentFlag.AlignTop)
        self.outputs_layout.addWidget(column.pane, 1)
        self._update_remove_buttons()
        self.columns_changed.emit()
        return column

    def _name_taken(self, name: str) -> bool:
        return any(c.name_edit.text().strip() == name.strip() for c in self.columns)

    def _free_name(self, base: str) -> str:
        if not self._name_taken(base):
            return base
        n = 2
        while self._name_taken(f"{base} {n}"):
            n += 1
        return f"{base} {n}"

    def remove_column(self, column: object) -> bool:
        if (not isinstance(column, CompareColumn) or column not in self.columns
                or len(self.columns) <= MIN_COLUMNS or self._running):
            return False
        self.columns.remove(column)
        self.headers_layout.removeWidget(column.header)
        self.outputs_layout.removeWidget(column.pane)
        column.dispose()
        self._update_remove_buttons()
        self.columns_changed.emit()
        return True

    def set_column_count(self, count: int) -> None:
        count = min(max(count, MIN_COLUMNS), MAX_COLUMNS)
        while len(self.columns) < count:
            self.add_column()
        while len(self.columns) > count:
            self.remove_column(self.columns[-1])

    def can_add(self) -> bool:
        return not self._running and len(self.columns) < MAX_COLUMNS

    def set_running(self, running: bool) -> None:
        self._running = running
        for column in self.columns:
            column.set_editing_enabled(not running)
        self._update_remove_buttons()

    def _update_remove_buttons(self) -> None:
        for column in self.columns:
            column.remove_button.setEnabled(not self._running
                                            and len(self.columns) > MIN_COLUMNS)

    # -- what the columns hold ----------------------------------------------------------------

    def set_collection(self, collection: Collection) -> None:
        for column in self.columns:
            column.set_collection(collection)

    def set_models(self, models: list[tuple[str, str]]) -> None:
        self._models = models
        for column in self.columns:
            column.set_model_choices(self._model_choices())

    def set_provided(self, names: set[str]) -> None:
        """Variables the chosen dataset fills: no column edits them."""
        self._provided = set(names)
        for column in self.columns:
            column.set_provided(self._provided)

    def set_temperature_top(self, top: float) -> None:
        for column in self.columns:
            column.set_temperature_top(top)

    def set_confidence_threshold(self, value: float) -> None:
        for column in self.columns:
            column.set_confidence_threshold(value)

    def fills(self) -> list[tuple[str, str | None]]:
        """(column name, the variable a shared input fills in its template)."""
        out = []
        for column in self.columns:
            template = column.template()
            out.append((column.name_edit.text(),
                        input_variable(template) if template is not None else None))
        return out

    def setups(self) -> list[ColumnSetup]:
        return [c.setup() for c in self.columns]

    def variants(self) -> list[Variant]:
        """Each column as a variant; a column that cannot be built shows why in red and is
        left out, so the others still run."""
        variants = []
        for column in self.columns:
            column.clear_results()
            try:
                variants.append(column.variant())
            except PlaygroundError as exc:
                column.show_build_error(str(exc))
        return variants

    def load_variants(self, variants: Sequence[Variant]) -> None:
        """A stored comparison's variants, one per column (as many columns as fit)."""
        self.set_column_count(len(variants))
        for column in self.columns:
            column.clear_results()
        for column, variant in zip(self.columns, variants, strict=False):
            column.load_variant(variant)
        names = {v.name for v in variants}
        for column in self.columns[len(variants):]:
            if column.name_edit.text().strip() in names:
                column.name_edit.setText(self._free_name(column.name_edit.text().strip()))
        if len(variants) < MIN_COLUMNS:
            self.columns[-1].show_error("This comparison has a single variant.")

    # -- results ------------------------------------------------------------------------------

    def column(self, name: str) -> CompareColumn | None:
        return next((c for c in self.columns if c.name_edit.text().strip() == name), None)

    def stream(self, variant: str, input_id: str, sample: int, text: str,
               spec: ComparisonSpec) -> None:
        column = self.column(variant)
        if column is not None:
            column.stream(input_id, sample, text, run_label(spec, input_id, sample))

    def add_run(self, run: ReportRun, spec: ComparisonSpec, *, select: bool = True) -> None:
        column = self.column(run.variant)
        if column is not None:
            column.add_result(run, run_label(spec, run.input_id, run.sample), select=select)

    def set_metrics(self, spec: ComparisonSpec) -> None:
        for column in self.columns:
            column.set_metrics(display_metrics(spec))

    def show_report(self, spec: ComparisonSpec, runs: Sequence[ReportRun],
                    estimates: Mapping[str, Mapping[str, Estimate | None]]) -> None:
        """Every run in its column, each column's scores, and the best per metric starred
        (every tied column saying "tie")."""
        metrics = display_metrics(spec, {m for scores in estimates.values() for m in scores})
        spread = len(spec.inputs) > 1 or spec.samples > 1
        for run in runs:  # a resumed comparison's earlier runs, a reopened one's
            self.add_run(run, spec, select=False)
        shown = {name: {m: by_metric.get(SCORE_NAMES.get(m, m)) for m in metrics}
                 for name, by_metric in estimates.items()}
        for column in self.columns:
            column.set_metrics(metrics)
            name = column.name_edit.text().strip()
            if name in shown:
                column.show_scores(shown[name], spread=spread)
        marks = best_marks({c.name_edit.text().strip(): shown.get(c.name_edit.text().strip(), {})
                            for c in self.columns}, metrics)
        for column in self.columns:
            best, tied = marks.get(column.name_edit.text().strip(), (frozenset(), frozenset()))
            column.set_best(best, tied)

    def shown_outputs(self) -> list[tuple[str, str]]:
        """(label, output shown) per column, for a diff."""
        outputs = []
        for column in self.columns:
            label = column.name_edit.text().strip()
            if column.sample_combo.count() > 1:
                label += f" · {column.sample_combo.currentText()}"
            outputs.append((label, column.current_output()))
        return outputs
