"""Editing installed libraries: entries added, renamed, copied and removed by name, saved over
their own file, and imports told apart (library or llm template)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from playground.prompts.collection import (
    BUILTIN,
    DEFAULT_LIBRARY,
    Collection,
    copy_entry,
    create_library,
    entries,
    entry_name,
    entry_summary,
    file_stem,
    find_entry,
    free_name,
    install,
    is_builtin_name,
    library_file,
    library_path,
    load_collection,
    new_entry,
    put_entry,
    read_import,
    remove_entry,
    rename_entry,
    save_library,
    target_library,
    template_dependencies,
    uninstall,
    validate_library,
)
from playground.prompts.formats import LibraryError
from playground.prompts.interop.llm import LlmImport
from playground.prompts.library import (
    Dataset,
    ExampleSet,
    ImportReport,
    Library,
    Preset,
    export_library,
    load_builtin_library,
    read_library,
)
from playground.prompts.templates import parse_template


@pytest.fixture(scope="module")
def builtin() -> Library:
    return load_builtin_library()


def small_library(name: str = "Mine") -> Library:
    return Library(
        name,
        "",
        templates=(parse_template("Hello {{ who }}", "greet"),),
        presets=(Preset("cold", {"temperature": 0}),),
    )


def test_put_entry_appends_and_refuses_a_taken_name() -> None:
    lib = put_entry(small_library(), "preset", Preset("warm", {"temperature": 0.9}))
    assert [entry_name(p) for p in entries(lib, "preset")] == ["cold", "warm"]
    with pytest.raises(LibraryError, match="already has a preset named 'warm'"):
        put_entry(lib, "preset", Preset("warm", {}))


def test_put_entry_replaces_in_place() -> None:
    lib = put_entry(small_library(), "preset", Preset("warm", {}))
    lib = put_entry(lib, "preset", Preset("cold", {"temperature": 0.1}), replacing="cold")
    assert [(p.name, p.params) for p in lib.presets] == [
        ("cold", {"temperature": 0.1}), ("warm", {})
    ]
    with pytest.raises(LibraryError, match="no preset named 'gone'"):
        put_entry(lib, "preset", Preset("x", {}), replacing="gone")


def test_rename_keeps_the_place_and_checks_uniqueness() -> None:
    lib = put_entry(small_library(), "template", parse_template("Bye", "leave"))
    renamed = rename_entry(lib, "template", "greet", "welcome")
    assert [t.id for t in renamed.templates] == ["welcome", "leave"]
    assert renamed.templates[0].source == "Hello {{ who }}"
    with pytest.raises(LibraryError, match="already has a template named 'leave'"):
        rename_entry(lib, "template", "greet", "leave")
    with pytest.raises(LibraryError, match="needs a name"):
        rename_entry(lib, "template", "greet", "  ")
    assert rename_entry(lib, "preset", "cold", "icy").presets[0].name == "icy"


def test_remove_entry() -> None:
    lib = remove_entry(small_library(), "template", "greet")
    assert lib.templates == ()
    with pytest.raises(LibraryError, match="no template named 'greet'"):
        remove_entry(lib, "template", "greet")


def test_new_entries_are_valid_and_empty() -> None:
    template = new_entry("template", "1.10")
    assert entry_name(template) == "1.10"
    assert template.meta.name == "1.10"  # quoted: YAML would read it as a number
    assert [v.name for v in template.meta.variables] == ["text"]  # type: ignore[union-attr]
    assert new_entry("example_set", "shots") == ExampleSet("shots", "", ())
    lib = Library("L", "")
    for kind in ("template", "example_set", "preset", "dataset"):
        lib = put_entry(lib, kind, new_entry(kind, "n"))  # type: ignore[arg-type]
    assert validate_library(lib) == lib


def test_free_name() -> None:
    assert free_name("template", "a", []) == "a"
    assert free_name("template", "a", ["a", "a-copy"]) == "a-copy-2"
    assert free_name("preset", "greedy", ["greedy"]) == "greedy copy"


def test_copying_a_template_brings_its_partials_and_example_sets(builtin: Library) -> None:
    template = builtin.template("ner-few-shot-cot")
    assert template is not None
    partials, sets = template_dependencies(builtin, template)
    assert {p.id for p in partials} == {"_ner-rules", "_examples-block"}
    assert [s.name for s in sets] == ["ner"]

    target, name = copy_entry(builtin, "template", "ner-few-shot-cot", Library("Mine", ""))
    assert name == "ner-few-shot-cot"
    assert {t.id for t in target.templates} == {"ner-few-shot-cot", "_ner-rules",
                                                "_examples-block"}
    assert [s.name for s in target.example_sets] == ["ner"]
    again, second = copy_entry(target, "template", "ner-few-shot-cot", target)
    assert second == "ner-few-shot-cot-copy"
    assert len(again.templates) == 4
    copied = find_entry(again, "template", second)
    assert copied is not None and copied.source == template.source  # type: ignore[union-attr]


def test_validate_library_reports_each_bad_entry() -> None:
    bad = Library("Mine", "", templates=(parse_template("x", "a b"),))
    with pytest.raises(LibraryError, match="'Mine' was not saved") as caught:
        validate_library(bad)
    assert "not a usable id" in str(caught.value)
    assert any(r.status == "error" for r in caught.value.report)


def test_save_creates_then_overwrites_the_same_file(tmp_path: Path) -> None:
    lib = small_library()
    path = save_library(lib, tmp_path)
    assert path == library_path("Mine", tmp_path)
    edited = remove_entry(lib, "preset", "cold")
    assert save_library(edited, tmp_path) == path
    assert read_library(path).library == edited
    assert load_collection(tmp_path).library("Mine") == edited


def test_save_keeps_a_hand_copied_file_and_its_format(tmp_path: Path) -> None:
    handmade = tmp_path / "shared-prompts.yaml"
    handmade.write_text(export_library(small_library(), "yaml"), encoding="utf-8")
    assert library_file("Mine", tmp_path) == handmade
    edited = remove_entry(small_library(), "template", "greet")
    assert save_library(edited, tmp_path) == handmade
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared-prompts.yaml"]
    assert handmade.read_text(encoding="utf-8") == export_library(edited, "yaml")


def test_save_refuses_builtin_invalid_and_a_file_of_another_library(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="read-only"):
        save_library(Library(BUILTIN, ""), tmp_path)
    with pytest.raises(LibraryError, match="not saved"):
        save_library(Library("Mine", "", templates=(parse_template("x", "a b"),)), tmp_path)
    assert not tmp_path.joinpath("Mine.json").exists()
    install(small_library("My-lib"), tmp_path)  # same file name as "My lib"
    with pytest.raises(LibraryError, match="used by another library"):
        save_library(small_library("My lib"), tmp_path)
    assert read_library(tmp_path / "My-lib.json").library.name == "My-lib"


def test_create_and_uninstall(tmp_path: Path) -> None:
    created = create_library("Work", tmp_path, "for work")
    assert load_collection(tmp_path).library("Work") == created
    with pytest.raises(LibraryError, match="already installed"):
        create_library("Work", tmp_path)
    with pytest.raises(LibraryError, match="reserved"):
        create_library("built-in", tmp_path)
    assert uninstall("Work", tmp_path) == library_path("Work", tmp_path)
    assert [lib.name for lib in load_collection(tmp_path).libraries] == [BUILTIN]
    with pytest.raises(LibraryError, match="no installed library named 'Work'"):
        uninstall("Work", tmp_path)
    with pytest.raises(LibraryError, match="cannot be removed"):
        uninstall(BUILTIN, tmp_path)


def test_read_import_tells_libraries_from_llm_templates(tmp_path: Path) -> None:
    lib_file = tmp_path / "lib.yaml"
    lib_file.write_text(export_library(small_library(), "yaml"), encoding="utf-8")
    result = read_import(lib_file)
    assert isinstance(result, ImportReport)
    assert result.library == small_library()

    llm_file = tmp_path / "summarize.yaml"
    llm_file.write_text("system: Be brief.\nprompt: 'Summarize: $input'\n", encoding="utf-8")
    converted = read_import(llm_file)
    assert isinstance(converted, LlmImport)
    assert converted.template.id == "summarize"
    assert converted.template.meta.format == "chat"

    json_file = tmp_path / "lib.json"
    json_file.write_text(json.dumps({"prompt": "hi"}), encoding="utf-8")
    with pytest.raises(LibraryError, match="not a Prompt Playground library"):
        read_import(json_file)


def test_read_import_refuses_broken_files(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text("schema: prompt-playground/library\nversion: 1\nname: a\nname: b\n")
    with pytest.raises(LibraryError, match="duplicate key 'name'"):
        read_import(dup)
    bad = tmp_path / "bad.yaml"
    bad.write_text("prompt: 'x'\nprompt: 'y'\n")
    with pytest.raises(LibraryError, match="duplicate key"):
        read_import(bad)
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(LibraryError, match=r"\.json, \.yaml or \.yml"):
        read_import(other)


@pytest.mark.parametrize("name", [BUILTIN, "built-in", "BUILT-IN", "Built-In"])
def test_no_library_may_take_the_builtin_name_in_any_case(name: str, tmp_path: Path) -> None:
    assert is_builtin_name(name)
    with pytest.raises(LibraryError, match="reserved"):
        install(small_library(name), tmp_path)
    with pytest.raises(LibraryError, match="read-only"):
        save_library(small_library(name), tmp_path)
    with pytest.raises(LibraryError, match="reserved"):
        create_library(name, tmp_path)
    with pytest.raises(LibraryError, match="cannot be removed"):
        uninstall(name, tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["Built-in copy", "Builtin", " Built-in", "My library"])
def test_names_close_to_the_builtin_one_are_free(name: str) -> None:
    assert not is_builtin_name(name)


def test_file_stem_is_what_install_names_the_file(tmp_path: Path) -> None:
    for name in ("Copy (json)", "Été: 1/2", "...", "x" * 200):
        stem = file_stem(name)
        assert stem and "/" not in stem and ":" not in stem and len(stem) <= 80
        assert library_path(name, tmp_path).name == f"{stem}.json"
    assert file_stem("Copy (json)") == "Copy-json"
    assert file_stem("...") == "library"


def test_target_library_prefers_the_named_user_library(builtin: Library) -> None:
    first, second = small_library("First"), small_library("Second")
    collection = Collection((builtin, first, second))
    assert target_library(collection, "Second", "First") is second
    assert target_library(collection, "", "First") is first
    assert target_library(collection, BUILTIN, "gone") is first  # never the built-in library
    assert target_library(Collection((builtin,)), BUILTIN) == Library(DEFAULT_LIBRARY, "")


def test_entry_summary_tells_entries_apart(builtin: Library) -> None:
    template = parse_template(
        "{#---\nname: Greeting\ntechnique: few-shot\n---#}\nHi", "greet")
    assert entry_summary(template) == "Greeting · few-shot"
    assert entry_summary(parse_template("x", "_part")) == (
        "_part · partial, included by other templates")
    shots = ExampleSet("s", "qa", ({"input": "a", "output": "b"},))
    assert entry_summary(shots) == "1 example · qa"
    assert entry_summary(Preset("p", {"temperature": 0.5, "top_k": 4})) == (
        "temperature=0.5, top_k=4")
    assert entry_summary(Preset("p", {})) == "no settings"
    assert entry_summary(Dataset("d", "", ({"q": "x", "references": []},) * 3)) == "3 rows"
