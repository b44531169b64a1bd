"""How chats are formatted for the selected local model: its own chat template, or one of the
built-in formats (:mod:`playground.prompts.chat_formats`) for a model whose file has none."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QWidget

from playground.prompts.chat_formats import CHAT_FORMATS
from ui.widgets.item_models import ModelEntry


class ChatFormatPanel(QGroupBox):
    """The "Chat format" choice; ``edited`` when a person picks another entry."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Chat format", parent)
        self._filling = False
        self._has_own = True
        form = QFormLayout(self)
        self.combo = QComboBox()
        self.combo.addItem("The model's own template", None)
        for found in CHAT_FORMATS.values():
            self.combo.addItem(found.name, found.id)
            self.combo.setItemData(self.combo.count() - 1, found.description,
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.setToolTip("How chat messages are turned into the text the model reads; "
                              "choose the format of the family the model was tuned in")
        self.combo.currentIndexChanged.connect(self._changed)
        self.note = QLabel()
        self.note.setWordWrap(True)
        form.addRow("Chat format:", self.combo)
        form.addRow(self.note)

    def _changed(self) -> None:
        self._show_note()
        if not self._filling:
            self.edited.emit()

    def fill(self, entry: ModelEntry | None, chat_format: str | None) -> None:
        """Show ``chat_format`` for ``entry`` (enabled only for a usable local model)."""
        local = entry is not None and not entry.remote and entry.usable
        self.setEnabled(local)
        self._has_own = bool(entry is not None and entry.info is not None
                             and entry.info.chat_template)
        self._filling = True
        try:
            self.combo.setItemText(0, "The model's own template" if self._has_own or not local
                                   else "None: raw completion only")
            index = self.combo.findData(chat_format) if chat_format else 0
            self.combo.setCurrentIndex(max(index, 0))
            self._show_note()
        finally:
            self._filling = False
        self.note.setVisible(local)

    def chosen(self) -> str | None:
        data = self.combo.currentData()
        return str(data) if data else None

    def _show_note(self) -> None:
        format_id = self.chosen()
        if format_id:
            self.note.setText(f"Chats are written as {CHAT_FORMATS[format_id].description}.")
        elif self._has_own:
            self.note.setText("Chats use the template in the model's file.")
        else:
            self.note.setText("The model's file has no chat template: it does raw completion "
                              "only. Choose the format its family uses to chat with it.")

