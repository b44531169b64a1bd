"""The models the window has loaded, shared by every view.

One :class:`~playground.runs.runner.BackendPool` holds a backend per model key (a local path or
``remote:NAME``). One engine lock lets a single task use the engines at a time: a laptop's
model process does one thing at a time, so a Playground run started during a comparison waits
its turn instead of fighting it for the cores.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from playground.engine.backends import Backend, LoadedModel, LocalBackend
from playground.engine.endpoints import is_remote, resolve_endpoint
from playground.engine.models import default_model_path, resolve_model
from playground.engine.options import LoadOptions
from playground.engine.remote import RemoteBackend
from playground.errors import PlaygroundError
from playground.runs.runner import BackendPool, CancelToken
from ui.services.tasks import TaskRunner

#: How the hub opens a local model file with the settings chosen for it.
LocalOpener = Callable[[Path, LoadOptions], LocalBackend]


def open_local(path: Path, options: LoadOptions) -> LocalBackend:
    """The model in a worker process of its own, brought back after a crash."""
    return LocalBackend(path, options, auto_restart=True)


class ModelHub(QObject):
    """Load, unload and restart models off the GUI thread; report each model's state."""

    #: model key, state ("unloaded", "loading", "ready", "crashed")
    state_changed = Signal(str, str)
    #: model key, the loaded model's facts
    loaded = Signal(str, object)
    #: model key, readable message
    failed = Signal(str, str)
    #: the model new Playground runs and Compare columns start with
    current_changed = Signal(str)

    def __init__(
        self,
        tasks: TaskRunner,
        parent: QObject | None = None,
        *,
        opener: LocalOpener = open_local,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self._open_local = opener
        self._options: dict[str, LoadOptions] = {}
        self._states: dict[str, str] = {}
        #: models with a load task under way: their state is "loading" whatever the backend says
        self._loading: set[str] = set()
        self._backends: dict[str, Backend] = {}
        self._backends_lock = threading.Lock()
        self.pool = BackendPool(factory=self._make_backend)
        self.engine_lock = threading.Lock()
        default = default_model_path()
        self._current = str(default) if default is not None else ""
        # A worker can crash in the middle of any task; a light poll of the states (attribute
        # reads only) keeps the Models view honest without each task reporting it.
        self._poll = QTimer(self)
        self._poll.setInterval(300)
        self._poll.timeout.connect(self._refresh_states)
        self._poll.start()

    # -- choosing ---------------------------------------------------------------------------

    @property
    def current(self) -> str:
        return self._current

    def set_current(self, model: str) -> None:
        if model != self._current:
            self._current = model
            self.current_changed.emit(model)

    def options_for(self, model: str) -> LoadOptions:
        return self._options.get(model, LoadOptions())

    def set_options(self, model: str, options: LoadOptions) -> None:
        """Settings for the next load; a loaded model keeps its settings until reloaded."""
        self._options[model] = options

    # -- backends ---------------------------------------------------------------------------

    def _make_backend(self, model: str) -> Backend:
        backend: Backend
        if is_remote(model):
            backend = RemoteBackend(resolve_endpoint(model))
        else:
            backend = self._open_local(resolve_model(model or None), self.options_for(model))
        with self._backends_lock:
            self._backends[model] = backend
        return backend

    def backend(self, model: str) -> Backend | None:
        with self._backends_lock:
            return self._backends.get(model)

    def state(self, model: str) -> str:
        """The model's state as the window knows it: "loading" until the load's result has
        reached the GUI thread, though the worker may already be up, so that no view sees
        "ready" before the load's facts and signals have arrived."""
        if model in self._loading:
            return "loading"
        backend = self.backend(model)
        if isinstance(backend, LocalBackend):
            return str(backend.state)
        if backend is not None:
            return "ready"
        return "unloaded"

    def loaded_model(self, model: str) -> LoadedModel | None:
        backend = self.backend(model)
        return backend.loaded if isinstance(backend, LocalBackend) else None

    def _refresh_states(self) -> None:
        with self._backends_lock:
            keys = list(self._backends)
        for key in set(keys) | set(self._states):
            state = self.state(key)
            if self._states.get(key) != state:
                self._states[key] = state
                self.state_changed.emit(key, state)

    # -- the engine lock ----------------------------------------------------------------------

    def acquire(self, cancel: CancelToken) -> bool:
        """Wait for the engines (on a worker thread); False when cancelled while waiting."""
        while not self.engine_lock.acquire(timeout=0.05):
            if cancel.cancelled:
                return False
        return True

    # -- load / unload / restart, off the GUI thread ----------------------------------------

    def _load_task(self, model: str, restart: bool) -> Iterator[object]:
        with self.engine_lock:
            yield from self._load_locked(model, restart)

    def _load_locked(self, model: str, restart: bool) -> Iterator[object]:
        with self._backends_lock:
            old = self._backends.get(model)
        # New settings apply on a fresh worker.
        if (
            not restart
            and isinstance(old, LocalBackend)
            and old.options != self.options_for(model)
        ):
            with self._backends_lock:
                self._backends.pop(model, None)
            self.pool.discard(model)
        backend = self.pool.get(model)
        if isinstance(backend, LocalBackend):
            loaded = backend.restart() if restart else backend.start()
            yield ("loaded", model, loaded)
        elif isinstance(backend, RemoteBackend):
            backend.models()  # reaches the server, so a wrong address fails here
            yield ("loaded", model, None)

    def load(self, model: str, *, restart: bool = False) -> None:
        """Start the model's worker (or restart it with the same settings)."""

        def event(item: object) -> None:
            assert isinstance(item, tuple)
            if item[0] == "loaded":
                self._loading.discard(model)
                self._refresh_states()
                self.loaded.emit(model, item[2])

        def error(message: str) -> None:
            self._loading.discard(model)
            self._refresh_states()
            self.failed.emit(model, message)

        self._loading.add(model)
        self._states[model] = "loading"
        self.state_changed.emit(model, "loading")
        self.tasks.start(
            self._load_task, model, restart, on_event=event, on_error=error,
            on_done=lambda: self._finish_load(model),
        )

    def _finish_load(self, model: str) -> None:
        """A load task that ended without a result (stopped early) no longer counts."""
        if model in self._loading:
            self._loading.discard(model)
            self._refresh_states()

    def unload(self, model: str) -> None:
        backend = self.backend(model)
        if backend is None:
            return

        def task() -> Iterator[None]:
            backend.cancel()  # a run in flight ends now instead of holding the engines
            with self.engine_lock:
                backend.close()
            yield None

        self.tasks.start(task, on_done=self._refresh_states)

    def cancel_all(self) -> None:
        """Cancel whatever every backend is generating (from any thread)."""
        with self._backends_lock:
            backends = list(self._backends.values())
        for backend in backends:
            backend.cancel()

    def close(self) -> None:
        """Stop every worker process (on quit)."""
        self._poll.stop()
        with contextlib.suppress(PlaygroundError):
            self.pool.close()
        with self._backends_lock:
            self._backends.clear()
