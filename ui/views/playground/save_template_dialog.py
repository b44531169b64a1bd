"""Naming what was typed in scratch mode and choosing the library it is saved in.

The template is built and checked by the core as the person types the name, so the dialog
says what is wrong (a name with spaces, one already taken, a Jinja mistake) before it closes.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from playground.errors import PlaygroundError
from playground.prompts.collection import Collection, free_name
from playground.prompts.library import Library
from playground.prompts.templates import PromptTemplate
from playground.runs.scratch import Scratch, ScratchChat, library_choices, library_with, template_of
from ui.widgets.palette import ERROR_STYLE


class SaveTemplateDialog(QDialog):
    """Name, library, the template that will be written; Save is enabled once it is valid."""

    def __init__(self, scratch: Scratch, collection: Collection,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save as Template")
        self.scratch = scratch
        self.collection = collection
        #: the library with the new template, once the dialog is accepted
        self.library: Library | None = None
        self.template: PromptTemplate | None = None
        base = "my-chat" if isinstance(scratch, ScratchChat) else "my-prompt"
        taken = (t.id for _, t in collection.templates())
        self.name_edit = QLineEdit(free_name("template", base, taken))
        self.library_combo = QComboBox()
        self.library_combo.setEditable(True)
        self.library_combo.addItems(library_choices(collection))
        self.library_combo.setToolTip("One of your libraries, or a new name to create one")
        self.source = QPlainTextEdit()
        self.source.setReadOnly(True)
        self.variables = QLabel()
        self.variables.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)

        form = QFormLayout()
        form.addRow("Template name:", self.name_edit)
        form.addRow("Library:", self.library_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        if isinstance(scratch, ScratchChat):
            layout.addWidget(QLabel("The system prompt and turns become a chat template; an "
                                    "answer at the end is left out (running the template "
                                    "asks the model for it)."))
        layout.addWidget(self.variables)
        layout.addWidget(self.source, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(620, 460)

        self.name_edit.textChanged.connect(self._check)
        self.library_combo.currentTextChanged.connect(self._check)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self._check()

    def _check(self) -> bool:
        """Build the template and its library again; say what stops them."""
        try:
            template = template_of(self.scratch, self.name_edit.text())
            self.source.setPlainText(template.source)
            names = [v.name for v in template.meta.variables]
            self.variables.setText("Variables: " + (", ".join(names) if names else
                                                    "none (add {{ name }} to the text)"))
            self.library = library_with(self.collection, self.library_combo.currentText(),
                                        template)
            self.template = template
        except PlaygroundError as exc:
            self.library = self.template = None
            self.message.setText(str(exc))
            self.save_button.setEnabled(False)
            return False
        self.message.setText("")
        self.save_button.setEnabled(True)
        return True

    def _accept(self) -> None:
        if self._check():
            self.accept()
