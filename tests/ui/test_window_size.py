"""The window fits a 1366×768 laptop screen: at the first start, and when the size saved on a
bigger monitor is restored there. Each case runs the window in its own process on an offscreen
screen of that size (the test process's own screen is Qt's default)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: Opens the window over the given settings file on the configured screen and prints where it
#: is and what the screen leaves free, after an optional settings write of a huge window.
PROBE = """
import json, sys
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow
from ui.app import application
from ui.context import AppContext
from ui.main_window import MainWindow

app = application()
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
if sys.argv[2] == "saved-huge":
    # What a 2560x1440 monitor leaves in the settings file.
    big = QMainWindow()
    big.resize(2400, 1350)
    big.move(80, 60)
    big.show()
    app.processEvents()
    settings.setValue("window/geometry", big.saveGeometry())
    settings.sync()
    big.close()
window = MainWindow(AppContext(settings))
window.show()
app.processEvents()
frame, free = window.frameGeometry(), window.screen().availableGeometry()
print(json.dumps({"frame": frame.getRect(), "free": free.getRect(),
                  "size": [window.width(), window.height()]}))
window.close()
"""


def _open_on_laptop_screen(tmp_path: Path, case: str) -> dict[str, list[int]]:
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{
        "name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={screen}"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "settings.ini"), case],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, list[int]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _inside(frame: list[int], free: list[int]) -> bool:
    x, y, w, h = frame
    fx, fy, fw, fh = free
    return fx <= x and fy <= y and x + w <= fx + fw and y + h <= fy + fh


def test_the_first_window_fits_a_1366_by_768_screen(tmp_path: Path) -> None:
    shown = _open_on_laptop_screen(tmp_path, "fresh")
    assert shown["free"] == [0, 0, 1366, 768]
    assert _inside(shown["frame"], shown["free"]), shown
    # Still a working size, not a sliver.
    assert shown["size"][0] >= 1024 and shown["size"][1] >= 600


def test_a_size_saved_on_a_bigger_monitor_is_brought_inside_the_screen(tmp_path: Path) -> None:
    shown = _open_on_laptop_screen(tmp_path, "saved-huge")
    assert _inside(shown["frame"], shown["free"]), shown
    assert shown["size"][0] >= 1024 and shown["size"][1] >= 600
