"""How a local model loads (context size, GPU layers, threads) and whether that fits in
memory, with the numbers a warning needs: what is needed and what is free.

"GPU layers: auto" is the core's rule (:func:`playground.engine.gpu.auto_gpu_layers`) applied to
the selected model at the chosen context; the load settings keep the number it gives, worked out
again whenever the model, the context or the VRAM changes, so a load always gets a number. The
VRAM is what llama.cpp reports (asked once, in a task, when auto is first chosen) unless the
person gives a figure."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from playground.engine.gpu import GpuLayersChoice, GpuMemory, auto_gpu_layers, probe_gpu_memory
from playground.engine.memory import check_fits, estimate_memory
from playground.engine.options import LoadOptions, default_threads
from playground.errors import InsufficientMemoryError
from ui.services.tasks import TaskRunner
from ui.views.models.details_panel import error_label
from ui.widgets.item_models import ModelEntry

MAX_CONTEXT = 1 << 20
#: QSettings key: whether GPU layers are chosen automatically.
GPU_AUTO_KEY = "models/gpu_layers_auto"
_GIB = 1 << 30


def _gpu_memory() -> Iterator[GpuMemory | None]:
    yield probe_gpu_memory()


class LoadSettingsPanel(QGroupBox):
    """The spin boxes for the selected local model; ``edited`` when a person changes one."""

    edited = Signal()

    def __init__(self, tasks: TaskRunner, settings: QSettings,
                 parent: QWidget | None = None) -> None:
        super().__init__("Load settings", parent)
        self._filling = False
        self._tasks, self._settings = tasks, settings
        self._entry: ModelEntry | None = None
        self._gpu_supported: bool | None = None
        #: what llama.cpp said of its GPUs; None until asked (``asking`` while it is)
        self.gpu_memory: GpuMemory | None = None
        self._asking = False
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
        self.parallel_spin = QSpinBox()
        self.parallel_spin.setRange(1, 8)
        self.parallel_spin.setToolTip(
            "Comparison runs decoded at once in this model (each with its own context); 1 runs "
            "them one at a time, the bit-exact path. A batched seeded run may differ slightly "
            "from the same run alone")
        self.gpu_auto = QCheckBox("auto")
        self.gpu_auto.setToolTip("Offload as many layers as fit the GPU's memory at this "
                                 "context (worked out again when either changes)")
        self.vram_spin = QDoubleSpinBox()
        self.vram_spin.setRange(0.0, 1024.0)
        self.vram_spin.setSingleStep(0.5)
        self.vram_spin.setDecimals(1)
        self.vram_spin.setSuffix(" GiB")
        self.vram_spin.setSpecialValueText("as llama.cpp reports")
        self.vram_spin.setToolTip("GPU memory that automatic GPU layers may fill; leave it at "
                                  "the lowest value to use the free memory llama.cpp reports")
        self.gpu_auto_label = QLabel()
        self.gpu_auto_label.setWordWrap(True)
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu_spin, 1)
        gpu_row.addWidget(self.gpu_auto)
        for spin in (self.ctx_spin, self.gpu_spin, self.threads_spin, self.vram_spin,
                     self.parallel_spin):
            spin.valueChanged.connect(self._changed)
        self.gpu_auto.toggled.connect(self._auto_toggled)
        self.gpu_label = QLabel()
        self.gpu_label.setWordWrap(True)
        self.memory_label = QLabel()
        self.memory_label.setWordWrap(True)
        self.memory_warning = error_label()
        form.addRow("Context size:", self.ctx_spin)
        form.addRow("GPU layers:", gpu_row)
        form.addRow("VRAM to use:", self.vram_spin)
        form.addRow(self.gpu_auto_label)
        form.addRow(self.gpu_label)
        self._form = form
        self.gpu_auto.setChecked(settings.value(GPU_AUTO_KEY) == "yes")
        self._show_auto_rows()
        form.addRow("Threads:", self.threads_spin)
        form.addRow("Parallel runs:", self.parallel_spin)
        form.addRow("Memory:", self.memory_label)
        form.addRow(self.memory_warning)

    def _changed(self) -> None:
        if not self._filling:
            self.resolve_auto()
            self.edited.emit()

    # -- GPU layers: auto ---------------------------------------------------------------------

    def _auto_toggled(self, on: bool) -> None:
        self._settings.setValue(GPU_AUTO_KEY, "yes" if on else "no")
        self._show_auto_rows()
        if on and self.gpu_memory is None and not self._asking:
            self._asking = True
            self._tasks.start(_gpu_memory, on_event=self.set_gpu_memory)
        self._changed()

    def _show_auto_rows(self) -> None:
        on = self.gpu_auto.isChecked()
        self.gpu_spin.setEnabled(not on)
        self._form.setRowVisible(self.vram_spin, on)
        self._form.setRowVisible(self.gpu_auto_label, on)

    def set_gpu_memory(self, memory: GpuMemory | None) -> None:
        """llama.cpp's answer (None: it gave none, which counts as no GPU memory)."""
        self._asking = False
        self.gpu_memory = memory if memory is not None else GpuMemory(False)
        if self.gpu_auto.isChecked():
            self._changed()

    def auto_choice(self) -> GpuLayersChoice | None:
        """The automatic choice for the selected model at the chosen context; None when auto
        is off or there is no model header to work from."""
        info = self._entry.info if self._entry is not None else None
        if not self.gpu_auto.isChecked() or info is None:
            return None
        if self._asking:
            return GpuLayersChoice(0, "asking llama.cpp how much GPU memory there is")
        given = int(self.vram_spin.value() * _GIB)
        memory = self.gpu_memory
        supported = memory.offload_supported if memory is not None else self._gpu_supported
        budget = given or (memory.free_bytes if memory is not None else None)
        n_ctx = self.ctx_spin.value() or info.context_length or 4096
        return auto_gpu_layers(info, n_ctx, offload_supported=supported, vram_budget=budget)

    def resolve_auto(self) -> None:
        """Put the automatic choice in the GPU layers box, and its reason under it."""
        choice = self.auto_choice()
        if choice is None:
            return
        self.gpu_auto_label.setText(f"Auto: {choice.explanation}.")
        filling, self._filling = self._filling, True
        try:
            self.gpu_spin.setValue(min(choice.layers, self.gpu_spin.maximum()))
        finally:
            self._filling = filling

    def fill(self, entry: ModelEntry | None, options: LoadOptions) -> None:
        """Show ``options`` for ``entry`` (enabled only for a usable local model)."""
        local = entry is not None and not entry.remote and entry.usable
        self.setEnabled(local)
        self._entry = entry if local else None
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
            self.parallel_spin.setValue(max(1, options.parallel))
        finally:
            self._filling = False
        self.resolve_auto()

    def chosen_options(self) -> LoadOptions:
        """The spin boxes as load settings; the default thread count stays "default" so a
        model loaded elsewhere with defaults does not look changed."""
        threads = self.threads_spin.value()
        return LoadOptions(
            n_ctx=self.ctx_spin.value(),
            n_gpu_layers=self.gpu_spin.value(),
            n_threads=None if threads == default_threads() else threads,
            parallel=self.parallel_spin.value(),
        )

    def warn(self, message: str) -> None:
        self.memory_warning.setText(message)
        self.memory_warning.show()

    def update_memory(self, entry: ModelEntry | None, *, available: Callable[[], int],
                      gpu_supported: bool | None) -> None:
        """The estimate for the chosen context and GPU layers, and a warning that quotes both
        the need and what is free (``available()``) when it will not fit."""
        self.memory_warning.hide()
        self._gpu_supported = gpu_supported
        self.resolve_auto()
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
        parallel = self.parallel_spin.value()
        try:
            estimate = check_fits(info, n_ctx, gpu_layers, available=available(),
                                  parallel=parallel)
        except InsufficientMemoryError as exc:
            estimate = estimate_memory(info, n_ctx, gpu_layers, parallel=parallel)
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
