"""Which other tools' downloaded models the list offers: a tick box per tool (Hugging Face
cache, LM Studio, Ollama, GPT4All, Jan), remembered in the settings. The folders themselves are
only read (playground/engine/discovery.py); unticking a tool hides its models, it deletes
nothing."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from playground.engine.discovery import FOREIGN_LABELS, FOREIGN_SOURCES
from ui.services.model_list import set_switched_off_sources, switched_off_sources


class SourcesPanel(QWidget):
    """"Look for models from:" and a tick box per tool."""

    #: a tool was ticked or unticked (the settings already say so)
    changed = Signal()

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        off = set(switched_off_sources(settings))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("Look for models from:")
        label.setToolTip("Models other apps downloaded are used where they are: nothing is "
                         "copied, and nothing is written in their folders")
        row.addWidget(label)
        self.boxes: dict[str, QCheckBox] = {}
        for source in FOREIGN_SOURCES:
            box = QCheckBox(FOREIGN_LABELS[source])
            box.setChecked(source not in off)
            box.setToolTip(f"List the GGUF models {FOREIGN_LABELS[source]} has downloaded")
            box.toggled.connect(self._toggled)
            row.addWidget(box)
            self.boxes[source] = box
        row.addStretch(1)

    def switched_off(self) -> list[str]:
        return [source for source, box in self.boxes.items() if not box.isChecked()]

    def _toggled(self, _checked: bool) -> None:
        set_switched_off_sources(self.settings, self.switched_off())
        self.changed.emit()
