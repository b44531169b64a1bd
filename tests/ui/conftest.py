"""Fixtures for driving the window: an isolated profile, the window itself, an event-loop
probe, and a check that no test leaves background work running.

The window's local models are scripted (:mod:`tests.fakes`) unless the test is marked
``model``: a widget test needs something that streams tokens, not llama.cpp. A test scripts
the fake model through the ``fake_engine`` fixture.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, QSettings, QThreadPool, QTimer
from pytestqt.qtbot import QtBot

from tests.fakes import FakeEngine
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.services.hub import open_local


@pytest.fixture(autouse=True)
def isolated_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own database, libraries, models folder and settings."""
    home = tmp_path / "profile"
    home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("PLAYGROUND_DB", str(home / "history.db"))
    monkeypatch.setenv("PLAYGROUND_ENDPOINTS", str(home / "endpoints.json"))
    return home


@pytest.fixture(autouse=True)
def no_leftover_tasks() -> Iterator[None]:
    """A test that leaves a task running fails: it would leak into the next test."""
    yield
    pool = QThreadPool.globalInstance()
    if not pool.waitForDone(20000):
        pytest.fail(f"{pool.activeThreadCount()} background task(s) still running after the test")


@pytest.fixture
def settings(isolated_profile: Path) -> QSettings:
    return QSettings(str(isolated_profile / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def fake_engine() -> FakeEngine:
    """The scripted model the window opens in a test that is not marked ``model``."""
    return FakeEngine()


@pytest.fixture
def context(
    qtbot: QtBot, settings: QSettings, request: pytest.FixtureRequest, fake_engine: FakeEngine
) -> Iterator[AppContext]:
    real = request.node.get_closest_marker("model") is not None
    ctx = AppContext(settings, opener=open_local if real else fake_engine.open)
    yield ctx
    ctx.close()


@pytest.fixture
def window(qtbot: QtBot, context: AppContext) -> Iterator[MainWindow]:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture
def laptop(qtbot: QtBot, context: AppContext) -> Iterator[MainWindow]:
    """The main window at a laptop's 1366×768, in front, once its start-up tasks are done."""
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: context.tasks.running == 0, timeout=60000)
    yield win
    win.playground.stop()
    win.close()


class StallProbe:
    """Measures the longest gap between ticks of a fast timer: how long the event loop was
    unable to run anything (a frozen window, as a person would feel it)."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.interval_ms = interval_ms
        self.max_gap_ms = 0.0
        self.ticks = 0
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.max_gap_ms = 0.0
        self.ticks = 0
        self._last = time.perf_counter()
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap_ms = max(self.max_gap_ms, (now - self._last) * 1000.0)
        self._last = now
        self.ticks += 1

    def stop(self) -> float:
        self._timer.stop()
        return self.max_gap_ms


@pytest.fixture
def stall_probe(qtbot: QtBot) -> Iterator[StallProbe]:
    probe = StallProbe()
    yield probe
    probe.stop()
