"""Entries as rows of text cells: what a table shows reads back as the same entry, and an edited
table is refused with the row that is wrong."""

from __future__ import annotations

import pytest

from playground.errors import PlaygroundError, SamplingError
from playground.prompts.formats import LibraryError
from playground.prompts.library import BUILTIN_PRESETS, Dataset, ExampleSet, Preset
from playground.prompts.tables import (
    dataset_table,
    edited,
    example_rows,
    examples_from_rows,
    params_from_rows,
    preset_rows,
)

SHOTS = ExampleSet("shots", "qa", (
    {"input": "2+2?", "output": "4"},
    {"input": "Capital of France?", "output": "Paris", "rationale": "It is well known."},
    {"input": "  ", "output": "", "rationale": "only a rationale"},
))


@pytest.mark.parametrize("preset", [
    *BUILTIN_PRESETS,
    Preset("stops", {"stop": ["\n\n", "NO", "12:30", "a \"quote\""], "seed": 42}),
    Preset("odd", {"max_tokens": 1000, "top_k": 0, "repeat_penalty": 1.0e-05}),
    Preset("empty", {}),
])
def test_a_preset_shown_as_rows_reads_back_the_same(preset: Preset) -> None:
    assert edited(preset, preset_rows(preset)) == preset


def test_stop_strings_stay_visible_in_their_cell() -> None:
    rows = preset_rows(Preset("p", {"stop": ["\n"], "temperature": 0.7}))
    assert rows == [["stop", '["\\n"]'], ["temperature", "0.7"]]


def test_an_example_set_shown_as_rows_reads_back_the_same() -> None:
    assert edited(SHOTS, example_rows(SHOTS)) == SHOTS


def test_blank_rows_and_empty_rationales_are_left_out() -> None:
    rows = [["a", "b", ""], ["", "", ""], ["  ", "", "  "], ["c", "d", "why"], ["e"]]
    assert examples_from_rows(rows) == (
        {"input": "a", "output": "b"},
        {"input": "c", "output": "d", "rationale": "why"},
        {"input": "e", "output": ""},
    )


def test_an_edited_example_set_keeps_its_name_and_task() -> None:
    changed = edited(SHOTS, [["q", "a", ""]])
    assert changed == ExampleSet("shots", "qa", ({"input": "q", "output": "a"},))


def test_settings_are_read_as_strict_yaml() -> None:
    rows = [["temperature", "0.5"], ["", ""], [" top_k ", "40"], ["stop", "[NO, '1.10']"]]
    assert params_from_rows(rows) == {"temperature": 0.5, "top_k": 40, "stop": ["NO", "1.10"]}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["temperature", "0.5"], ["", "0.9"]], "row 2: the setting needs a name"),
        ([["top_p", "0.5"], ["top_p", "0.9"]], "row 2: 'top_p' is set twice"),
        ([["seed", "  "]], "row 1: 'seed' needs a value"),
        ([["stop", "[a, &x b]"]], "row 1: stop: line 1: anchors and aliases"),
        ([["temperature"]], "row 1: 'temperature' needs a value"),
    ],
)
def test_a_bad_row_is_named(rows: list[list[str]], message: str) -> None:
    with pytest.raises(LibraryError) as info:
        params_from_rows(rows)
    assert message in str(info.value)


def test_an_edited_preset_is_checked_as_sampling_settings() -> None:
    with pytest.raises(SamplingError, match="temperature"):
        edited(Preset("warm", {}), [["temperature", "9"]])
    with pytest.raises(PlaygroundError, match="warmth"):
        edited(Preset("warm", {}), [["warmth", "1"]])


def test_a_dataset_table_has_every_variable_then_the_references() -> None:
    dataset = Dataset("d", "", (
        {"q": "first", "references": ["a", "b"]},
        {"context": "ctx", "q": "second", "references": []},
        {"q": "third", "tags": ["x", "y"], "references": ["c"]},
    ))
    headers, rows = dataset_table(dataset)
    assert headers == ["q", "context", "tags", "references"]
    assert rows == [
        ["first", "", "", "a | b"],
        ["second", "ctx", "", ""],
        ["third", "", "x, y", "c"],
    ]
