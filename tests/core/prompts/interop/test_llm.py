"""llm (simonw/llm) templates converted into ours: the same text for the same values, and
what could not be carried over named."""

from __future__ import annotations

import string

import pytest
import yaml

from playground.prompts.formats import LibraryError
from playground.prompts.interop.llm import import_llm_template
from playground.prompts.templates import render_template


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
