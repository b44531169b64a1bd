"""A prompt typed straight in, run on the loaded model without a template."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from playground.runs.scratch import ScratchPrompt


class ScratchPanel(QWidget):
    """The prompt box and whether it goes through the model's chat template."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText(
            "Type a prompt and press Ctrl+Enter to run it on the model. No template needed; "
            "“Save as template” keeps it in your library.")
        self.chat_check = QCheckBox("Send as a chat message (the model's chat template)")
        self.chat_check.setToolTip(
            "On: the prompt is one user turn in the model's own chat format, as instruct "
            "models expect. Off: the model continues the raw text.")
        self.chat_check.setChecked(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(QLabel("<b>Prompt</b>"))
        layout.addWidget(self.prompt, 1)
        layout.addWidget(self.chat_check)

    def scratch(self) -> ScratchPrompt:
        return ScratchPrompt(self.prompt.toPlainText(), self.chat_check.isChecked())

    def show_prompt(self, prompt: ScratchPrompt) -> None:
        self.prompt.setPlainText(prompt.text)
        self.chat_check.setChecked(prompt.chat)
