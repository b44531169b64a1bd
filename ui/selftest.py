"""``playground --self-test``: what an installed or packaged app checks about itself.

It opens the real window (offscreen unless a platform is chosen), loads the default model from
the Models hub, runs a Playground generation of a few tokens through the same path a click on
Run takes, and exits 0 only if all of that worked. It uses a throwaway profile, so it neither
reads nor writes the user's settings or history.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from playground.engine.models import model_display_name
from playground.wording import plural

SELF_TEST_TEMPLATE = ("Built-in", "explain-zero-shot")
SELF_TEST_VALUES = {"concept": "recursion"}
TIMEOUT_S = 180.0


def main() -> int:
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="playground-self-test-") as home:
        os.environ["PLAYGROUND_DB"] = str(Path(home) / "history.db")
        try:
            message = _run(Path(home))
        except _SelfTestError as exc:
            sys.stderr.write(f"self-test failed: {exc}\n")
            return 1
    sys.stdout.write(f"self-test ok: {message}\n")
    return 0


class _SelfTestError(Exception):
    pass


def _run(home: Path) -> str:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from playground.engine.options import LoadOptions
    from playground.sampling import SamplingParams
    from ui.app import application
    from ui.context import AppContext
    from ui.main_window import MainWindow

    app = application()
    settings = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    context = AppContext(settings, db_path=home / "history.db", libraries_dir=home / "libraries")
    window = MainWindow(context)
    window.show()
    try:
        app.processEvents()
        if not window.isVisible():
            raise _SelfTestError("the window did not open")
        templates = len(context.collection().templates())
        hub = context.hub
        if not hub.current:
            raise _SelfTestError("the default model was not found")
        hub.set_options(hub.current, LoadOptions(n_ctx=512))

        loop = QEventLoop()
        outcome: dict[str, object] = {}

        def done(key: str, value: object) -> None:
            outcome[key] = value
            loop.quit()

        QTimer.singleShot(int(TIMEOUT_S * 1000), lambda: done("timeout", True))
        hub.loaded.connect(lambda _model, loaded: done("loaded", loaded))
        hub.failed.connect(lambda _model, message: done("error", message))
        started = time.monotonic()
        hub.load(hub.current)
        loop.exec()
        if "loaded" not in outcome:
            raise _SelfTestError(str(outcome.get("error", "loading the model timed out")))
        load_s = time.monotonic() - started

        view = window.playground
        view.select_template(*SELF_TEST_TEMPLATE)
        view.variables.set_values(SELF_TEST_VALUES)
        view.params.set_params(SamplingParams(temperature=0.0, max_tokens=4, seed=1))
        outcome.clear()
        view.run_finished.connect(lambda event: done("run", event))
        view.run()
        loop.exec()
        event = outcome.get("run")
        result = getattr(event, "result", None)
        if result is None or getattr(event, "status", None) != "ok":
            reason = getattr(event, "error", None) or outcome.get("error") or "no result"
            raise _SelfTestError(f"the Playground run did not complete: {reason}")
        return (
            f"window opened, {templates} templates, {model_display_name(hub.current)} loaded in "
            f"{load_s:.2f} s, generated {plural(result.completion_tokens, 'token')}"
        )
    finally:
        window.close()
