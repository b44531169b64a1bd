"""Prompt libraries: exact round trips, all-or-nothing imports with a verdict per item, the
built-in library."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta
import pytest

from playground.prompts.formats import SCHEMA, ItemReport, LibraryError, LibraryFormat
from playground.prompts.library import (
    BUILTIN_PRESETS,
    Dataset,
    ExampleSet,
    Library,
    export_library,
    import_library,
    library_document,
    load_builtin_library,
    read_library,
    write_library,
)
from playground.prompts.templates import render_template
from tests.core.prompts.samples import FORMATS, awkward_library, library_json, refused

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


@pytest.mark.timeout(10)
def test_alias_bomb_inside_a_template_header_is_refused(yaml_backend: str) -> None:
    """A header is YAML too, read by the same strict loader: an alias bomb there is refused
    before it expands, and the report puts it on the template."""
    lines = ["variables:", "  v:", "    x0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"    x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    lines.append("    help: *a8")
    source = "{#---\n" + "\n".join(lines) + "\n---#}\nhi"
    error = refused(library_json(templates=[{"id": "bomb", "source": source}]))
    assert "anchors and aliases" in str(error)
    assert error.report[1].status == "error"



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
    error = refused(library_json(**overrides))
    assert "nothing was imported" in str(error)
    assert expected in str(error)
    failed = [item for item in error.report if item.status == "error"]
    assert failed and all(item.kind == kind for item in failed)
    assert any(expected in item.message for item in failed)
    assert error.report[0] == ItemReport("library", "Test", "ok", "")


def test_report_lists_good_and_bad_items_together() -> None:
    error = refused(
        library_json(
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
    error = refused(text, "yaml")
    assert "example_sets[0].examples[0].input: expected text, got a number (quote it)" in str(error)
    # NO, 12:30, yes and 0x1F are plain text under the strict reader
    text = text.replace("1.10", "12:30") + "  - {input: yes, output: 0x1F}\n"
    examples = import_library(text, "yaml").library.example_sets[0].examples
    assert examples == ({"input": "12:30", "output": "NO"}, {"input": "yes", "output": "0x1F"})


def test_library_level_problems_are_reported_with_the_items() -> None:
    error = refused(library_json(name=None, bogus=1, templates=[GOOD_TEMPLATE]))
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


def test_library_document_is_the_export_schema() -> None:
    doc = library_document(awkward_library())
    assert doc["schema"] == SCHEMA and doc["version"] == 1
    assert doc["datasets"][0]["rows"][0] == {"text": "NO", "yes": "no", "references": ["NO", "NO"]}
    assert export_library(awkward_library(), "json") == json.dumps(
        doc, ensure_ascii=False, indent=2) + "\n"
