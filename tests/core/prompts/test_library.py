"""Prompt libraries: exact round trips, strict all-or-nothing imports, llm and promptfoo formats."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from playground.prompts import library as library_module
from playground.prompts.library import (
    BUILTIN_PRESETS,
    MAX_LIBRARY_BYTES,
    MAX_NESTING,
    SCHEMA,
    Dataset,
    ExampleSet,
    ItemReport,
    Library,
    LibraryError,
    LibraryFormat,
    Preset,
    export_library,
    export_promptfoo,
    import_library,
    import_llm_template,
    library_document,
    load_builtin_library,
    read_library,
    write_library,
)
from playground.prompts.templates import PromptTemplate, parse_template, render_template

FORMATS: tuple[LibraryFormat, ...] = ("json", "yaml")

# Every one of these is read as something other than text by some YAML reader, or needs
# quoting or escaping to survive at all.
AWKWARD = [
    "NO", "no", "No", "yes", "Yes", "on", "OFF", "y", "n", "true", "True", "false",
    "1.10", "12:30", "0x1F", "0o17", "1e3", "1_000", "-1", "+1", ".5", "2001-12-14",
    "~", "null", "Null", ".inf", "-.inf", ".nan", "=", "<<",
    "", " ", "  leading spaces", "trailing spaces  ", "\tleading tab", "trailing tab\t",
    "multi\nline\n", "lines with trailing spaces  \nsecond  \n", "  indented\n  block\n",
    "\n\nleading breaks", "trailing breaks\n\n\n", "no final break\nhere",
    "tabs\n\tinside\n\t\tlines\n", "\t\tstarts with tabs\nthen more\n",
    "unicode é ü ß 中文 ✓", "emoji 😀👍🏽 and a flag 🇫🇷", "quote \" and ' and # and : colon",
    "key: value", "# not a comment", "- not a list item", "[not, a, list]", "{not: a map}",
    "&anchor", "*alias", "!tag", "%directive", "@at", "`backtick", "|pipe", ">fold", "? key",
    "windows\r\nline", "line\u2028separator", "next\x85line", "bom\ufeffinside",
    "bell\x07char", "nbsp\xa0here", "back\\slash", "{{ not jinja here }}",
]


@pytest.fixture(params=["libyaml", "pure-python"])
def yaml_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """YAML is read by libyaml when PyYAML has it, else by PyYAML itself: both must hold."""
    if request.param == "pure-python":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    elif not yaml.__with_libyaml__:
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


def _doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "version": 1,
        "name": "Test",
        "description": "",
        "templates": [],
        "example_sets": [],
        "presets": [],
        "datasets": [],
    }
    doc.update(overrides)
    return doc


def _json(**overrides: Any) -> str:
    return json.dumps(_doc(**overrides))


def _template(template_id: str, body: str = "Hello {{ name }}\n", **header: Any) -> PromptTemplate:
    if header:
        source = "{#---\n" + yaml.safe_dump(header, sort_keys=False) + "---#}\n" + body
    else:
        source = body
    return parse_template(source, template_id)


def awkward_library() -> Library:
    template_body = "".join(
        f"{{# {i} #}}{text}\n" for i, text in enumerate(AWKWARD) if "{{" not in text
    ) + "{{ name }}\n"
    return Library(
        name="Awkward: NO, 1.10 & 12:30 😀",
        description="\n".join(AWKWARD),
        templates=(
            _template("awkward", template_body, name="NO", description="1.10", task="12:30"),
            _template("1.10", "no header at all: {{ x }}"),
            _template("NO", "\tindented with a tab\n\t{{ x }}\n"),
            _template("_partial", "partial  \n"),
            _template("readable", "Say {{ x }}\nplease.\n", name="Readable"),
        ),
        example_sets=(
            ExampleSet(
                "yes",
                "~",
                tuple(
                    {"input": text, "output": text[::-1], "rationale": text}
                    if i % 2
                    else {"input": text, "output": ""}
                    for i, text in enumerate(AWKWARD)
                ),
            ),
        ),
        presets=(
            *BUILTIN_PRESETS,
            Preset("on", {"temperature": 0.25, "stop": ["NO", "\n\n", "12:30"], "seed": 42}),
            Preset("1e3", {"max_tokens": 1000, "top_k": 0, "repeat_penalty": 1.0e-05}),
        ),
        datasets=(
            Dataset(
                "null",
                "0x1F",
                (
                    *({"text": text, "yes": "no", "references": [text, "NO"]} for text in AWKWARD),
                    {"text": "no references", "references": []},
                ),
            ),
        ),
    )


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_is_byte_identical_and_lossless(fmt: LibraryFormat) -> None:
    """Export, import, export must not drift: libraries are shared and kept in version control."""
    lib = awkward_library()
    first = export_library(lib, fmt)
    report = import_library(first, fmt)
    assert report.library == lib
    assert export_library(report.library, fmt) == first
    assert all(item.status == "ok" for item in report.items)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_through_bytes_and_format_detection(fmt: LibraryFormat) -> None:
    lib = awkward_library()
    data = export_library(lib, fmt).encode("utf-8")
    assert import_library(data, filename=f"lib.{fmt}").library == lib
    assert import_library(data).library == lib  # sniffed from the content


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


def test_write_and_read_pick_the_format_from_the_suffix(tmp_path: Path) -> None:
    lib = awkward_library()
    for name in ("lib.json", "lib.yaml", "lib.YML"):
        path = tmp_path / name
        write_library(lib, path)
        assert read_library(path).library == lib
        assert path.read_bytes().decode("utf-8") == export_library(
            lib, "json" if name.endswith("json") else "yaml"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.YML", "lib.json", "lib.yaml"]


def test_write_and_read_refuse_other_suffixes_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match=r"\.json, \.yaml or \.yml"):
        write_library(awkward_library(), tmp_path / "lib.txt")
    with pytest.raises(LibraryError, match="cannot read the file"):
        read_library(tmp_path / "missing.json")


def test_document_sections_are_all_optional_except_the_name() -> None:
    report = import_library(json.dumps({"schema": SCHEMA, "version": 1, "name": "Empty"}))
    assert report.library == Library("Empty", "")
    assert report.items == (ItemReport("library", "Empty", "ok", ""),)


# -- refusing malformed input: nothing is returned, the message says why -----------------------


def _refused(text: str | bytes, fmt: LibraryFormat | None = None) -> LibraryError:
    with pytest.raises(LibraryError) as info:
        import_library(text, fmt)
    return info.value


def test_file_larger_than_the_cap_is_refused_before_parsing() -> None:
    error = _refused(b"{" + b" " * MAX_LIBRARY_BYTES + b"}")
    assert "at most 16 MiB" in str(error)
    assert error.report == ()
    error = _refused("#" * (MAX_LIBRARY_BYTES + 1), "yaml")
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
    error = _refused(text, fmt)
    assert f"nested more than {MAX_NESTING} levels deep" in str(error)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    brackets = "[" * 1000 + '\\"' + "{" * 1000
    report = import_library(_json(description=brackets))
    assert report.library.description == brackets


@pytest.mark.timeout(10)
def test_alias_bomb_is_refused_at_the_first_anchor(yaml_backend: str) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = f"schema: {SCHEMA}\nversion: 1\nname: *a9\n" + "\n".join(lines)
    error = _refused(bomb, "yaml")
    assert "anchors and aliases (&name, *name) are not allowed" in str(error)


@pytest.mark.timeout(10)
def test_alias_bomb_inside_a_template_header_is_refused(yaml_backend: str) -> None:
    """parse_template reads headers with PyYAML's safe loader, which would expand aliases."""
    lines = ["variables:", "  v:", "    x0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"    x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    lines.append("    help: *a8")
    source = "{#---\n" + "\n".join(lines) + "\n---#}\nhi"
    error = _refused(_json(templates=[{"id": "bomb", "source": source}]))
    assert "anchors and aliases" in str(error)
    assert error.report[1].status == "error"


def test_alias_without_bomb_is_refused_too() -> None:
    error = _refused(f"schema: {SCHEMA}\nversion: 1\nname: &n Test\ndescription: *n\n", "yaml")
    assert "line 3: anchors and aliases" in str(error)


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (_json(description=float("nan")), "json", "description: NaN and infinite numbers"),
        (_json(description=float("inf")), "json", "description: NaN and infinite numbers"),
        (_json().replace('"version": 1', '"version": -Infinity'), "json", "version: NaN"),
        (_json().replace('"version": 1', '"version": 1e400'), "json", "version: NaN"),
        (
            _json(presets=[{"name": "p", "params": {"temperature": float("nan")}}]),
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
    error = _refused(text, fmt)
    assert expected in str(error)


def test_numbers_with_too_many_digits_are_refused() -> None:
    huge = _json().replace('"version": 1', '"version": ' + "9" * 5000)
    assert "more than 100 digits" in str(_refused(huge))
    text = f"schema: {SCHEMA}\nversion: {'9' * 5000}\nname: x\n"
    assert "more than 100 digits" in str(_refused(text, "yaml"))


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        (
            f'{{"schema": "{SCHEMA}", "version": 1, "name": "a", "name": "b"}}',

            "json",
            "top level: duplicate key 'name'",
        ),
        (
            _json(templates=[{"id": "y", "source": "hi"}]).replace('"id"', '"id": "x", "id"'),
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
    assert expected in str(_refused(text, fmt))


def test_lone_surrogates_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    escaped = _json(name="x").replace('"name": "x"', '"name": "bad \\ud800 text"')
    assert "name: contains an unpaired surrogate U+D800" in str(_refused(escaped))
    key = _json().replace('"description": ""', '"description": "", "\\udfff": 1')
    assert "unpaired surrogate" in str(_refused(key))
    yaml_escape = f'schema: {SCHEMA}\nversion: 1\nname: "bad \\ud800"\n'
    assert "unpaired surrogate" in str(_refused(yaml_escape, "yaml"))
    with monkeypatch.context() as patch:  # the pure-Python parser reads the escape itself
        patch.setattr(yaml, "__with_libyaml__", False)
        assert "name: contains an unpaired surrogate U+D800" in str(_refused(yaml_escape, "yaml"))
    raw = _json(name="bad \ud800 text")
    assert "unpaired surrogate U+D800" in str(_refused(raw))
    # a proper pair written as escapes is one valid character
    pair = _json(name="x").replace('"name": "x"', '"name": "\\ud83d\\ude00"')
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
    error = _refused(f"schema: {SCHEMA}\nversion: 1\nname: x\ndescription: {value}\n", "yaml")
    assert f"tag {tag} is not allowed" in str(error)


def test_standard_tags_are_accepted(yaml_backend: str) -> None:
    text = f"schema: !!str {SCHEMA}\nversion: !!int 1\nname: !!str 1.10\ndescription: ! 12\n"
    lib = import_library(text, "yaml").library
    assert (lib.name, lib.description) == ("1.10", "12")
    bad = f"schema: {SCHEMA}\nversion: !!int 0x1\nname: x\n"
    assert "is not a decimal whole number" in str(_refused(bad, "yaml"))


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
    error = _refused(json.dumps(doc))
    assert expected in str(error)
    assert error.report == ()


def test_newer_version_message_names_the_version_this_app_reads() -> None:
    error = _refused(json.dumps({"schema": SCHEMA, "version": 7, "name": "x"}))
    assert str(error) == (
        "library: library format version 7 is not supported (it was written by a newer "
        "Prompt Playground); this app reads version 1"
    )


def test_invalid_utf8_utf16_and_empty_files_are_refused() -> None:
    assert "not UTF-8 text (byte 0xFF at offset 11" in str(_refused(b'{"schema": \xff}'))
    assert "UTF-16" in str(_refused(_json().encode("utf-16")))
    assert "got an empty file" in str(_refused(b"", "yaml"))


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
    assert expected in str(_refused(text, fmt))


# -- item validation: the report lists every item, and nothing partial is returned ------------

GOOD_TEMPLATE = {"id": "good", "source": "Hello {{ name }}"}
GOOD_SET = {"name": "s", "task": "t", "examples": [{"input": "a", "output": "b"}]}


@pytest.mark.parametrize(
    ("overrides", "kind", "expected"),
    [
        (
            {"templates": [GOOD_TEMPLATE, {"id": "x"}]},
            "template",
            "templates[1]: 'source' is missing",
        ),
        (
            {"templates": [GOOD_TEMPLATE, {"id": 12, "source": "x"}]},
            "template",
            "templates[1].id: expected text, got a number (quote it)",
        ),
        (
            {"templates": [GOOD_TEMPLATE, {"id": "a/b", "source": "x"}]},
            "template",
            "templates[1].id: 'a/b' is not a usable id",
        ),
        (
            {"templates": [GOOD_TEMPLATE, {"id": "good", "source": "again"}]},
            "template",
            "templates[1]: another template id is already called 'good' (templates[0])",
        ),
        (
            {"templates": [GOOD_TEMPLATE, {"id": "broken", "source": "{% if x %}never closed"}]},
            "template",
            "templates[1]: broken: syntax error on line 1",
        ),
        (
            {"templates": [GOOD_TEMPLATE, {"id": "hdr", "source": "{#---\nbogus: 1\n---#}\nx"}]},
            "template",
            "hdr: unknown header field(s): bogus",
        ),
        (
            {"templates": [GOOD_TEMPLATE, {
                "id": "deep", "source": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"}]},
            "template",
            "deep:",
        ),
        (
            {"templates": [GOOD_TEMPLATE, {"id": "x", "source": "x", "extra": 1}]},
            "template",
            "templates[1]: unknown field(s) 'extra'; allowed: id, source",
        ),
        (
            {"example_sets": [GOOD_SET, {**GOOD_SET}]},
            "example_set",
            "example_sets[1]: another example set is already called 's' (example_sets[0])",
        ),
        (
            {"example_sets": [{"name": "e", "examples": [{"input": "a", "output": 1.1}]}]},
            "example_set",
            "example_sets[0].examples[0].output: expected text, got a number (quote it)",
        ),
        (
            {"example_sets": [{"name": "e", "examples": [{"input": "a"}]}]},
            "example_set",
            "example_sets[0].examples[0]: 'output' is missing",
        ),
        (
            {"example_sets": [{"name": "", "examples": []}]},
            "example_set",
            "example_sets[0].name: cannot be empty",
        ),
        (
            {"presets": [{"name": "hot", "params": {"temperature": 9}}]},
            "preset",
            "presets[0].params: temperature must be between 0 and 5, got 9",
        ),
        (
            {"presets": [{"name": "p", "params": {"warmth": 1}}]},
            "preset",
            "presets[0].params: unknown sampling setting(s): warmth",
        ),
        (
            {"presets": [{"name": "p", "params": {"stop": {"a": 1}}}]},
            "preset",
            "presets[0].params.stop: expected a list of text",
        ),
        (
            {"datasets": [{"name": "d", "rows": [{"q": True, "references": ["a", None]}]}]},
            "dataset",
            "datasets[0].rows[0].q: expected text, got true/false (quote it)",
        ),
        (
            {"datasets": [{"name": "d", "rows": "not a list"}]},
            "dataset",
            "datasets[0].rows: expected a list, got text",
        ),
        (
            {"datasets": ["not a mapping"]},
            "dataset",
            "datasets[0]: expected a mapping with 'name', 'task' and 'rows', got text",
        ),
    ],
)
def test_invalid_items_are_reported_and_nothing_is_imported(
    overrides: dict[str, Any], kind: str, expected: str
) -> None:
    error = _refused(_json(**overrides))
    assert "nothing was imported" in str(error)
    assert expected in str(error)
    failed = [item for item in error.report if item.status == "error"]
    assert failed and all(item.kind == kind for item in failed)
    assert any(expected in item.message for item in failed)
    assert error.report[0] == ItemReport("library", "Test", "ok", "")


def test_report_lists_good_and_bad_items_together() -> None:
    error = _refused(
        _json(
            templates=[GOOD_TEMPLATE, {"id": "bad", "source": "{{"}],
            example_sets=[GOOD_SET],
            presets=[{"name": "p", "params": {"top_p": 2}}],
            datasets=[{"name": "d", "task": "t", "rows": [{"q": "x", "references": ["y"]}]}],
        )
    )
    assert [(i.kind, i.name, i.status) for i in error.report] == [
        ("library", "Test", "ok"),
        ("template", "good", "ok"),
        ("template", "bad", "error"),
        ("example_set", "s", "ok"),
        ("preset", "p", "error"),
        ("dataset", "d", "ok"),
    ]
    assert "2 of 6 items have errors" in str(error)


def test_unquoted_yaml_number_where_text_is_expected_is_refused_not_converted() -> None:
    text = (
        f"schema: {SCHEMA}\nversion: 1\nname: x\nexample_sets:\n"
        "- name: s\n  examples:\n  - {input: 1.10, output: NO}\n"
    )
    error = _refused(text, "yaml")
    assert "example_sets[0].examples[0].input: expected text, got a number (quote it)" in str(error)
    # NO, 12:30, yes and 0x1F are plain text under the strict reader
    text = text.replace("1.10", "12:30") + "  - {input: yes, output: 0x1F}\n"
    examples = import_library(text, "yaml").library.example_sets[0].examples
    assert examples == ({"input": "12:30", "output": "NO"}, {"input": "yes", "output": "0x1F"})


def test_library_level_problems_are_reported_with_the_items() -> None:
    error = _refused(_json(name=None, bogus=1, templates=[GOOD_TEMPLATE]))
    library_item = error.report[0]
    assert library_item.kind == "library" and library_item.status == "error"
    assert "library.name: expected text, got nothing (null)" in library_item.message
    assert "unknown field(s) 'bogus'" in library_item.message
    assert error.report[1] == ItemReport("template", "good", "ok", "good (text)")


# -- the built-in library ---------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_builtin_loader_reads_the_folder_layout(tmp_path: Path) -> None:
    _write(
        tmp_path / "_shots.j2",
        "{% for ex in shots %}{{ ex.input }} -> {{ ex.output }}\n{% endfor %}",
    )
    _write(
        tmp_path / "greet-few-shot.j2",
        "{#---\nname: Greeting\ntask: greet\nvariables:\n"
        "  examples: {type: examples, default_set: greet}\n---#}\n"
        '{% with shots = examples %}{% include "_shots" %}{% endwith %}{{ name }} ->',
    )
    _write(tmp_path / "README.md", "not a template")
    _write(
        tmp_path / "examples" / "greet.json",
        json.dumps({"name": "greet", "task": "greet", "examples": [
            {"input": "Ann", "output": "Hi Ann", "rationale": "short"}]}),
    )
    _write(
        tmp_path / "datasets" / "greet.jsonl",
        '{"name": "Bo", "references": ["Hi Bo", "Hello Bo"]}\n\n{"name": "Cy", "references": []}\n',
    )
    lib = load_builtin_library(tmp_path)
    assert [t.id for t in lib.templates] == ["_shots", "greet-few-shot"]
    assert lib.example_sets == (
        ExampleSet("greet", "greet", ({"input": "Ann", "output": "Hi Ann", "rationale": "short"},)),
    )
    assert lib.datasets == (
        Dataset("greet", "greet", (
            {"name": "Bo", "references": ["Hi Bo", "Hello Bo"]},
            {"name": "Cy", "references": []},
        )),
    )
    assert lib.presets == BUILTIN_PRESETS
    template = lib.template("greet-few-shot")
    assert template is not None
    example_set = lib.example_set("greet")
    assert example_set is not None
    rendered = render_template(
        template, {"name": "Bo", "examples": list(example_set.examples)}, library=lib.sources()
    )
    assert rendered.text == "Ann -> Hi Ann\nBo ->"


def test_builtin_loader_names_the_broken_file(tmp_path: Path) -> None:
    _write(tmp_path / "datasets" / "qa.jsonl", '{"q": "a", "references": []}\n{"q": NaN}\n')
    with pytest.raises(LibraryError, match=r"datasets/qa\.jsonl line 2: q: NaN"):
        load_builtin_library(tmp_path)
    _write(tmp_path / "datasets" / "qa.jsonl", "")
    _write(tmp_path / "examples" / "bad.json", '{"name": "x", "examples": [{"input": 1}]}')
    with pytest.raises(LibraryError) as info:
        load_builtin_library(tmp_path)
    assert "example_sets[0].examples[0].input: expected text" in str(info.value)


def test_builtin_presets_are_valid_sampling_settings() -> None:
    greedy, balanced, creative = BUILTIN_PRESETS
    assert greedy.sampling().greedy
    assert (balanced.sampling().temperature, balanced.sampling().top_p) == (0.7, 0.9)
    assert creative.sampling().temperature == 1.1


@pytest.mark.parametrize("fmt", FORMATS)
def test_real_builtin_library_loads_and_round_trips(fmt: LibraryFormat) -> None:
    lib = load_builtin_library()
    assert len(lib.templates) >= 1
    exported = export_library(lib, fmt)
    again = import_library(exported, fmt).library
    assert again == lib
    assert export_library(again, fmt) == exported
    ids = {t.id for t in lib.templates}
    for template in lib.templates:
        for name in template.meta.variables:
            if name.type == "examples" and name.default_set:
                assert lib.example_set(name.default_set) is not None, template.id
        ast = jinja2.Environment().parse(template.body)
        for include in jinja2.meta.find_referenced_templates(ast):
            assert include in ids, f"{template.id} includes {include!r}, not in the library"


# -- llm templates ----------------------------------------------------------------------------


def test_llm_template_with_system_becomes_a_chat_template() -> None:
    result = import_llm_template(
        "system: You speak like $voice.\n"
        "prompt: 'Summarize this: $input'\n"
        "model: gpt-4o-mini\n"
        "defaults:\n  voice: a pirate\n"
        "options:\n  temperature: 0.5\n  max_tokens: 100\n  json_object: true\n",
        "pirate",
    )
    template = result.template
    assert template.id == "pirate"
    assert template.meta.name == "pirate"
    assert template.meta.format == "chat"
    assert template.meta.params == {"temperature": 0.5, "max_tokens": 100}
    voice = template.variable("voice")
    assert voice is not None and voice.default == "a pirate"
    rendered = render_template(template, {"input": "the news"})
    assert rendered.messages is not None
    assert [(m.role, m.content) for m in rendered.messages] == [
        ("system", "You speak like a pirate."),
        ("user", "Summarize this: the news"),
    ]
    assert any("gpt-4o-mini" in w for w in result.warnings)
    assert any("json_object" in w for w in result.warnings)


LLM_TEXTS = [
    "Summarize: $input",
    "Recipe with ${ingredients} from $country.\n\nCost in $$: $input",
    "Literal Jinja {{ x }} and {% raw %} and {# c #} stay: $input",
    "Braces {{{$input}}} and a trailing brace {",
    "Tabs\tand unicode é 😀 $input_text and ${input}s",
]


@pytest.mark.parametrize("text", LLM_TEXTS)
def test_llm_text_template_renders_exactly_like_llm(text: str) -> None:
    values = {"input": "IN {{ not jinja }}", "ingredients": "eggs", "country": "France",
              "input_text": "T"}
    result = import_llm_template(yaml.safe_dump({"prompt": text}), "t")
    assert result.template.meta.format == "text"
    expected = string.Template(text).substitute(values)
    assert render_template(result.template, values).text == expected
    assert result.warnings == ()


def test_llm_plain_string_template_is_a_prompt() -> None:
    result = import_llm_template("'Say hi to $name: $input'", "plain")
    rendered = render_template(result.template, {"name": "Ann", "input": "now"})
    assert rendered.text == "Say hi to Ann: now"


def test_llm_prompt_without_input_gets_the_input_appended_like_llm() -> None:
    template = import_llm_template("prompt: Tell me a joke", "joke").template
    assert render_template(template, {"input": "about cats"}).text == "Tell me a joke\nabout cats"
    assert render_template(template, {}).text == "Tell me a joke"


def test_llm_system_only_template_sends_the_input_as_the_user_turn() -> None:
    template = import_llm_template("system: Summarize this", "summarize").template
    rendered = render_template(template, {"input": "A long text."})
    assert rendered.messages is not None
    assert [(m.role, m.content) for m in rendered.messages] == [
        ("system", "Summarize this"),
        ("user", "A long text."),
    ]


def test_llm_names_reserved_in_jinja_are_renamed() -> None:
    result = import_llm_template("prompt: '$not $loop $role $input'", "r")
    rendered = render_template(result.template, {"not_": "A", "loop_": "B", "role_": "C",
                                                 "input": "D"})
    assert rendered.text == "A B C D"
    assert sum("renamed" in w for w in result.warnings) == 3


def test_llm_odd_dollars_options_and_keys_become_warnings() -> None:
    result = import_llm_template(
        "prompt: 'Costs $5 for $input'\n"
        "options: {temperature: 9, top_p: 0.5, max_output_tokens: 20, num_predict: 30}\n"
        "extract: true\nschema_object: {type: object}\nmystery: 1\nfragments: []\n",
        "odd",
    )
    assert render_template(result.template, {"input": "x"}).text == "Costs $5 for x"
    assert result.template.meta.params == {"top_p": 0.5, "max_tokens": 20}
    warnings = "\n".join(result.warnings)
    assert "'$' not followed by a variable name" in warnings
    assert "temperature must be between 0 and 5" in warnings
    assert "num_predict" in warnings and "repeats max_tokens" in warnings
    assert "extract" in warnings and "schema_object" in warnings and "mystery" in warnings
    assert "fragments" not in warnings  # empty values say nothing


def test_llm_defaults_keep_their_text_and_unused_ones_are_reported() -> None:
    result = import_llm_template(
        "prompt: '$a $b $input'\ndefaults: {a: NO, b: '1.10', unused: x}\n", "d"
    )
    assert render_template(result.template, {"input": "i"}).text == "NO 1.10 i"
    assert any("unused" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[a, b]", "expected a mapping with 'prompt' or 'system', got a list"),
        ("model: gpt-4\n", "has neither 'prompt' nor 'system' text"),
        ("prompt: 12\n", "'prompt': expected text, got a number"),
        ("prompt: &a x\nsystem: *a\n", "anchors and aliases"),
        ("prompt: !!python/object:os.system x\n", "tag !!python/object:os.system is not allowed"),
    ],
)
def test_llm_template_errors(text: str, expected: str) -> None:
    with pytest.raises(LibraryError) as info:
        import_llm_template(text, "bad")
    assert expected in str(info.value)


# -- promptfoo --------------------------------------------------------------------------------


def _promptfoo_library() -> Library:
    return Library(
        name="Eval",
        description="",
        templates=(
            _template("plain", "Review: {{ review }}\nLabel ({{ labels | default('any') }}):",
                      name="Plain", variables={"labels": {"type": "text", "default": "pos/neg"}}),
            _template(
                "chat",
                '{{ role("system") }}\nYou label reviews.\n{{ role("user") }}\n'
                "{% if hint %}Hint: {{ hint }}\n{% endif %}{{ review }}\n",
                name="Chat", format="chat", variables={"hint": {"type": "text", "default": ""}},
            ),
            _template("_rules", "Labels: positive, negative or neutral.{#- trimmed -#}\n\n"),
            _template(
                "ruled",
                '{{ role("system") }}\n{%- include "_rules" -%}\n\n'
                '{{ role("user") }}\n{{ review }}',
                name="Ruled", format="chat",
            ),
            _template(
                "few",
                '{{ role("system") }}\nLabel reviews.\n'
                "{% for ex in examples[:2] %}"
                '{{ role("user") }}\n{{ ex.input }}\n{{ role("assistant") }}\n{{ ex.output }}\n'
                '{% endfor %}{{ role("user") }}\n{{ review }}',
                name="Few", format="chat",
                variables={"examples": {"type": "examples", "default_set": "reviews"}},
            ),
        ),
        example_sets=(
            ExampleSet("reviews", "sentiment", (
                {"input": "Great!", "output": "positive"},
                {"input": "Awful.", "output": "negative"},
                {"input": "Meh.", "output": "neutral"},
            )),
        ),
        datasets=(
            Dataset("reviews", "sentiment", (
                {"review": 'He said "great"\nand\tleft.', "references": ["positive"]},
                {"review": "NO", "references": ["negative", "neutral"]},
                {"review": "no refs", "references": []},
            )),
        ),
    )


def _nunjucks_like() -> jinja2.Environment:
    """Close enough to promptfoo's Nunjucks for what the export emits."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["dump"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env


def test_promptfoo_export_structure() -> None:
    lib = _promptfoo_library()
    text = export_promptfoo(lib, ["plain", "chat", "few"], "reviews")
    config = yaml.safe_load(text)
    assert list(config) == ["description", "prompts", "providers", "tests"]
    assert config["description"] == "Eval: 3 prompt(s) on the reviews dataset"
    assert [p["label"] for p in config["prompts"]] == ["plain", "chat", "few"]
    assert config["providers"] == [
        {"id": "openai:chat:local-model", "config": {"apiBaseUrl": "http://127.0.0.1:8080/v1"}}
    ]
    assert len(config["tests"]) == 3
    first, second, third = config["tests"]
    assert first["vars"]["review"] == 'He said "great"\nand\tleft.'
    assert "references" not in first["vars"]
    assert first["vars"]["labels"] == "pos/neg"  # a template default promptfoo cannot know
    assert first["assert"] == [{"type": "rouge-n", "value": "positive", "threshold": 0.5}]
    assert [a["value"] for a in second["assert"]] == ["negative", "neutral"]
    assert second["vars"]["review"] == "NO"
    assert "assert" not in third
    assert text.startswith("# promptfoo configuration exported by Prompt Playground")
    assert "# few: rendered per test by Prompt Playground" in text


def _assert_promptfoo_matches_app(lib: Library, ids: list[str], dataset_name: str) -> None:
    """Rendering the exported prompts the way promptfoo does gives the app's own prompts."""
    config = yaml.safe_load(export_promptfoo(lib, ids, dataset_name))
    prompts = {p["label"]: p["raw"] for p in config["prompts"]}
    env = _nunjucks_like()
    dataset = lib.dataset(dataset_name)
    assert dataset is not None
    for test, row in zip(config["tests"], dataset.rows, strict=True):
        values = {k: v for k, v in row.items() if k != "references"}
        for template_id in ids:
            template = lib.template(template_id)
            assert template is not None
            context = dict(values)
            for variable in template.meta.variables:
                set_name = variable.default_set or template.meta.example_set
                example_set = lib.example_set(set_name) if set_name else None
                if variable.type == "examples" and example_set is not None:
                    context.setdefault(variable.name, list(example_set.examples))
            ours = render_template(template, context, library=lib.sources())
            theirs = env.from_string(prompts[template_id]).render(test["vars"])
            if ours.messages is None:
                assert theirs == ours.text, template_id
            else:
                expected = [{"role": m.role, "content": m.content} for m in ours.messages]
                assert json.loads(theirs) == expected, template_id


def test_promptfoo_prompts_render_what_the_app_renders() -> None:
    lib = _promptfoo_library()
    _assert_promptfoo_matches_app(lib, ["plain", "chat", "ruled", "few"], "reviews")
    config = yaml.safe_load(export_promptfoo(lib, ["plain", "chat", "ruled", "few"], "reviews"))
    prompts = {p["label"]: p["raw"] for p in config["prompts"]}
    assert prompts["chat"].startswith("{% set pp_turn_0 %}")  # still a template, not a result
    assert "include" not in prompts["ruled"] and "Labels: positive" in prompts["ruled"]
    assert prompts["few"] == "{{ rendered_few | dump }}"


def test_promptfoo_export_refuses_unknown_names() -> None:
    lib = _promptfoo_library()
    with pytest.raises(LibraryError, match="no dataset 'nope'"):
        export_promptfoo(lib, ["plain"], "nope")
    with pytest.raises(LibraryError, match="no template 'nope'"):
        export_promptfoo(lib, ["nope"], "reviews")
    with pytest.raises(LibraryError, match="at least one template"):
        export_promptfoo(lib, [], "reviews")


def test_promptfoo_export_of_the_builtin_library_matches_the_app() -> None:
    lib = load_builtin_library()
    exported = 0
    for dataset in lib.datasets:
        ids = [t.id for t in lib.templates if t.meta.task == dataset.task]
        if ids:
            config = yaml.safe_load(export_promptfoo(lib, ids, dataset.name))
            assert [p["label"] for p in config["prompts"]] == ids
            assert len(config["tests"]) == len(dataset.rows)
            _assert_promptfoo_matches_app(lib, ids, dataset.name)
            exported += 1
    if not exported:
        pytest.skip("no built-in dataset has templates for its task yet")


def test_shared_values_are_written_out_not_aliased() -> None:
    """PyYAML writes a repeated object once with an anchor; our own importer refuses those."""
    references = ["same list"]
    example = {"input": "same", "output": "dict"}
    lib = Library(
        "shared",
        "",
        example_sets=(ExampleSet("s", "", (example, example)),),
        datasets=(Dataset("d", "", ({"q": "a", "references": references},
                                    {"q": "b", "references": references})),),
    )
    text = export_library(lib, "yaml")
    assert "&id" not in text and "*id" not in text
    assert import_library(text, "yaml").library == lib
    assert "&id" not in export_promptfoo(
        Library("p", "", templates=(_template("t", "{{ q }}"),), datasets=lib.datasets), ["t"], "d"
    )


def test_library_document_is_the_export_schema() -> None:
    doc = library_document(awkward_library())
    assert doc["schema"] == SCHEMA and doc["version"] == 1
    assert doc["datasets"][0]["rows"][0] == {"text": "NO", "yes": "no", "references": ["NO", "NO"]}
    assert library_module.MAX_NESTING == MAX_NESTING
