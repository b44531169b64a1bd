"""What is in a model: its name, file, architecture and sizes from the GGUF header, and the
catalog's licence and notes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QWidget

from playground.engine.gguf import ModelInfo
from playground.engine.memory import format_bytes
from playground.engine.models import catalog_entry
from ui.widgets.item_models import ModelEntry
from ui.widgets.palette import ERROR_STYLE

_ROWS = (
    ("display", "Name"), ("name", "Name in the file"), ("file", "File"),
    ("architecture", "Architecture"), ("parameters", "Parameters"), ("quant", "Quantisation"),
    ("layers", "Layers"), ("heads", "Attention heads (KV)"), ("head_dim", "Head size"),
    ("context", "Trained context"), ("chat", "Chat template"), ("size", "File size"),
    ("license", "Licence"), ("notes", "Notes"),
)


def error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class ModelDetails(QGroupBox):
    """The selected model's facts. "Name" is the one name the model goes by everywhere; "Name
    in the file" is what its author wrote in the header, often a training-run label."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        form = QFormLayout(self)
        self.labels: dict[str, QLabel] = {}
        for key, title in _ROWS:
            label = QLabel()
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(title + ":", label)
            self.labels[key] = label
        self.error_label = error_label()
        form.addRow(self.error_label)

    def show_entry(self, entry: ModelEntry | None) -> None:
        labels = self.labels
        for label in labels.values():
            label.clear()
        self.error_label.hide()
        if entry is None:
            return
        labels["display"].setText(entry.name)
        if entry.endpoint is not None:
            endpoint = entry.endpoint
            labels["file"].setText(f"remote endpoint {endpoint.base_url}")
            labels["architecture"].setText(f"served model {endpoint.model}")
            key_from = (f"key from ${endpoint.api_key_env}" if endpoint.api_key_env
                        else "key from the OS keyring" if endpoint.api_key_keyring
                        else "no API key")
            labels["notes"].setText(key_from)
            return
        labels["file"].setText(entry.path or entry.key)
        if entry.missing or entry.error:
            self.error_label.setText(entry.summary())
            self.error_label.show()
            return
        if entry.info is None:
            labels["architecture"].setText("reading the file…")
            return
        self._show_header(entry.info)
        self._show_catalog(entry)

    def _show_header(self, info: ModelInfo) -> None:
        labels = self.labels
        labels["name"].setText(info.name.strip() if info.name and info.name.strip()
                               else "not set")
        labels["architecture"].setText(info.architecture or "unknown")
        labels["parameters"].setText(f"{info.size_label} ({info.parameter_count:,})")
        quant = info.file_type or "unknown"
        if info.quant_types:
            mix = ", ".join(f"{name} × {count}" for name, count in
                            sorted(info.quant_types.items(), key=lambda kv: -kv[1]))
            quant += f" (tensors: {mix})"
        labels["quant"].setText(quant)
        labels["layers"].setText(str(info.block_count) if info.block_count else "unknown")
        heads = str(info.head_count) if info.head_count else "unknown"
        if info.head_count_kv:
            heads += f" ({info.head_count_kv} KV)"
        labels["heads"].setText(heads)
        labels["head_dim"].setText(str(info.head_dim) if info.head_dim else "unknown")
        labels["context"].setText(
            f"{info.context_length:,} tokens" if info.context_length else "not stated"
        )
        labels["chat"].setText("yes" if info.chat_template else "no (raw completion only)")
        labels["size"].setText(f"{format_bytes(info.file_size)} ({info.file_size:,} bytes)")

    def _show_catalog(self, entry: ModelEntry) -> None:
        catalog = catalog_entry(Path(entry.path)) if entry.path else None
        if catalog is not None:
            self.labels["license"].setText(str(catalog.get("license", "")))
            notes = str(catalog.get("notes", ""))
            upstream = catalog.get("upstream")
            self.labels["notes"].setText(notes + (f"\n{upstream}" if upstream else ""))
        else:
            self.labels["license"].setText("not in the catalog: check the model's own card")
