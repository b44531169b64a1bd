"""The few colours the window speaks with: an error, a warning or a muted note looks the same in
every view."""

from __future__ import annotations

ERROR = "#b00020"
WARNING = "#8a5a00"
MUTED = "#666666"

ERROR_STYLE = f"color: {ERROR};"
WARNING_STYLE = f"color: {WARNING};"
MUTED_STYLE = f"color: {MUTED};"
