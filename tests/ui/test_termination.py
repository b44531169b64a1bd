"""A plain ``kill`` (SIGTERM) of the running app closes its window as Quit does: the settings are
written and the process exits cleanly, instead of dying with what the user set up."""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LAUNCH = "import sys; from ui.launcher import main; sys.exit(main(sys.argv[1:]))"


def _settings_file(profile: Path) -> Path:
    """Where QSettings keeps the app's settings on Linux (under $XDG_CONFIG_HOME)."""
    return profile / "config" / "Prompt Playground" / "playground.conf"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and XDG paths")
def test_sigterm_saves_the_settings_and_exits_cleanly(isolated_profile: Path) -> None:
    settings = _settings_file(isolated_profile)
    settings.parent.mkdir(parents=True)
    # Something the user chose earlier: the Library tab open, temperatures above 2 allowed.
    settings.write_text("[window]\ntab=4\n\n[playground]\nhigh_temperature=true\n")
    database = isolated_profile / "history.db"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # The window opens the history database once it is built; then it is up.
        deadline = time.monotonic() + 120
        while not database.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1]
        assert database.exists(), "the window never opened its database"
        before = settings.stat().st_mtime_ns
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert settings.stat().st_mtime_ns > before
    written = configparser.ConfigParser()
    written.read(settings, encoding="utf-8")
    assert written["window"]["tab"] == "4"
    assert written["window"]["geometry"]  # what only the window's close writes
    assert written["playground"]["high_temperature"] == "true"
