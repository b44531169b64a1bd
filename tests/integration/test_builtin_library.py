"""The built-in prompt library in ``templates/``: headers, rendering on every demo row, coverage
of tasks and techniques, the example sets and datasets, and one short generation per template
on the real bundled model."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from playground.engine.backends import LocalBackend
from playground.events import GenerationRequest
from playground.prompts.templates import (
    BUILTIN_DIR,
    TECHNIQUES,
    PromptTemplate,
    Rendered,
    builtin_templates,
    load_template_file,
    render_template,
)
from playground.sampling import SamplingParams
from tests.integration.conftest import collect

TASKS = ("summarization", "sentiment", "translation", "ner", "qa", "explain")
EXAMPLES_DIR = BUILTIN_DIR / "examples"
DATASETS_DIR = BUILTIN_DIR / "datasets"
#: Generation here only proves each prompt runs end to end; a few tokens are enough.
GENERATION_MAX_TOKENS = 24
_INCLUDE = re.compile(r"""\{%-?\s*include\s+["']([^"']+)["']""")


def _files() -> list[Path]:
    return sorted([*BUILTIN_DIR.glob("*.j2"), *BUILTIN_DIR.glob("*.jinja")])


#: Judge templates (``judge-*``) grade outputs rather than do a task; tests/core/runs/
#: test_judge_templates.py checks them.
TEMPLATE_IDS = [p.stem for p in _files() if not p.stem.startswith(("_", "judge-"))]
PARTIAL_IDS = [p.stem for p in _files() if p.stem.startswith("_")]


@cache
def _template(template_id: str) -> PromptTemplate:
    path = next(p for p in _files() if p.stem == template_id)
    return load_template_file(path)


@cache
def _library() -> dict[str, str]:
    """Every template and partial by id, as ``render_template`` resolves ``include``."""
    return {p.stem: p.read_text(encoding="utf-8") for p in _files()}


@cache
def _example_set(task: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES_DIR / f"{task}.json").read_text(encoding="utf-8"))
    return data


@cache
def _dataset(task: str) -> list[dict[str, Any]]:
    lines = (DATASETS_DIR / f"{task}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _values(template: PromptTemplate, row: dict[str, Any]) -> dict[str, Any]:
    """A dataset row as template values: every field but the references, plus the examples."""
    values = {k: v for k, v in row.items() if k != "references"}
    values["examples"] = _example_set(template.meta.task)["examples"]
    return values


def _render(template: PromptTemplate, row: dict[str, Any], **extra: Any) -> Rendered:
    return render_template(template, {**_values(template, row), **extra}, library=_library())


# -- (a) headers ------------------------------------------------------------------------------


def test_builtin_templates_parse_and_match_the_files() -> None:
    parsed = [t for t in builtin_templates() if not t.id.startswith(("_", "judge-"))]
    assert [t.id for t in parsed] == TEMPLATE_IDS
    assert len(TEMPLATE_IDS) >= 30
    assert len(PARTIAL_IDS) >= 2


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_header_is_complete_and_consistent(template_id: str) -> None:
    meta = _template(template_id).meta
    assert meta.technique in TECHNIQUES
    assert meta.task in TASKS
    assert template_id == f"{meta.task}-{meta.technique}"
    assert meta.name and meta.name != template_id
    assert meta.description
    if meta.technique == "system-user":
        assert meta.format == "chat"
    # Sensible defaults: greedy for labels and extraction, a length cap for every task.
    assert {"temperature", "max_tokens"} <= set(meta.params)
    if meta.task in ("sentiment", "ner", "translation", "qa"):
        assert meta.params["temperature"] == 0
    # Every variable is declared with help; those without a default come from the dataset.
    row_fields = set(_dataset(meta.task)[0]) - {"references"}
    for var in meta.variables:
        assert var.help, f"{var.name} has no help text"
        if var.type == "choice":
            assert var.default in var.choices
        if var.type == "number":
            assert isinstance(var.default, int)
        if var.type == "examples":
            assert var.name == "examples"
            assert var.default_set == meta.task
        elif var.default is None:
            assert var.name in row_fields, f"{var.name} has no default and no dataset field"
    uses_examples = meta.technique in ("one-shot", "few-shot", "few-shot-cot")
    assert (meta.example_set == meta.task) == uses_examples
    assert (_template(template_id).variable("examples") is not None) == uses_examples
    if meta.technique in ("few-shot", "few-shot-cot"):
        n_examples = _template(template_id).variable("n_examples")
        assert n_examples is not None and n_examples.type == "number"
    if meta.technique == "persona":
        persona = _template(template_id).variable("persona")
        assert persona is not None and persona.default


# -- (b) rendering ----------------------------------------------------------------------------


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_renders_every_dataset_row_of_its_task(template_id: str) -> None:
    template = _template(template_id)
    rows = _dataset(template.meta.task)
    for row in rows:
        rendered = _render(template, row)
        assert rendered.text.strip()
        assert rendered.warnings == ()
        for key, value in row.items():
            if key != "references":
                assert str(value) in rendered.text, f"{key} of the row is not in the prompt"
        if template.meta.format == "chat":
            assert rendered.messages
            assert rendered.messages[0].role in ("system", "user")
            assert rendered.messages[-1].role == "user"
            assert all(m.content for m in rendered.messages)
        else:
            assert rendered.messages is None
            # The model continues right after the last cue ("Answer:"): no trailing whitespace.
            assert rendered.text == rendered.text.rstrip()
            assert "\n\n\n" not in rendered.text


def test_n_examples_caps_the_examples_shown() -> None:
    capped = [i for i in TEMPLATE_IDS if _template(i).variable("n_examples") is not None]
    assert capped
    for template_id in capped:
        template = _template(template_id)
        examples = _example_set(template.meta.task)["examples"]
        row = _dataset(template.meta.task)[0]
        two = _render(template, row, n_examples=2).text
        assert examples[0]["input"] in two and examples[1]["input"] in two, template_id
        assert examples[2]["input"] not in two, template_id
        none = _render(template, row, n_examples=0).text
        assert examples[0]["input"] not in none, template_id


def test_chat_few_shot_templates_show_examples_as_turns() -> None:
    chat_few_shot = [
        i
        for i in TEMPLATE_IDS
        if _template(i).meta.technique == "few-shot" and _template(i).meta.format == "chat"
    ]
    assert chat_few_shot
    for template_id in chat_few_shot:
        template = _template(template_id)
        rendered = _render(template, _dataset(template.meta.task)[0], n_examples=2)
        assert rendered.messages is not None
        roles = [m.role for m in rendered.messages]
        assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
        first = _example_set(template.meta.task)["examples"][0]
        assert rendered.messages[1].content == first["input"]
        assert rendered.messages[2].content == first["output"]


def test_partials_are_included_by_real_templates() -> None:
    included: Counter[str] = Counter()
    for template_id in TEMPLATE_IDS:
        names = _INCLUDE.findall(_template(template_id).body)
        for name in names:
            assert name in PARTIAL_IDS, f"{template_id} includes {name!r}, which is not a partial"
        included.update(set(names))
    assert set(included) == set(PARTIAL_IDS), "every partial is used"
    assert sum(1 for i in TEMPLATE_IDS if _INCLUDE.search(_template(i).body)) >= 2


# -- (c) coverage -----------------------------------------------------------------------------


def test_every_technique_and_task_is_covered() -> None:
    techniques = Counter(_template(i).meta.technique for i in TEMPLATE_IDS)
    tasks = Counter(_template(i).meta.task for i in TEMPLATE_IDS)
    assert {t: techniques[t] for t in TECHNIQUES if techniques[t] < 2} == {}
    assert {t: tasks[t] for t in TASKS if tasks[t] < 4} == {}
    assert set(techniques) <= set(TECHNIQUES)
    assert set(tasks) <= set(TASKS)
    assert sum(_template(i).meta.format == "chat" for i in TEMPLATE_IDS) >= 6


# -- (d) generation on the default model ------------------------------------------------------


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_generates_on_the_default_model(backend: LocalBackend, template_id: str) -> None:
    template = _template(template_id)
    rendered = _render(template, _dataset(template.meta.task)[0])
    params = SamplingParams(**template.meta.params)
    params = dataclasses.replace(
        params, temperature=0, max_tokens=min(params.max_tokens, GENERATION_MAX_TOKENS)
    )
    if rendered.messages is not None:
        request = GenerationRequest(messages=rendered.messages, params=params)
    else:
        request = GenerationRequest(prompt=rendered.text, params=params)
    _, result = collect(backend, request)
    assert result.finish_reason in ("stop", "length"), result.error
    assert result.prompt_tokens > 0
    assert result.completion_tokens <= params.max_tokens


# -- (e) example sets and datasets ------------------------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_example_set_has_worked_examples(task: str) -> None:
    data = _example_set(task)
    assert data["name"] == task
    assert data["task"] == task
    examples = data["examples"]
    assert len(examples) >= 6
    for example in examples:
        for key in ("input", "output", "rationale"):
            assert isinstance(example[key], str) and example[key].strip(), key
    inputs = [e["input"] for e in examples]
    assert len(set(inputs)) == len(inputs)
    if task == "summarization":
        for text in inputs:
            turns = text.split("\n")
            assert 3 <= len(turns) <= 6
            assert all(re.match(r"^[^:\n]+: \S", turn) for turn in turns)
    if task == "qa":
        assert all(re.match(r"^Context: .+\nQuestion: .+$", text) for text in inputs)


@pytest.mark.parametrize("task", TASKS)
def test_dataset_rows_have_references(task: str) -> None:
    rows = _dataset(task)
    assert len(rows) >= 8
    fields = set(rows[0])
    assert "references" in fields
    for row in rows:
        assert set(row) == fields, "every row of a dataset has the same fields"
        references = row["references"]
        assert isinstance(references, list) and references
        assert all(isinstance(r, str) and r.strip() for r in references)
        assert all(isinstance(v, str) and v.strip() for k, v in row.items() if k != "references")
    assert any(not json.dumps(row, ensure_ascii=False).isascii() for row in rows)
