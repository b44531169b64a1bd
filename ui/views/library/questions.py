"""What the Library tab asks the person: yes or no, a name, a file to open or to write.

Each question is an attribute holding a function, so a script (or a test) can answer in place of
the dialog; the defaults are the platform's dialogs, opened in the folder last used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

_LAST_DIR = "library/last_dir"


class Questions:
    def __init__(self, parent: QWidget, settings: QSettings) -> None:
        self._parent = parent
        self._settings = settings
        #: a yes/no question before something that cannot be undone
        self.confirm: Callable[[str], bool] = self._ask_yes_no
        #: whether to replace what already exists under the same name
        self.ask_replace: Callable[[str], bool] = self._ask_yes_no
        #: (title, label, suggestion) -> the name typed, or None when cancelled
        self.ask_name: Callable[[str, str, str], str | None] = self._ask_text
        #: the file to import, or "" when cancelled
        self.choose_open_path: Callable[[], str] = self._open_dialog
        #: (caption, suggested file name, filters) -> (path or "", the filter chosen)
        self.choose_save_path: Callable[[str, str, str], tuple[str, str]] = self._save_dialog

    def remember_dir(self, path: str) -> None:
        """The next file dialog opens where this file was."""
        self._settings.setValue(_LAST_DIR, str(Path(path).parent))

    def _last_dir(self) -> str:
        return str(self._settings.value(_LAST_DIR, str(Path.home())))

    def _ask_yes_no(self, question: str) -> bool:
        answer = QMessageBox.question(self._parent, "Library", question)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_text(self, title: str, label: str, suggestion: str) -> str | None:
        text, ok = QInputDialog.getText(
            self._parent, title, label, QLineEdit.EchoMode.Normal, suggestion
        )
        return text.strip() if ok and text.strip() else None

    def _open_dialog(self) -> str:
        path, _ = QFileDialog.getOpenFileName(
            self._parent, "Import Library", self._last_dir(),
            "Libraries and llm templates (*.json *.yaml *.yml);;All files (*)",
        )
        return path

    def _save_dialog(self, caption: str, suggested: str, filters: str) -> tuple[str, str]:
        path, chosen = QFileDialog.getSaveFileName(
            self._parent, caption, str(Path(self._last_dir()) / suggested), filters
        )
        return path, chosen
