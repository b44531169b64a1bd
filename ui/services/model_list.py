"""The models every view offers, read off the GUI thread, with the files added in the Models tab.

The list itself is the core's (:func:`playground.engine.models.model_choices`); the window adds
only where the files added by hand, and the other tools switched off, are remembered.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from PySide6.QtCore import QSettings

from playground.engine.discovery import FOREIGN_SOURCES
from playground.engine.models import ModelChoices, model_choices

#: QSettings key of the GGUF files the user added (a list of paths).
ADDED_KEY = "models/added"
#: QSettings key of the other tools whose models are not looked for (discovery.FOREIGN_SOURCES).
SOURCES_OFF_KEY = "models/sources_off"


def added_model_paths(settings: QSettings) -> list[str]:
    value = settings.value(ADDED_KEY, [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-item list
        value = [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def set_added_model_paths(settings: QSettings, paths: Sequence[str]) -> None:
    settings.setValue(ADDED_KEY, list(dict.fromkeys(paths)))


def switched_off_sources(settings: QSettings) -> list[str]:
    """Other tools switched off in the Models tab (a new tool is looked at until it is)."""
    value = settings.value(SOURCES_OFF_KEY, [])
    if isinstance(value, str):
        value = [value] if value else []
    known = set(FOREIGN_SOURCES)
    return [str(v) for v in value if str(v) in known] if isinstance(value, list) else []


def set_switched_off_sources(settings: QSettings, sources: Sequence[str]) -> None:
    settings.setValue(SOURCES_OFF_KEY, list(dict.fromkeys(sources)))


def model_choices_task(added: Sequence[str],
                       switched_off: Sequence[str] = ()) -> Iterator[ModelChoices]:
    """A task: the model list (it walks model folders and reads the endpoints file)."""
    yield model_choices(added, switched_off)
