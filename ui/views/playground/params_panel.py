"""Sampling settings as sliders a person can drag, each with a way back to the template's value.

The panel never invents its own rules: ranges follow :mod:`playground.sampling`'s validation and
:meth:`ParamsPanel.params` builds a :class:`~playground.sampling.SamplingParams`, so whatever it
refuses is refused with the core's own message.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider, QLabeledSlider

from playground.errors import SamplingError
from playground.sampling import (
    HIGHEST_TEMPERATURE,
    MAX_SEED,
    USUAL_MAX_TEMPERATURE,
    SamplingParams,
    temperature_ceiling,
)
from ui.widgets.palette import ERROR_STYLE

#: name, label, low, high, decimals (None for whole numbers), help. The float ranges are the
#: validation's; top-k and max tokens stop at a practical bound for a slider (a larger value set
#: from a template or a stored run widens the slider to fit).
KNOBS: tuple[tuple[str, str, float, float, int | None, str], ...] = (
    ("temperature", "Temperature", 0.0, 2.0, 2,
     "Randomness of the choice of each token; 0 always takes the most likely one."),
    ("top_k", "Top-k", 0, 1000, None,
     "Choose only among the k most likely tokens (0 = no limit)."),
    ("top_p", "Top-p", 0.0, 1.0, 2,
     "Choose among the most likely tokens that together make up this probability."),
    ("min_p", "Min-p", 0.0, 1.0, 2,
     "Drop tokens less likely than this fraction of the most likely token."),
    ("repeat_penalty", "Repeat penalty", 0.0, 10.0, 2,
     "Above 1 makes recently used tokens less likely (1 = off)."),
    ("max_tokens", "Max tokens", 1, 8192, None,
     "The longest output, in tokens."),
)


_ESCAPES = {"n": "\n", "t": "\t", "s": " ", ",": ",", "\\": "\\"}


def parse_stop(text: str) -> tuple[str, ...]:
    """Stop sequences from the line edit: separated by commas or new lines; ``\\n``, ``\\t``,
    ``\\s`` (a space), ``\\,`` and ``\\\\`` write what cannot be typed plainly. Spaces around
    an entry are trimmed (escaped ones are kept); empty entries are dropped."""
    items: list[str] = []
    current: list[tuple[str, bool]] = []  # (text, escaped)

    def finish() -> None:
        while current and not current[0][1] and current[0][0].isspace():
            current.pop(0)
        while current and not current[-1][1] and current[-1][0].isspace():
            current.pop()
        if current:
            items.append("".join(piece for piece, _ in current))
        current.clear()

    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            following = text[i + 1]
            current.append((_ESCAPES.get(following, "\\" + following), True))
            i += 2
            continue
        if ch in ",\n":
            finish()
        else:
            current.append((ch, False))
        i += 1
    finish()
    return tuple(items)


def format_stop(stop: tuple[str, ...]) -> str:
    """The line-edit form of stop sequences; ``parse_stop`` reads it back unchanged."""

    def escape(item: str) -> str:
        text = item.replace("\\", "\\\\").replace(",", "\\,").replace("\n", "\\n")
        text = text.replace("\t", "\\t")
        if text.startswith(" "):
            text = "\\s" + text[1:]
        if text.endswith(" "):
            text = text[:-1] + "\\s"
        return text

    return ", ".join(escape(s) for s in stop)


class ParamsPanel(QWidget):
    """Temperature, top-k, top-p, min-p, repeat penalty and max tokens as labelled sliders,
    plus the seed and the stop sequences. ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = SamplingParams()
        self._defaults = SamplingParams()
        self._quiet = False
        self.sliders: dict[str, Any] = {}
        self.reset_buttons: dict[str, QToolButton] = {}

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        for row, (name, label, low, high, decimals, help_text) in enumerate(KNOBS):
            slider = self._slider(low, high, decimals)
            slider.setObjectName(name)
            slider.setToolTip(help_text)
            title = QLabel(label)
            title.setToolTip(help_text)
            title.setBuddy(slider)
            reset = QToolButton()
            reset.setText("↺")
            reset.setObjectName(f"reset_{name}")
            reset.setAutoRaise(True)
            reset.clicked.connect(lambda _=False, n=name: self.reset(n))
            grid.addWidget(title, row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(reset, row, 2)
            self.sliders[name] = slider
            self.reset_buttons[name] = reset
            slider.valueChanged.connect(self._edited)

        self.seed_spin = QDoubleSpinBox()
        self.seed_spin.setDecimals(0)
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setToolTip("The same seed with the same settings gives the same output.")
        self.random_seed = QCheckBox("random")
        self.random_seed.setToolTip("Draw a new seed for every run (the seed used is recorded).")
        self.random_seed.setChecked(True)
        self.seed_spin.setEnabled(False)
        self.random_seed.toggled.connect(self._random_toggled)
        self.seed_spin.valueChanged.connect(self._edited)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.random_seed)
        row = len(KNOBS)
        grid.addWidget(QLabel("Seed"), row, 0)
        grid.addLayout(seed_row, row, 1, 1, 2)

        self.stop_edit = QLineEdit()
        self.stop_edit.setPlaceholderText("e.g. \\n\\n, User:")
        self.stop_edit.setToolTip(
            "Generation stops at any of these. Separate them with commas; write \\n for a new "
            "line, \\t for a tab, \\s for a space at either end, \\, for a comma."
        )
        self.stop_edit.textChanged.connect(self._edited)
        grid.addWidget(QLabel("Stop at"), row + 1, 0)
        grid.addWidget(self.stop_edit, row + 1, 1, 1, 2)

        self.allow_high = QCheckBox(f"Allow temperature above {USUAL_MAX_TEMPERATURE:g}")
        self.allow_high.setToolTip(
            f"Extends the temperature slider to {HIGHEST_TEMPERATURE:g}: above "
            f"{USUAL_MAX_TEMPERATURE:g} most models write noise.")
        self.allow_high.toggled.connect(self._allow_high_toggled)
        grid.addWidget(self.allow_high, row + 2, 1, 1, 2)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addWidget(self.message)
        self.set_params(SamplingParams())

    @staticmethod
    def _slider(low: float, high: float, decimals: int | None) -> Any:
        slider: Any
        if decimals is None:
            slider = QLabeledSlider(Qt.Orientation.Horizontal)
            slider.setRange(int(low), int(high))
        else:
            slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
            slider.setDecimals(decimals)
            slider.setRange(low, high)
            slider.setSingleStep(10 ** -decimals)
        return slider

    # -- named access for code and tests -----------------------------------------------------

    @property
    def temperature(self) -> Any:
        return self.sliders["temperature"]

    @property
    def top_k(self) -> Any:
        return self.sliders["top_k"]

    @property
    def top_p(self) -> Any:
        return self.sliders["top_p"]

    @property
    def min_p(self) -> Any:
        return self.sliders["min_p"]

    @property
    def repeat_penalty(self) -> Any:
        return self.sliders["repeat_penalty"]

    @property
    def max_tokens(self) -> Any:
        return self.sliders["max_tokens"]

    # -- values ----------------------------------------------------------------------------

    def _value(self, name: str) -> int | float:
        slider = self.sliders[name]
        if isinstance(slider, QLabeledDoubleSlider):
            return round(float(slider.value()), 4)
        return int(slider.value())

    def params(self) -> SamplingParams:
        """The settings as shown; raises SamplingError (a readable message) when invalid."""
        values: dict[str, Any] = {name: self._value(name) for name, *_ in KNOBS}
        seed = None if self.random_seed.isChecked() else int(self.seed_spin.value())
        return replace(self._base, **values, seed=seed, stop=parse_stop(self.stop_edit.text()))

    def problem(self) -> str | None:
        """Why the current settings cannot be used, or None."""
        try:
            self.params()
        except SamplingError as exc:
            return str(exc)
        return None

    def set_params(self, params: SamplingParams) -> None:
        """Show ``params`` (settings without a slider, like the penalties, are kept as they
        are); emits ``changed`` once."""
        self._quiet = True
        try:
            self._base = params
            self.note.hide()
            data = params.to_dict()
            for name, *_ in KNOBS:
                value = data[name]
                self._widen(name, value)
                self.sliders[name].setValue(value)
            self.random_seed.setChecked(params.seed is None)
            if params.seed is not None:
                self.seed_spin.setValue(params.seed)
            self.stop_edit.setText(format_stop(params.stop))
        finally:
            self._quiet = False
        self._edited()

    def set_defaults(self, params: SamplingParams) -> None:
        """The template's own settings, which the reset buttons go back to."""
        self._defaults = params
        self._update_resets()

    def defaults(self) -> SamplingParams:
        return self._defaults

    def reset(self, name: str) -> None:
        value = self._defaults.to_dict()[name]
        self._widen(name, value)
        self.sliders[name].setValue(value)

    def _widen(self, name: str, value: float) -> None:
        """A value from a template or a stored run beyond the slider's range widens it, so it
        is shown as it is rather than clipped; a temperature above the usual top turns on
        "allow higher" and says why."""
        slider = self.sliders[name]
        if value <= slider.maximum():
            return
        if name == "temperature" and value <= HIGHEST_TEMPERATURE:
            self.allow_high.setChecked(True)
            self.note.setText(f"Temperature {value:g} is above the usual 0–"
                              f"{USUAL_MAX_TEMPERATURE:g}: the slider now goes to "
                              f"{HIGHEST_TEMPERATURE:g} to show it.")
            self.note.show()
        if value > slider.maximum():
            slider.setMaximum(value)

    def new_seed(self) -> int:
        """A fresh seed for a run with "random" on (0xFFFFFFFE itself means 0 to the runner)."""
        return random.randint(0, MAX_SEED - 1)

    # -- reacting ------------------------------------------------------------------------

    def _allow_high_toggled(self, checked: bool) -> None:
        """Turning it off brings a higher temperature back to the usual top."""
        self.temperature.setMaximum(temperature_ceiling(checked))
        if not checked:
            self.note.hide()

    def _random_toggled(self, checked: bool) -> None:
        self.seed_spin.setEnabled(not checked)
        self._edited()

    def _update_resets(self) -> None:
        defaults = self._defaults.to_dict()
        for name, *_ in KNOBS:
            button = self.reset_buttons[name]
            differs = self._value(name) != defaults[name]
            button.setEnabled(differs)
            button.setToolTip(f"Back to the template's value ({defaults[name]})")

    def _edited(self, *_: object) -> None:
        if self._quiet:
            return
        self._update_resets()
        problem = self.problem()
        self.message.setText(problem or "")
        self.message.setVisible(problem is not None)
        self.changed.emit()
