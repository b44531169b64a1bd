"""The models every view offers, read off the GUI thread, with the files added in the Models tab.

The list itself is the core's (:func:`playground.engine.models.model_choices`); the window adds
only where the files added by hand are remembered.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from PySide6.QtCore import QSettings

from playground.engine.models import ModelChoices, model_choices

#: QSettings key of the GGUF files the user added (a list of paths).
ADDED_KEY = "models/added"


def added_model_paths(settings: QSettings) -> list[str]:
    value = settings.value(ADDED_KEY, [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-item list
        value = [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def set_added_model_paths(settings: QSettings, paths: Sequence[str]) -> None:
    settings.setValue(ADDED_KEY, list(dict.fromkeys(paths)))


def model_choices_task(added: Sequence[str]) -> Iterator[ModelChoices]:
    """A task: the model list (it walks model folders and reads the endpoints file)."""
    yield model_choices(added)
