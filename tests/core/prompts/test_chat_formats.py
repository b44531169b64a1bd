"""Built-in chat formats: each renders a two-turn conversation in its family's layout, with the
generation prompt and the strings that end a turn; choosing one and refusing chat without one."""

from __future__ import annotations

import pytest

from playground.errors import PlaygroundError, TemplateError
from playground.events import ChatMessage
from playground.prompts.chat_formats import (
    CHAT_FORMATS,
    NO_FORMAT,
    OWN_FORMAT,
    RAW_COMPLETION,
    chat_format,
    chat_mode_label,
    format_template,
    model_chat,
    no_template_message,
)

CONVERSATION = (
    ChatMessage("system", "Be brief."),
    ChatMessage("user", "Hi"),
    ChatMessage("assistant", "Hello."),
    ChatMessage("user", "Name a colour."),
)

#: Each family's layout, written out by hand from its published format.
EXPECTED = {
    "chatml": (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello.<|im_end|>\n"
        "<|im_start|>user\nName a colour.<|im_end|>\n"
        "<|im_start|>assistant\n"
    ),
    "llama3": (
        "<B><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nName a colour.<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    ),
    "gemma": (
        "<B><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
        "<start_of_turn>model\nHello.<end_of_turn>\n"
        "<start_of_turn>user\nName a colour.<end_of_turn>\n"
        "<start_of_turn>model\n"
    ),
    "mistral": "<B>[INST] Be brief.\n\nHi [/INST] Hello.<E>[INST] Name a colour. [/INST]",
    "phi3": (
        "<|system|>\nBe brief.<|end|>\n"
        "<|user|>\nHi<|end|>\n"
        "<|assistant|>\nHello.<|end|>\n"
        "<|user|>\nName a colour.<|end|>\n"
        "<|assistant|>\n"
    ),
    "alpaca": (
        "Be brief.\n\n"
        "### Instruction:\nHi\n\n"
        "### Response:\nHello.\n\n"
        "### Instruction:\nName a colour.\n\n"
        "### Response:\n"
    ),
}

#: The string that ends an assistant turn in each format, which must be among its stops.
TURN_END = {"chatml": "<|im_end|>", "llama3": "<|eot_id|>", "gemma": "<end_of_turn>",
            "mistral": "</s>", "phi3": "<|end|>", "alpaca": "### Instruction:"}


def test_the_issue_names_every_family() -> None:
    assert set(CHAT_FORMATS) == {"chatml", "llama3", "gemma", "mistral", "phi3", "alpaca"}
    assert set(EXPECTED) == set(CHAT_FORMATS)


@pytest.mark.parametrize("format_id", sorted(EXPECTED))
def test_a_two_turn_conversation_renders_in_the_family_layout(format_id: str) -> None:
    chat = format_template(format_id, "<B>", "<E>")
    assert chat.render(CONVERSATION) == EXPECTED[format_id]


@pytest.mark.parametrize("format_id", sorted(EXPECTED))
def test_the_generation_prompt_is_what_ends_an_open_conversation(format_id: str) -> None:
    chat = format_template(format_id, "<B>", "<E>")
    with_prompt = chat.render(CONVERSATION, add_generation_prompt=True)
    without = chat.render(CONVERSATION, add_generation_prompt=False)
    assert with_prompt.startswith(without)
    if format_id == "mistral":
        assert with_prompt == without  # [/INST] itself hands the turn to the model
    else:
        assert len(with_prompt) > len(without)


@pytest.mark.parametrize("format_id", sorted(EXPECTED))
def test_each_format_stops_where_the_assistant_turn_ends(format_id: str) -> None:
    """A model that writes on past its answer writes the format's own next turn: built here by
    rendering the conversation one answer and one user turn longer. The format's stops cut it
    back to the answer."""
    from playground.engine.worker import StopScanner

    chat = format_template(format_id, "<s>", "</s>")
    assert TURN_END[format_id] in chat.stop
    assert chat.stop == chat_format(format_id).stop
    prompt = chat.render(CONVERSATION)
    longer = chat.render((*CONVERSATION, ChatMessage("assistant", "Red."),
                          ChatMessage("user", "Another?")))
    assert longer.startswith(prompt)
    scanner = StopScanner(chat.stop)
    shown = ""
    for ch in longer[len(prompt):]:  # as the worker feeds generated pieces, until a stop
        shown += scanner.feed(ch)
        if scanner.stopped:
            break
    assert scanner.stopped
    shown += scanner.flush()
    assert shown.strip() == "Red."


def test_bos_is_dropped_when_the_tokenizer_adds_it() -> None:
    chat = format_template("llama3", "<B>", "<E>", strip_bos=True)
    assert chat.render(CONVERSATION) == EXPECTED["llama3"].removeprefix("<B>")


def test_an_unknown_format_is_refused_with_the_known_names() -> None:
    with pytest.raises(TemplateError, match=r"unknown chat format 'vicuna'.*chatml.*alpaca"):
        chat_format("vicuna")


def test_load_options_refuse_an_unknown_format_before_any_load() -> None:
    from playground.engine.options import LoadOptions

    assert LoadOptions(chat_format="gemma").chat_format == "gemma"
    with pytest.raises(PlaygroundError, match="unknown chat format"):
        LoadOptions(chat_format="nope")


def test_a_chosen_format_wins_over_the_models_own() -> None:
    own = "{% for m in messages %}[{{ m['role'] }}]{{ m['content'] }}{% endfor %}"
    chosen = model_chat(own, "chatml", "<B>", "<E>")
    assert chosen.format == "chatml" and chosen.error is None
    assert chosen.source == CHAT_FORMATS["chatml"].template
    assert chosen.template is not None and "<|im_start|>user\nHi" in chosen.template.render(
        CONVERSATION)
    mine = model_chat(own, None, "<B>", "<E>")
    assert mine.format == OWN_FORMAT and mine.source == own and mine.template is not None
    assert mine.template.stop == ()
    assert mine.template.render(CONVERSATION).startswith("[system]Be brief.[user]Hi")


def test_no_template_and_no_format_refuses_chat_with_the_setting_that_fixes_it() -> None:
    none = model_chat(None, None, "<B>", "<E>")
    assert none.template is None and none.format == NO_FORMAT and none.error
    message = no_template_message(none.error)
    assert "Chat format" in message and "Models" in message and "--chat-format" in message
    assert "chatml" in message


def test_the_model_list_calls_a_base_model_raw_completion() -> None:
    assert chat_mode_label(False, None) == RAW_COMPLETION == "raw completion"
    assert chat_mode_label(True, None) is None
    assert chat_mode_label(False, "gemma") == "chat format: Gemma"
    assert chat_mode_label(True, "phi3") == "chat format: Phi-3"


def test_a_run_made_before_formats_were_recorded_reads_not_recorded() -> None:
    from playground.provenance import NOT_RECORDED, difference_lines, differences

    assert ("chat format", NOT_RECORDED, "chatml") in differences({}, {"chat_format": "chatml"})
    assert difference_lines({"chat_format": OWN_FORMAT}, {"chat_format": "gemma"}) == [
        "chat format: model's own then, gemma now"]


@pytest.mark.parametrize(("recorded", "loaded"), [
    ({"chat_format": "gemma"}, "gemma"),
    ({"chat_format": OWN_FORMAT}, None),
    ({"chat_format": NO_FORMAT}, None),
    ({}, None),  # a run from before formats were recorded
])
def test_a_replay_loads_the_model_with_the_recorded_format(
        recorded: dict[str, str], loaded: str | None) -> None:
    from playground.runs.replay import load_options
    from playground.storage.runs import RunRow

    run = RunRow(id=1, comparison_id=None, variant_id=None, input_id=None, sample=0, seed=1,
                 run_key="k", status="ok", error=None, params={}, rendered_prompt="x",
                 output="y", finish_reason="stop", prompt_tokens=1, completion_tokens=1,
                 ttft_s=None, tokens_per_second=None, total_s=None, model={}, created_at="",
                 record=recorded)
    assert load_options(run).chat_format == loaded
