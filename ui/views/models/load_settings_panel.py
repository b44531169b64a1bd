"""How a local model loads (context size, GPU layers, threads) and whether that fits in
memory, with the numbers a warning needs: what is needed and what is free."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QSpinBox, QWidget

from playground.engine.memory import check_fits, estimate_memory
from playground.engine.worker import LoadOptions, default_threads
from playground.errors import InsufficientMemoryError
from ui.views.models.details_panel import error_label
from ui.widgets.item_models import ModelEntry

MAX_CONTEXT = 1 << 20


class LoadSettingsPanel(QGroupBox):
    """The spin boxes for the selected local model; ``edited`` when a person changes one."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Load settings", parent)
        self._filling = False
        form = QFormLayout(self)
        self.ctx_spin = QSpinBox()
        self.ctx_spin.setRange(0, MAX_CONTEXT)
        self.ctx_spin.setSingleStep(256)
        self.ctx_spin.setSpecialValueText("trained context")
        self.ctx_spin.setToolTip("Tokens the model can see at once (prompt and output); "
                                 "0 uses the context the model was trained for")
        self.gpu_spin = QSpinBox()
        self.gpu_spin.setRange(-1, 999)
        self.gpu_spin.setSpecialValueText("all layers")
        self.gpu_spin.setToolTip("Layers to offload to the GPU; -1 offloads all, 0 none")
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(1, 512)
        self.threads_spin.setValue(default_threads())
        self.threads_spin.setToolTip(
            f"CPU threads; {default_threads()} (the physical cores) is usually fastest"
        )
        for spin in (self.ctx_spin, self.gpu_spin, self.threads_spin):
            spin.valueChanged.connect(self._changed)
        self.gpu_label = QLabel()
        self.gpu_label.setWordWrap(True)
        self.memory_label = QLabel()
        self.memory_label.setWordWrap(True)
        self.memory_warning = error_label()
        form.addRow("Context size:", self.ctx_spin)
        form.addRow("GPU layers:", self.gpu_spin)
        form.addRow(self.gpu_label)
        form.addRow("Threads:", self.threads_spin)
        form.addRow("Memory:", self.memory_label)
        form.addRow(self.memory_warning)

    def _changed(self) -> None:
        if not self._filling:
            self.edited.emit()

    def fill(self, entry: ModelEntry | None, options: LoadOptions) -> None:
        """Show ``options`` for ``entry`` (enabled only for a usable local model)."""
        local = entry is not None and not entry.remote and entry.usable
        self.setEnabled(local)
        if entry is None or not local:
            return
        self._filling = True
        try:
            layers = entry.info.block_count if entry.info is not None else None
            self.gpu_spin.setMaximum(layers or 999)
            trained = entry.info.context_length if entry.info is not None else None
            self.ctx_spin.setSpecialValueText(
                f"trained context ({trained:,})" if trained else "trained context"
            )
            self.ctx_spin.setValue(options.n_ctx)
            self.gpu_spin.setValue(min(options.n_gpu_layers, self.gpu_spin.maximum()))
            self.threads_spin.setValue(options.n_threads or default_threads())
        finally:
            self._filling = False

    def chosen_options(self) -> LoadOptions:
        """The spin boxes as load settings; the default thread count stays "default" so a
        model loaded elsewhere with defaults does not look changed."""
        threads = self.threads_spin.value()
        return LoadOptions(
            n_ctx=self.ctx_spin.value(),
            n_gpu_layers=self.gpu_spin.value(),
            n_threads=None if threads == default_threads() else threads,
        )

    def warn(self, message: str) -> None:
        self.memory_warning.setText(message)
        self.memory_warning.show()

    def update_memory(self, entry: ModelEntry | None, *, available: Callable[[], int],
                      gpu_supported: bool | None) -> None:
        """The estimate for the chosen context and GPU layers, and a warning that quotes both
        the need and what is free (``available()``) when it will not fit."""
        self.memory_warning.hide()
        self.update_gpu_label(gpu_supported)
        if entry is None or entry.remote:
            self.memory_label.setText("not applicable (the model runs on the server)"
                                      if entry is not None else "")
            return
        info = entry.info
        if info is None:
            self.memory_label.setText("")
            return
        n_ctx = self.ctx_spin.value() or info.context_length or 4096
        gpu_layers = self.gpu_spin.value()
        warnings: list[str] = []
        try:
            estimate = check_fits(info, n_ctx, gpu_layers, available=available())
        except InsufficientMemoryError as exc:
            estimate = estimate_memory(info, n_ctx, gpu_layers)
            warnings.append(f"Will not fit: {exc}")
        self.memory_label.setText(estimate.describe())
        if info.context_length and n_ctx > info.context_length:
            warnings.append(
                f"A context of {n_ctx:,} is larger than the {info.context_length:,} tokens the "
                "model was trained for; expect quality to drop past that point."
            )
        if gpu_layers != 0 and gpu_supported is False:
            warnings.append("This llama.cpp build cannot offload to a GPU: every layer runs on "
                            "the CPU, so the estimate's GPU share will be in RAM too.")
        if warnings:
            self.warn("\n".join(warnings))

    def update_gpu_label(self, gpu_supported: bool | None) -> None:
        if gpu_supported is None:
            text = "Checking whether this llama.cpp build supports GPU offload…"
        elif gpu_supported:
            text = "This llama.cpp build supports GPU offload."
        else:
            text = "This llama.cpp build has no GPU offload: GPU layers are ignored."
        self.gpu_label.setText(text)
