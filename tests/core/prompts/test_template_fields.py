"""A template's header as form fields and back: byte for byte when nothing changed, the same
template when something did, and a refusal that names its field."""

from __future__ import annotations

import dataclasses

import pytest

from playground.prompts.template_fields import (
    EMPTY_TEXT,
    FieldError,
    TemplateFields,
    VariableRow,
    join_template,
    split_template,
)
from playground.prompts.templates import PromptTemplate, builtin_templates, parse_template

BUILTINS = builtin_templates()


@pytest.mark.parametrize("template", BUILTINS, ids=[t.id for t in BUILTINS])
def test_every_builtin_template_is_written_back_byte_for_byte(template: PromptTemplate) -> None:
    parts = split_template(template.source, template.id)
    assert join_template(parts, parts.fields, parts.body, template.id) == template.source
    assert parts.header + parts.body == template.source
    assert not parts.body.startswith("{#---")


@pytest.mark.parametrize("template", BUILTINS, ids=[t.id for t in BUILTINS])
def test_a_rewritten_header_reads_back_as_the_same_template(template: PromptTemplate) -> None:
    """Change one field: the new header is the app's own YAML, and everything else reads back
    as it was (meta, body, the fields themselves)."""
    parts = split_template(template.source, template.id)
    fields = dataclasses.replace(parts.fields, task=parts.fields.task + "-edited")
    source = join_template(parts, fields, parts.body, template.id)
    assert source != template.source and source.endswith(parts.body)
    again = split_template(source, template.id)
    assert again.fields == fields and again.body == parts.body
    before, after = template.meta, parse_template(source, template.id).meta
    assert dataclasses.replace(after, task=before.task) == before


def test_fields_hold_the_header_as_text() -> None:
    source = (
        "{#---\n"
        "name: Greeter\n"
        "technique: zero-shot\n"
        "format: chat\n"
        "variables:\n"
        "  who: {type: text, help: Whom to greet, default: world}\n"
        "  n: {type: number, default: 3}\n"
        "  tone: {type: choice, choices: [warm, cold], default: warm}\n"
        "params: {temperature: 0.5, stop: [\"\\n\\n\"]}\n"
        "---#}\n"
        "{{ role('user') }}Hello {{ who }}\n"
    )
    parts = split_template(source, "greet")
    assert parts.body == "{{ role('user') }}Hello {{ who }}\n"
    assert parts.fields == TemplateFields(
        name="Greeter", technique="zero-shot", format="chat",
        params='temperature: 0.5, stop: ["\\n\\n"]',
        variables=(VariableRow("who", "text", "world", "Whom to greet"),
                   VariableRow("n", "number", "3"),
                   VariableRow("tone", "choice", "warm", choices="warm, cold")),
    )


def test_a_template_without_header_gets_one_when_fields_are_filled() -> None:
    parts = split_template("Hello {{ who }}\n", "greet")
    assert parts.header == "" and parts.fields == TemplateFields()
    assert join_template(parts, parts.fields, "Bye {{ who }}\n", "greet") == "Bye {{ who }}\n"
    fields = TemplateFields(name="Greeter", description="Says hello.\nTwice.",
                            variables=(VariableRow("who", help="Whom to greet"),))
    source = join_template(parts, fields, parts.body, "greet")
    template = parse_template(source, "greet")
    assert template.meta.name == "Greeter"
    assert template.meta.description == "Says hello.\nTwice."
    assert template.body == "Hello {{ who }}\n"
    who = template.variable("who")
    assert who is not None and who.help == "Whom to greet"


def test_empty_variable_rows_are_left_out() -> None:
    parts = split_template("{{ x }}", "t")
    fields = TemplateFields(variables=(VariableRow("x"), VariableRow("", "text")))
    source = join_template(parts, fields, parts.body, "t")
    assert split_template(source, "t").fields.variables == (VariableRow("x"),)


@pytest.mark.parametrize(("fields", "field", "row", "words"), [
    (TemplateFields(params="temperature: hot"), "params", None, "temperature"),
    (TemplateFields(params="warmth: 2"), "params", None, "warmth"),
    (TemplateFields(params="temperature: [1"), "params", None, "temperature: 0.7"),
    (TemplateFields(format="markdown"), "format", None, "text or chat"),
    (TemplateFields(name="a #} b"), "name", None, "'#}'"),
    (TemplateFields(variables=(VariableRow("ok"), VariableRow("two words"))),
     "variables", 1, "variable 2"),
    (TemplateFields(variables=(VariableRow("x"), VariableRow("x"))), "variables", 1, "twice"),
    (TemplateFields(variables=(VariableRow("n", "number", "many"),)), "variables", 0,
     "number"),
    (TemplateFields(variables=(VariableRow("c", "choice"),)), "variables", 0, "choices"),
    (TemplateFields(variables=(VariableRow("c", "choice", "blue", choices="red, green"),)),
     "variables", 0, "not one of its choices"),
    (TemplateFields(variables=(VariableRow("x", "colour"),)), "variables", 0, "colour"),
    (TemplateFields(variables=(VariableRow("e", "examples", "3"),)), "variables", 0, "list"),
])
def test_a_bad_field_is_refused_by_name(
    fields: TemplateFields, field: str, row: int | None, words: str
) -> None:
    parts = split_template("Hello\n", "t")
    with pytest.raises(FieldError) as refused:
        join_template(parts, fields, parts.body, "t")
    assert refused.value.field == field
    assert refused.value.row == row
    assert words in str(refused.value)


def test_a_body_error_counts_lines_of_the_body() -> None:
    template = BUILTINS[-1]
    parts = split_template(template.source, template.id)
    with pytest.raises(FieldError) as refused:
        join_template(parts, parts.fields, "line one\n{% if %}\n", template.id)
    assert refused.value.field == "body"
    assert "line 2" in str(refused.value)


def test_an_empty_text_default_is_kept_apart_from_no_default() -> None:
    source = ('{#---\nname: Optional\nvariables:\n  reference: {default: ""}\n  text: {}\n---#}\n'
              "{{ text }}{{ reference }}\n")
    parts = split_template(source, "optional")
    rows = {row.name: row.default for row in parts.fields.variables}
    assert rows == {"reference": EMPTY_TEXT, "text": ""}
    edited = dataclasses.replace(parts.fields, task="qa")
    meta = parse_template(join_template(parts, edited, parts.body, "optional"), "optional").meta
    assert {v.name: v.default for v in meta.variables} == {"reference": "", "text": None}
