"""Example sets, presets and datasets as rows of text cells, and edited rows read back.

Anything that shows these entries as a table (the Library tab) and lets a person edit the cells
goes through here, so that what a blank row, a missing value or a repeated setting means is
decided once. Preset values are cells of YAML, read with the strict loader: ``0.7`` is a number,
``["\\n\\n"]`` a list, and the text shown for a stored value reads back as that same value.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from playground.prompts.formats import LibraryError, load_yaml_strict
from playground.prompts.library import Dataset, ExampleSet, Preset

EXAMPLE_COLUMNS = ("input", "output", "rationale")
PRESET_COLUMNS = ("setting", "value")
REFERENCES_SEPARATOR = " | "

Rows = Sequence[Sequence[str]]


def example_rows(example_set: ExampleSet) -> list[list[str]]:
    return [[e["input"], e["output"], e.get("rationale", "")] for e in example_set.examples]


def examples_from_rows(rows: Rows) -> tuple[dict[str, str], ...]:
    """Blank rows are left out, and so is an empty rationale (an example without one)."""
    examples = []
    for row in rows:
        values = [*row, "", "", ""][:3]
        if not any(v.strip() for v in values):
            continue
        example = {"input": values[0], "output": values[1]}
        if values[2].strip():
            example["rationale"] = values[2]
        examples.append(example)
    return tuple(examples)


def value_text(value: Any) -> str:
    """A setting as the YAML the preset table reads back: JSON is YAML, and its quotes keep
    a stop string such as "\\n" visible."""
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)


def preset_rows(preset: Preset) -> list[list[str]]:
    return [[key, value_text(value)] for key, value in preset.params.items()]


def params_from_rows(rows: Rows) -> dict[str, Any]:
    """Settings by name; a blank row is skipped, a row with only a name or only a value is
    refused with its number, as is a setting given twice."""
    params: dict[str, Any] = {}
    for number, row in enumerate(rows, start=1):
        setting = (row[0] if row else "").strip()
        value = row[1] if len(row) > 1 else ""
        if not setting and not value.strip():
            continue
        if not setting:
            raise LibraryError(f"row {number}: the setting needs a name")
        if setting in params:
            raise LibraryError(f"row {number}: {setting!r} is set twice")
        if not value.strip():
            raise LibraryError(f"row {number}: {setting!r} needs a value")
        params[setting] = load_yaml_strict(value, f"row {number}: {setting}")
    return params


def edited(entry: ExampleSet | Preset, rows: Rows) -> ExampleSet | Preset:
    """The entry with its table's rows as content; its name and task stay. A preset's settings
    are checked here (SamplingError names the bad one)."""
    if isinstance(entry, Preset):
        return Preset(entry.name, params_from_rows(rows))
    return ExampleSet(entry.name, entry.task, examples_from_rows(rows))


def dataset_table(dataset: Dataset) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: every variable any row has, in first-seen order, then the references
    joined into one cell."""
    names: list[str] = []
    for row in dataset.rows:
        names.extend(k for k in row if k != "references" and k not in names)
    rows = [
        [_cell_text(row.get(name, "")) for name in names]
        + [REFERENCES_SEPARATOR.join(row.get("references") or [])]
        for row in dataset.rows
    ]
    return [*names, "references"], rows


def _cell_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)
