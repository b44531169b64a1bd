"""The remembered "Allow temperature above 2" choice, read by every view with a temperature box.

The Playground writes it (its check box, saved under this key); Compare reads it, so both offer
the same range through :func:`playground.sampling.temperature_ceiling`."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from playground.sampling import temperature_ceiling

HIGH_TEMPERATURE_KEY = "playground/high_temperature"


def allow_high_temperature(settings: QSettings) -> bool:
    return bool(settings.value(HIGH_TEMPERATURE_KEY, False, type=bool))


def temperature_top(settings: QSettings) -> float:
    """The top of a temperature box under the remembered choice."""
    return temperature_ceiling(allow_high_temperature(settings))
