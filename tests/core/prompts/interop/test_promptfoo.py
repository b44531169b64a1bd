"""promptfoo configurations: the prompts promptfoo renders are the app's own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

from playground.errors import PlaygroundError
from playground.prompts.collection import Collection
from playground.prompts.formats import LibraryError
from playground.prompts.interop.promptfoo import (
    config_path,
    dataset_choices,
    export_promptfoo,
    library_for_export,
)
from playground.prompts.library import Dataset, ExampleSet, Library, load_builtin_library
from playground.prompts.templates import render_template
from tests.core.prompts.samples import make_template


def _promptfoo_library() -> Library:
    return Library(
        name="Eval",
        description="",
        templates=(
            make_template("plain", "Review: {{ review }}\nLabel ({{ labels | default('any') }}):",
                      name="Plain", variables={"labels": {"type": "text", "default": "pos/neg"}}),
            make_template(
                "chat",
                '{{ role("system") }}\nYou label reviews.\n{{ role("user") }}\n'
                "{% if hint %}Hint: {{ hint }}\n{% endif %}{{ review }}\n",
                name="Chat", format="chat", variables={"hint": {"type": "text", "default": ""}},
            ),
            make_template("_rules", "Labels: positive, negative or neutral.{#- trimmed -#}\n\n"),
            make_template(
                "ruled",
                '{{ role("system") }}\n{%- include "_rules" -%}\n\n'
                '{{ role("user") }}\n{{ review }}',
                name="Ruled", format="chat",
            ),
            make_template(
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
    """PyYAML writes a repeated object once with an anchor; promptfoo's reader need not follow."""
    references = ["same list"]
    rows = ({"q": "a", "references": references}, {"q": "b", "references": references})
    lib = Library("p", "", templates=(make_template("t", "{{ q }}"),),
                  datasets=(Dataset("d", "", rows),))
    text = export_promptfoo(lib, ["t"], "d")
    assert "&id" not in text and "*id" not in text
    tests = yaml.safe_load(text)["tests"]
    assert [t["assert"][0]["value"] for t in tests] == ["same list", "same list"]



# -- which library and dataset an export uses ----------------------------------------------------


def _collection() -> Collection:
    mine = Library("Mine", "", templates=(make_template("mood", "Mood of: {{ review }}"),),
                   datasets=(Dataset("reviews", "sentiment", ({"review": "mine",
                                                               "references": []},)),))
    other = Library("Other", "", datasets=(
        Dataset("reviews", "sentiment", ({"review": "other", "references": []},)),
        Dataset("questions", "qa", ({"q": "?", "references": []},)),
    ))
    return Collection((_promptfoo_library(), mine, other))


def _first_review(lib: Library) -> str:
    dataset = lib.dataset("reviews")
    assert dataset is not None
    return str(dataset.rows[0]["review"])


def test_a_bare_dataset_name_is_the_librarys_own_first() -> None:
    collection = _collection()
    lib = library_for_export(collection, ["mood"], "reviews")
    assert lib is collection.library("Mine")
    assert _first_review(lib) == "mine"


def test_a_qualified_dataset_comes_from_its_library() -> None:
    collection = _collection()
    lib = library_for_export(collection, ["mood"], "Other/reviews")
    assert lib.name == "Mine" and _first_review(lib) == "other"
    assert [d.name for d in lib.datasets] == ["reviews"]  # replaced, not added twice
    assert collection.library("Mine").dataset("reviews") is not None  # the original is kept
    config = yaml.safe_load(export_promptfoo(lib, ["mood"], "reviews"))
    assert config["tests"][0]["vars"]["review"] == "other"


def test_a_dataset_only_elsewhere_is_found_by_name() -> None:
    lib = library_for_export(_collection(), ["mood"], "questions")
    assert lib.name == "Mine" and lib.dataset("questions") is not None


def test_the_templates_come_from_the_named_library_else_the_first_ones() -> None:
    collection = _collection()
    eval_lib = collection.library("Eval")
    assert library_for_export(collection, ["plain"], "reviews", library="Eval") is eval_lib
    assert library_for_export(collection, ["plain", "mood"], "reviews") is eval_lib
    mine = library_for_export(collection, ["mood", "plain"], "reviews")
    assert mine is collection.library("Mine")
    # the export itself refuses a template the library lacks
    with pytest.raises(LibraryError, match="no template 'plain'"):
        export_promptfoo(mine, ["mood", "plain"], "reviews")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"template_ids": ["mood"], "dataset": "nope"}, "there is no dataset 'nope'"),
        ({"template_ids": ["mood"], "dataset": "Gone/reviews"}, "no dataset 'Gone/reviews'"),
        ({"template_ids": ["mood"], "dataset": "reviews", "library": "Gone"},
         "no library named 'Gone'"),
        ({"template_ids": ["unknown"], "dataset": "reviews"}, "no template named 'unknown'"),
        ({"template_ids": [], "dataset": "reviews"}, "choose at least one template"),
    ],
)
def test_unknown_names_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(PlaygroundError, match=message):
        library_for_export(_collection(), **kwargs)


def test_dataset_choices_list_the_librarys_own_first() -> None:
    collection = _collection()
    assert dataset_choices(collection.library("Mine"), collection) == [
        ("reviews", "sentiment"),
        ("Eval/reviews", "sentiment"),
        ("Other/reviews", "sentiment"),
        ("Other/questions", "qa"),
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("promptfooconfig", "promptfooconfig.yaml"), ("pf.yaml", "pf.yaml"), ("pf.YML", "pf.YML"),
     ("pf.json", "pf.json.yaml"), ("v1.2", "v1.2.yaml")],
)
def test_the_config_is_a_yaml_file(name: str, expected: str, tmp_path: Path) -> None:
    assert config_path(tmp_path / name) == tmp_path / expected
