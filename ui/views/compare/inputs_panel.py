"""The Compare tab's inputs strip: one line of the settings every column shares (the inputs: the
shared input or the rows of a library's, a file's or a reopened comparison's dataset; rows,
samples, seed, the low-confidence threshold), then, for a shared input only, the input and its
references in two boxes of capped height that can be folded away."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.comparison import ComparisonSpec, Input, Variant
from playground.errors import PlaygroundError
from playground.prompts.collection import Collection
from playground.runs.build import library_dataset, main_variable, shared_input
from ui.views.compare.compare_tasks import DatasetChoice
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.references import (
    REFERENCE_HINT,
    join_references,
    split_references,
)

DATASET_FILTER = "Datasets (*.csv *.tsv *.jsonl *.json)"
DATASET_HINT = ("Dataset columns fill the template variables of the same name; a template's "
                "main text variable missing from the dataset takes its first column.")


#: The input boxes' height: a few lines, so the outputs below keep most of the height.
TEXT_HEIGHT = (44, 84)


class InputsPanel(QWidget):
    #: the dataset choice changed: the variables it fills for every row (a set of names)
    mode_changed = Signal(object)

    def __init__(self, collection: Collection, confidence: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._collection = collection
        #: inputs of reopened dataset comparisons, by comparison id, to run again
        self._stored_inputs: dict[str, tuple[Input, ...]] = {}
        self.file_dialog: QFileDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._build_settings(confidence))
        self.texts = QWidget()
        texts = QHBoxLayout(self.texts)
        texts.setContentsMargins(0, 0, 0, 0)
        self.shared_input = QPlainTextEdit()
        self.shared_input.setPlaceholderText(
            "Input text: fills each template's main text variable (dialogue, review, text, "
            "context, concept)")
        self.references = QPlainTextEdit()
        self.references.setPlaceholderText(
            f"Reference outputs to score against. {REFERENCE_HINT}")
        for edit in (self.shared_input, self.references):
            edit.setMinimumHeight(TEXT_HEIGHT[0])
            edit.setMaximumHeight(TEXT_HEIGHT[1])
        texts.addWidget(self.shared_input, 3)
        texts.addWidget(self.references, 2)
        layout.addWidget(self.texts)
        self.input_hint = ElidedLabel()
        self.input_hint.setStyleSheet("color: palette(mid);")
        layout.addWidget(self.input_hint)
        self.fill_datasets(collection)

    def _build_settings(self, confidence: float) -> QHBoxLayout:
        row = QHBoxLayout()
        self.fold_button = QToolButton()
        self.fold_button.setCheckable(True)
        self.fold_button.setChecked(True)
        self.fold_button.setToolTip("Show or hide the input and reference boxes")
        self.fold_button.toggled.connect(self._fold)
        row.addWidget(self.fold_button)
        row.addWidget(QLabel("Inputs"))
        self.dataset_combo = QComboBox()
        self.dataset_combo.setToolTip("The shared input below, or every row of a dataset")
        self.dataset_combo.currentIndexChanged.connect(self._mode_changed)
        row.addWidget(self.dataset_combo, 1)
        self.file_button = QPushButton("File…")
        self.file_button.setToolTip("A CSV, TSV, JSONL or JSON dataset")
        self.file_button.clicked.connect(self.choose_dataset_file)
        row.addWidget(self.file_button)
        self.rows_spin = QSpinBox()
        self.rows_spin.setRange(0, 100_000)
        self.rows_spin.setSpecialValueText("all")
        self.rows_spin.setToolTip("How many rows of the dataset to run (all: 0)")
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(1, 20)
        self.samples_spin.setToolTip("Samples per variant and input (k seeds); with k > 1 the "
                                     "scores show mean ± 95% CI")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_000_000_000)
        self.seed_spin.setValue(1234)
        self.seed_spin.setToolTip("Seed of sample 1; sample k of every column uses the same "
                                  "seed, so the columns differ only by their setup")
        self.confidence_spin = QDoubleSpinBox()
        self.confidence_spin.setRange(-20.0, 0.0)
        self.confidence_spin.setSingleStep(0.1)
        self.confidence_spin.setDecimals(2)
        self.confidence_spin.setValue(confidence)
        self.confidence_spin.setToolTip(
            "Flag an output as low-confidence when the mean log-probability of its tokens is "
            "below this (a hint of guessing or hallucination)")
        for caption, spin in (("rows", self.rows_spin), ("samples", self.samples_spin),
                              ("seed", self.seed_spin), ("flag below", self.confidence_spin)):
            label = QLabel(caption)
            label.setBuddy(spin)
            row.addWidget(label)
            row.addWidget(spin)
        return row

    # -- the dataset --------------------------------------------------------------------------

    def fill_datasets(self, collection: Collection) -> None:
        """List the libraries' datasets again, keeping the files and stored inputs chosen."""
        self._collection = collection
        keep = self.dataset_combo.currentData()
        self.dataset_combo.blockSignals(True)
        extra = [(self.dataset_combo.itemText(i), self.dataset_combo.itemData(i))
                 for i in range(self.dataset_combo.count())
                 if isinstance(self.dataset_combo.itemData(i), tuple)
                 and self.dataset_combo.itemData(i)[0] in ("file", "stored")]
        self.dataset_combo.clear()
        self.dataset_combo.addItem("Shared input (below)", None)
        for library in collection.libraries:
            for dataset in library.datasets:
                self.dataset_combo.addItem(
                    f"{library.name} / {dataset.name} ({len(dataset.rows)} rows)",
                    ("library", library.name, dataset.name))
        for text, data in extra:
            self.dataset_combo.addItem(text, data)
        # A choice that is still listed stays chosen (a dataset run in flight keeps its
        # dataset when a library is imported meanwhile).
        index = self._find(keep) if keep is not None else 0
        self.dataset_combo.setCurrentIndex(max(index, 0))
        self.dataset_combo.blockSignals(False)
        self._mode_changed()

    def _find(self, data: object) -> int:
        """The item holding ``data``: compared in Python (Qt's findData compares wrapped
        Python tuples by identity, so a rebuilt list never matched)."""
        return next((i for i in range(self.dataset_combo.count())
                     if self.dataset_combo.itemData(i) == data), -1)

    def select_dataset(self, name: str) -> bool:
        """Choose a library dataset by name ("summarization") or a file by its path."""
        for i in range(self.dataset_combo.count()):
            data = self.dataset_combo.itemData(i)
            if isinstance(data, tuple) and name in (data[-1], str(data[1])):
                self.dataset_combo.setCurrentIndex(i)
                return True
        if Path(name).suffix:
            self.dataset_combo.addItem(f"File: {Path(name).name}", ("file", name))
            self.dataset_combo.setCurrentIndex(self.dataset_combo.count() - 1)
            return True
        return False

    def choose_dataset_file(self) -> None:
        """Ask for a dataset file; the window stays responsive while the dialog is open."""
        dialog = QFileDialog(self, "Choose a dataset", "", DATASET_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.select_dataset)
        dialog.finished.connect(dialog.deleteLater)
        self.file_dialog = dialog
        dialog.open()

    def dataset_mode(self) -> bool:
        return self.dataset_combo.currentData() is not None

    def dataset_choice(self) -> DatasetChoice:
        data = self.dataset_combo.currentData()
        return tuple(str(x) for x in data) if isinstance(data, tuple) else ()

    def stored_inputs(self) -> tuple[Input, ...]:
        choice = self.dataset_choice()
        return self._stored_inputs.get(choice[1], ()) if choice[:1] == ("stored",) else ()

    def dataset_columns(self) -> set[str]:
        """The variables a library dataset fills (a file's are known once it is read)."""
        data = self.dataset_combo.currentData()
        if not isinstance(data, tuple) or data[0] != "library":
            return set()
        try:
            dataset = library_dataset(self._collection, data[1], data[2])
        except PlaygroundError:
            return set()
        return {k for row in dataset.inputs for k in row.values}

    def _mode_changed(self, *_: object) -> None:
        dataset = self.dataset_mode()
        self.shared_input.setEnabled(not dataset)
        self.references.setEnabled(not dataset)
        self.rows_spin.setEnabled(dataset)
        self._fold(self.fold_button.isChecked())
        self.mode_changed.emit(self.dataset_columns())

    def _fold(self, shown: bool) -> None:
        """The input boxes only for a shared input, and only while unfolded."""
        dataset = self.dataset_mode()
        self.texts.setVisible(shown and not dataset)
        self.fold_button.setEnabled(not dataset)
        self.fold_button.setArrowType(Qt.ArrowType.DownArrow if shown and not dataset
                                      else Qt.ArrowType.RightArrow)

    # -- the shared input ---------------------------------------------------------------------

    def shared(self, variants: list[Variant]) -> Input:
        return shared_input(variants, self.shared_input.toPlainText(),
                            split_references(self.references.toPlainText()))

    def update_hint(self, fills: list[tuple[str, str | None]]) -> None:
        """``fills``: (column name, the variable the shared input fills in it)."""
        if self.dataset_mode():
            self.input_hint.set_full_text(DATASET_HINT)
            return
        names = [f"{var or '(none)'} in {name or '?'}" for name, var in fills]
        self.input_hint.set_full_text("The input fills: " + ", ".join(names) if names else "")

    def show_inputs(self, spec: ComparisonSpec, comparison_id: int, label: str) -> None:
        """A reopened comparison's inputs: its one input as the shared one, or its rows as a
        dataset choice of their own."""
        self.samples_spin.setValue(spec.samples)
        self.seed_spin.setValue(min(spec.base_seed, self.seed_spin.maximum()))
        if len(spec.inputs) == 1:
            item = spec.inputs[0]
            var = main_variable(spec.variants[0])
            text = item.values.get(var) if var else None
            if not isinstance(text, str):
                text = next((v for v in item.values.values() if isinstance(v, str)), "")
            self.dataset_combo.setCurrentIndex(0)
            self.shared_input.setPlainText(text)
            self.references.setPlainText(join_references(item.references))
            return
        data = ("stored", str(comparison_id))
        self._stored_inputs[str(comparison_id)] = spec.inputs
        index = self._find(data)
        if index < 0:
            self.dataset_combo.addItem(
                f"Inputs of comparison {label} ({len(spec.inputs)} rows)", data)
            index = self.dataset_combo.count() - 1
        self.dataset_combo.setCurrentIndex(index)
        self.rows_spin.setValue(0)

    def set_running(self, running: bool) -> None:
        for widget in (self.dataset_combo, self.file_button, self.samples_spin, self.seed_spin):
            widget.setEnabled(not running)
        self.rows_spin.setEnabled(not running and self.dataset_mode())

    # -- settings -----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"samples": self.samples_spin.value(), "seed": self.seed_spin.value(),
                "rows": self.rows_spin.value(), "input": self.shared_input.toPlainText(),
                "references": self.references.toPlainText()}

    def restore(self, state: Mapping[str, Any]) -> None:
        for spin, key in ((self.samples_spin, "samples"), (self.seed_spin, "seed"),
                          (self.rows_spin, "rows")):
            value = state.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                spin.setValue(value)
        if isinstance(state.get("input"), str):
            self.shared_input.setPlainText(state["input"])
        if isinstance(state.get("references"), str):
            self.references.setPlainText(state["references"])
