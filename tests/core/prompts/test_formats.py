"""Library documents on disk: strict JSON and YAML reading (sizes, depth, aliases, tags, NaN,
surrogates, duplicate keys, schema and version), and writing any reader takes back as written."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from playground.prompts.formats import (
    MAX_LIBRARY_BYTES,
    MAX_NESTING,
    SCHEMA,
    LibraryError,
    LibraryFormat,
    export_path,
)
from playground.prompts.library import (
    ExampleSet,
    Library,
    export_library,
    import_library,
    read_library,
)
from tests.core.prompts.samples import FORMATS, awkward_library, library_json, refused

# -- writing: what other readers see ----------------------------------------------------------


def test_yaml_strings_stay_strings_for_a_yaml_1_1_reader() -> None:
    """Other tools read our YAML with YAML 1.1 rules; NO, 1.10 and 12:30 must reach them as text."""
    lib = awkward_library()
    from_yaml = yaml.safe_load(export_library(lib, "yaml"))
    assert from_yaml == json.loads(export_library(lib, "json"))


def test_yaml_keeps_templates_readable_as_block_literals() -> None:
    text = export_library(awkward_library(), "yaml")
    assert "- id: readable\n  source: |\n    {#---\n    name: Readable\n    ---#}\n" in text
    assert "- id: 'NO'\n  source: |2\n    \tindented with a tab\n" in text  # not escaped
    assert "name: 'Awkward: NO, 1.10 & 12:30 😀'\n" in text  # unicode written as itself


def test_json_export_is_stable_and_readable() -> None:
    text = export_library(awkward_library(), "json")
    assert text.endswith("}\n")
    assert list(json.loads(text)) == [
        "schema", "version", "name", "description", "templates", "example_sets", "presets",
        "datasets",
    ]
    assert "😀" in text


def test_random_strings_round_trip(yaml_backend: str) -> None:
    """Whatever mix of whitespace, quotes, breaks and symbols, text comes back unchanged."""
    pieces = [" ", "  ", "\t", "\n", "\n\n", "a", "Z", "#", ":", ": ", "-", "- ", "'", '"', "é",
              "😀", "{", "}", "[", "]", ",", "\r", "\r\n", "\x85", "\u2028", "0", "1", ".", "~",
              "\\", "|", ">", "&", "*", "!", "%", "?", "@", "`", "\x07", "\ufeff", "\xa0"]
    rng = random.Random(20240611)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 14))) for _ in range(1500)]
    lib = Library(
        "fuzz",
        "fuzz",
        example_sets=(ExampleSet("s", "", tuple({"input": t, "output": t} for t in texts)),),
    )
    for fmt in FORMATS:
        exported = export_library(lib, fmt)
        assert import_library(exported, fmt).library == lib
    for text in texts:  # each as a whole document value, where block literals are used
        single = Library("fuzz", text)
        exported = export_library(single, "yaml")
        assert import_library(exported, "yaml").library == single, repr(text)


def test_file_larger_than_the_cap_is_refused_before_parsing() -> None:
    error = refused(b"{" + b" " * MAX_LIBRARY_BYTES + b"}")
    assert "at most 16 MiB" in str(error)
    assert error.report == ()
    error = refused("#" * (MAX_LIBRARY_BYTES + 1), "yaml")
    assert "16 MiB" in str(error)


def test_read_library_refuses_a_huge_file_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as handle:
        handle.truncate(MAX_LIBRARY_BYTES * 4)
    with pytest.raises(LibraryError, match="at most 16 MiB"):
        read_library(path)


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ('{"a": ' + "[" * 200_000 + "]" * 200_000 + "}", "json"),
        ("[" * 200_000, "json"),
        ("a: " + "[" * 200_000 + "]" * 200_000, "yaml"),
        ("a: " + "{b: " * 100_000 + "}" * 100_000, "yaml"),
        ("".join(" " * i + f"k{i}:\n" for i in range(200)) + " " * 200 + "x", "yaml"),
    ],
)
def test_deep_nesting_is_refused_before_the_parser_recurses(
    text: str, fmt: LibraryFormat, yaml_backend: str
) -> None:
    error = refused(text, fmt)
    assert f"nested more than {MAX_NESTING} levels deep" in str(error)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    brackets = "[" * 1000 + '\\"' + "{" * 1000
    report = import_library(library_json(description=brackets))
    assert report.library.description == brackets


@pytest.mark.timeout(10)
def test_alias_bomb_is_refused_at_the_first_anchor(yaml_backend: str) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = f"schema: {SCHEMA}\nversion: 1\nname: *a9\n" + "\n".join(lines)
    error = refused(bomb, "yaml")
    assert "anchors and aliases (&name, *name) are not allowed" in str(error)


def test_alias_without_bomb_is_refused_too() -> None:
    error = refused(f"schema: {SCHEMA}\nversion: 1\nname: &n Test\ndescription: *n\n", "yaml")
    assert "line 3: anchors and aliases" in str(error)


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (library_json(description=float("nan")), "json", "description: NaN and infinite numbers"),
        (library_json(description=float("inf")), "json", "description: NaN and infinite numbers"),
        (library_json().replace('"version": 1', '"version": -Infinity'), "json", "version: NaN"),
        (library_json().replace('"version": 1', '"version": 1e400'), "json", "version: NaN"),
        (
            library_json(presets=[{"name": "p", "params": {"temperature": float("nan")}}]),
            "json",
            "presets[0].params.temperature: NaN and infinite numbers are not allowed",
        ),
        (f"schema: {SCHEMA}\nversion: 1\nname: x\ndescription: .nan\n", "yaml", "NaN"),
        (f"schema: {SCHEMA}\nversion: 1\nname: x\ndescription: -.inf\n", "yaml", "NaN"),
        (
            f"schema: {SCHEMA}\nversion: 1\nname: x\n"
            "presets: [{name: p, params: {temperature: .inf}}]\n",
            "yaml",
            "presets[0].params.temperature: NaN and infinite",
        ),
    ],
)
def test_nan_and_infinity_are_refused(
    text: str, fmt: LibraryFormat, expected: str, yaml_backend: str
) -> None:
    error = refused(text, fmt)
    assert expected in str(error)


def test_numbers_with_too_many_digits_are_refused() -> None:
    huge = library_json().replace('"version": 1', '"version": ' + "9" * 5000)
    assert "more than 100 digits" in str(refused(huge))
    text = f"schema: {SCHEMA}\nversion: {'9' * 5000}\nname: x\n"
    assert "more than 100 digits" in str(refused(text, "yaml"))


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (
            f'{{"schema": "{SCHEMA}", "version": 1, "name": "a", "name": "b"}}',

            "json",
            "top level: duplicate key 'name'",
        ),
        (
            library_json(templates=[{"id": "y", "source": "hi"}]).replace(
                '"id"', '"id": "x", "id"'),
            "json",
            "templates[0]: duplicate key 'id'",
        ),
        (
            f"schema: {SCHEMA}\nversion: 1\nname: a\nname: b\n",
            "yaml",
            "line 4: duplicate key 'name'",
        ),
        (
            f"schema: {SCHEMA}\nversion: 1\nname: a\ndatasets:\n- {{name: d, rows: [], name: e}}\n",
            "yaml",
            "duplicate key 'name'",
        ),
    ],
)
def test_duplicate_keys_are_refused(
    text: str, fmt: LibraryFormat, expected: str, yaml_backend: str
) -> None:
    assert expected in str(refused(text, fmt))


def test_lone_surrogates_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    escaped = library_json(name="x").replace('"name": "x"', '"name": "bad \\ud800 text"')
    assert "name: contains an unpaired surrogate U+D800" in str(refused(escaped))
    key = library_json().replace('"description": ""', '"description": "", "\\udfff": 1')
    assert "unpaired surrogate" in str(refused(key))
    yaml_escape = f'schema: {SCHEMA}\nversion: 1\nname: "bad \\ud800"\n'
    assert "unpaired surrogate" in str(refused(yaml_escape, "yaml"))
    with monkeypatch.context() as patch:  # the pure-Python parser reads the escape itself
        patch.setattr(yaml, "__with_libyaml__", False)
        assert "name: contains an unpaired surrogate U+D800" in str(refused(yaml_escape, "yaml"))
    raw = library_json(name="bad \ud800 text")
    assert "unpaired surrogate U+D800" in str(refused(raw))
    # a proper pair written as escapes is one valid character
    pair = library_json(name="x").replace('"name": "x"', '"name": "\\ud83d\\ude00"')
    assert import_library(pair).library.name == "😀"


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object/apply:os.system [echo hi]", "!!python/object/apply:os.system"),
        ("!!python/object:__main__.X {}", "!!python/object:__main__.X"),
        ("!!python/name:os.system ''", "!!python/name:os.system"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!timestamp 2001-12-14", "!!timestamp"),
        ("!!set {a: null}", "!!set"),
        ("!custom thing", "!custom"),
        ("!<tag:example.com,2024:x> thing", "tag:example.com,2024:x"),
    ],
)
def test_non_standard_tags_are_refused_by_name(value: str, tag: str, yaml_backend: str) -> None:
    error = refused(f"schema: {SCHEMA}\nversion: 1\nname: x\ndescription: {value}\n", "yaml")
    assert f"tag {tag} is not allowed" in str(error)


def test_standard_tags_are_accepted(yaml_backend: str) -> None:
    text = f"schema: !!str {SCHEMA}\nversion: !!int 1\nname: !!str 1.10\ndescription: ! 12\n"
    lib = import_library(text, "yaml").library
    assert (lib.name, lib.description) == ("1.10", "12")
    bad = f"schema: {SCHEMA}\nversion: !!int 0x1\nname: x\n"
    assert "is not a decimal whole number" in str(refused(bad, "yaml"))


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"version": 1, "name": "x"}, "not a Prompt Playground library: it has no 'schema' field"),
        (
            {"schema": "other/thing", "version": 1, "name": "x"},
            "schema 'other/thing', expected 'prompt-playground/library'",
        ),
        (
            {"schema": SCHEMA, "version": 2, "name": "x"},
            "version 2 is not supported (it was written",
        ),
        ({"schema": SCHEMA, "version": 0, "name": "x"}, "this app reads version 1"),
        ({"schema": SCHEMA, "version": "1", "name": "x"}, "'version' must be a whole number"),
        ({"schema": SCHEMA, "name": "x"}, "'version' must be a whole number"),
        ([1, 2], "expected a mapping with 'schema' and 'version' at the top, got a list"),
    ],
)
def test_unknown_schema_or_version_is_refused(doc: Any, expected: str) -> None:
    error = refused(json.dumps(doc))
    assert expected in str(error)
    assert error.report == ()


def test_newer_version_message_names_the_version_this_app_reads() -> None:
    error = refused(json.dumps({"schema": SCHEMA, "version": 7, "name": "x"}))
    assert str(error) == (
        "library: library format version 7 is not supported (it was written by a newer "
        "Prompt Playground); this app reads version 1"
    )


def test_invalid_utf8_utf16_and_empty_files_are_refused() -> None:
    assert "not UTF-8 text (byte 0xFF at offset 11" in str(refused(b'{"schema": \xff}'))
    assert "UTF-16" in str(refused(library_json().encode("utf-16")))
    assert "got an empty file" in str(refused(b"", "yaml"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_utf8_bom_is_accepted(fmt: LibraryFormat) -> None:
    text = export_library(awkward_library(), fmt)
    assert import_library(b"\xef\xbb\xbf" + text.encode("utf-8"), fmt).library == awkward_library()
    assert import_library("\ufeff" + text).library == awkward_library()


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("{", "json", "not valid JSON: Expecting property name enclosed in double quotes (line 1"),
        ("a: [1, 2\n", "yaml", "not valid YAML:"),
        ("a: 1\n---\nb: 2\n", "yaml", "not valid YAML: but found another document"),
        ("a: b: c\n", "yaml", "not valid YAML: mapping values are not allowed"),
        ("a: \x00\n", "yaml", "control character U+0000"),
        ("{1: x}", "yaml", "keys must be text, got a number (quote it)"),
    ],
)
def test_syntax_errors_name_the_place(
    text: str, fmt: LibraryFormat, expected: str, yaml_backend: str
) -> None:
    assert expected in str(refused(text, fmt))


# -- where an export goes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fmt", "expected"),
    [("out", "json", "out.json"), ("out", "yaml", "out.yaml"), ("v1.2", "yaml", "v1.2.yaml"),
     ("lib.JSON", "json", "lib.JSON"), ("lib.yml", "yaml", "lib.yml")],
)
def test_an_export_gets_its_formats_suffix(
    name: str, fmt: str, expected: str, tmp_path: Path
) -> None:
    assert export_path(tmp_path / name, fmt) == tmp_path / expected


@pytest.mark.parametrize(
    ("name", "fmt", "message"),
    [("lib.json", "yaml", "lib.json ends in .json but YAML was chosen"),
     ("lib.yaml", "json", "lib.yaml ends in .yaml but JSON was chosen"),
     ("lib", "toml", "unknown library format 'toml'")],
)
def test_an_export_never_holds_another_format_than_its_name_says(
    name: str, fmt: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(LibraryError, match=message):
        export_path(tmp_path / name, fmt)
