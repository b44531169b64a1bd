"""What the Playground keeps between sessions: the template chosen, the settings, the toggles
and the splitters, in the ``playground`` group of the app's settings."""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, QSignalBlocker
from PySide6.QtWidgets import QSplitter

from playground.engine.models import model_exists
from playground.errors import PlaygroundError, SamplingError
from playground.sampling import SamplingParams

if TYPE_CHECKING:
    from ui.views.playground.playground_view import PlaygroundView


def splitters(view: PlaygroundView) -> tuple[tuple[str, QSplitter], ...]:
    return (("splitter", view.splitter), ("center_splitter", view.center_splitter),
            ("right_splitter", view.right_splitter))


def save_view_settings(view: PlaygroundView, settings: QSettings) -> None:
    settings.beginGroup("playground")
    try:
        key = view.picker.current()
        settings.setValue("template_library", key[0] if key else "")
        settings.setValue("template_id", key[1] if key else "")
        # Invalid settings are not worth keeping; the last good ones stay.
        with contextlib.suppress(SamplingError):
            settings.setValue("params", json.dumps(view.params.params().to_dict()))
        settings.setValue("seed", int(view.params.seed_spin.value()))
        settings.setValue("live", view.live_check.isChecked())
        settings.setValue("token_view", view.token_check.isChecked())
        settings.setValue("output_format", json.dumps(view.output_format.state()))
        settings.setValue("high_temperature", view.params.allow_high.isChecked())
        for name, splitter in splitters(view):
            settings.setValue(name, splitter.saveState())
    finally:
        settings.endGroup()
    settings.setValue("models/current", view.context.hub.current)


def restore_settings(view: PlaygroundView, settings: QSettings) -> None:
    model = settings.value("models/current", "", type=str)
    if isinstance(model, str) and model and model_exists(model):
        view.context.hub.set_current(model)
    settings.beginGroup("playground")
    try:
        _restore_view(view, settings)
    finally:
        settings.endGroup()


def _restore_view(view: PlaygroundView, settings: QSettings) -> None:
    for name, splitter in splitters(view):
        state = settings.value(name)
        if isinstance(state, QByteArray):
            splitter.restoreState(state)
    high = settings.value("high_temperature", False, type=bool)
    view.params.allow_high.setChecked(bool(high))
    library = settings.value("template_library", "", type=str)
    template_id = settings.value("template_id", "", type=str)
    if isinstance(library, str) and isinstance(template_id, str) and template_id:
        view.select_template(library, template_id)
    raw = settings.value("params", "", type=str)
    if isinstance(raw, str) and raw:
        # Settings from an older version: the template's own settings stay.
        with contextlib.suppress(ValueError, TypeError, PlaygroundError):
            view.params.set_params(SamplingParams.from_dict(json.loads(raw)))
    output = settings.value("output_format", "", type=str)
    if isinstance(output, str) and output:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            view.output_format.restore(json.loads(output))
    seed = settings.value("seed", 0, type=int)
    if isinstance(seed, int) and view.params.random_seed.isChecked():
        with QSignalBlocker(view.params.seed_spin):
            view.params.seed_spin.setValue(seed)
    view.token_check.setChecked(bool(settings.value("token_view", False, type=bool)))
    view.live_check.setChecked(bool(settings.value("live", False, type=bool)))
