"""The window while the model works: the longest event-loop stall during a model load and while
300 tokens stream through the Playground with the token view on, and how fast tokens arrive in
the window against what the worker measured."""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from pathlib import Path

TOKENS = 300
ROUNDS = 3


def _idle(context: object, timeout_s: float = 10.0) -> None:
    from ui.scripted import settle

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        settle(200)
        if context.tasks.running == 0:  # type: ignore[attr-defined]
            return


class _Probe:
    """Longest gap between ticks of a 5 ms timer: how long the window could not react."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.worst = 0.0
        self.last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, (now - self.last) * 1000)
        self.last = now

    def start(self) -> None:
        gc.collect()
        self.worst, self.last = 0.0, time.perf_counter()
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.worst


def responsiveness() -> list[tuple[str, str]]:
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings

    from playground.sampling import SamplingParams
    from playground.worker import LoadOptions
    from ui.app import application
    from ui.context import AppContext
    from ui.main_window import MainWindow
    from ui.scripted import wait_for

    application()
    with tempfile.TemporaryDirectory(prefix="playground-bench-") as home:
        settings = QSettings(str(Path(home) / "settings.ini"), QSettings.Format.IniFormat)
        context = AppContext(settings, db_path=Path(home) / "history.db",
                             libraries_dir=Path(home) / "libraries")
        window = MainWindow(context)
        window.resize(1440, 900)
        window.show()
        view, hub, probe = window.playground, context.hub, _Probe()
        hub.set_options(hub.current, LoadOptions(n_ctx=2048))
        view.select_template("Built-in", "explain-zero-shot")
        view.variables.set_values({"concept": "recursion"})
        view.params.set_params(SamplingParams(temperature=0.0, max_tokens=TOKENS, stop=(), seed=1))
        view.token_check.setChecked(True)
        _idle(context)  # the first paint and the start-up reads are not the model's doing
        loads, streams, window_rates, worker_rates = [], [], [], []
        try:
            for _ in range(ROUNDS):
                probe.start()
                wait_for(hub.loaded, lambda: hub.load(hub.current, restart=True))
                loads.append(probe.stop())
                arrivals: list[float] = []
                stamp = arrivals.append
                view.output.textChanged.connect(lambda stamp=stamp: stamp(time.perf_counter()))
                probe.start()
                (done,) = wait_for(view.run_finished, view.run)
                streams.append(probe.stop())
                view.output.textChanged.disconnect()
                result = getattr(done, "result", None)
                if result is None or result.completion_tokens != TOKENS:
                    raise RuntimeError(f"the run did not stream {TOKENS} tokens: {done}")
                worker_rates.append(result.tokens_per_second or 0.0)
                span = arrivals[-1] - arrivals[1] if len(arrivals) > 2 else 0.0
                window_rates.append((TOKENS - 1) / span if span > 0 else 0.0)
        finally:
            window.close()
    return [
        ("rounds (model load + one Playground run each)", str(ROUNDS)),
        ("tokens per run (token view on)", str(TOKENS)),
        ("longest stall while loading (max over rounds, target <= 50 ms)", f"{max(loads):.1f} ms"),
        ("longest stall while streaming (max over rounds, target <= 50 ms)",
         f"{max(streams):.1f} ms"),
        ("decode tok/s measured by the worker (median)",
         f"{statistics.median(worker_rates):.1f}"),
        ("tokens/s arriving in the window (median)", f"{statistics.median(window_rates):.1f}"),
    ]
