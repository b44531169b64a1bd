"""Which templates of a library to export for promptfoo, and on which dataset."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QListWidget,
    QListWidgetItem,
    QWidget,
)

from playground.prompts.collection import Collection
from playground.prompts.interop.promptfoo import dataset_choices
from playground.prompts.library import Library
from playground.prompts.templates import is_partial


class PromptfooDialog(QDialog):
    """The library's templates (partials left out) with the one selected in the tree checked,
    and the datasets it can run on, the first of that template's task chosen."""

    def __init__(
        self, library: Library, collection: Collection, chosen: str | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export for promptfoo")
        self.templates = QListWidget()
        first_task = ""
        for template in library.templates:
            if is_partial(template):
                continue
            item = QListWidgetItem(f"{template.id} — {template.meta.name}")
            item.setData(Qt.ItemDataRole.UserRole, template.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = template.id == chosen
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            if checked:
                first_task = template.meta.task
            self.templates.addItem(item)
        self.datasets = QComboBox()
        options = dataset_choices(library, collection)
        for value, _ in options:
            self.datasets.addItem(value, value)
        tasks = [task for _, task in options]
        if first_task in tasks:
            self.datasets.setCurrentIndex(tasks.index(first_task))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Templates:", self.templates)
        form.addRow("Dataset:", self.datasets)
        form.addRow(self.buttons)

    def template_ids(self) -> list[str]:
        return [
            str(self.templates.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.templates.count())
            if self.templates.item(i).checkState() == Qt.CheckState.Checked
        ]

    def dataset(self) -> str:
        value = self.datasets.currentData()
        return str(value) if value is not None else ""
