"""Chat templates from model files: exact rendering, probing at load, BOS handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.engine.gguf import read_gguf
from playground.errors import TemplateError
from playground.events import ChatMessage
from playground.prompts.chat import ChatTemplate

SMOLLM2_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SMOLLM2_BOS = "<|im_start|>"
SMOLLM2_EOS = "<|im_end|>"
SMOLLM2_DEFAULT_SYSTEM = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face"
    "<|im_end|>\n"
)

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    "+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)
LLAMA3_BOS = "<|begin_of_text|>"
LLAMA3_EOS = "<|eot_id|>"

GEMMA_TEMPLATE = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}"
    "{% else %}{% set role = message['role'] %}{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)


def smollm2(strip_bos: bool = False) -> ChatTemplate:
    return ChatTemplate.load(SMOLLM2_TEMPLATE, SMOLLM2_BOS, SMOLLM2_EOS, strip_bos)


def llama3(strip_bos: bool = False) -> ChatTemplate:
    return ChatTemplate.load(LLAMA3_TEMPLATE, LLAMA3_BOS, LLAMA3_EOS, strip_bos)


# -- ChatML (SmolLM2) ---------------------------------------------------------------------------


def test_bundled_model_ships_this_template(default_model_path: Path) -> None:
    """The literal used below is the one the default model really carries."""
    assert read_gguf(default_model_path).chat_template == SMOLLM2_TEMPLATE


def test_chatml_system_and_user() -> None:
    """The prompt the model sees must match its training format byte for byte."""
    text = smollm2().render(
        [ChatMessage("system", "Be brief."), ChatMessage("user", "What is 2+2?")]
    )
    assert text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_chatml_adds_default_system_prompt() -> None:
    """Without a system message the template supplies SmolLM's own."""
    text = smollm2().render([ChatMessage("user", "Hi")])
    assert (
        text == SMOLLM2_DEFAULT_SYSTEM + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_chatml_multi_turn_without_generation_prompt() -> None:
    """Earlier turns stay in order and no assistant header is opened when not asked."""
    text = smollm2().render(
        [
            ChatMessage("user", "Hi"),
            ChatMessage("assistant", "Hello!"),
            ChatMessage("user", "Bye"),
        ],
        add_generation_prompt=False,
    )
    assert text == (
        SMOLLM2_DEFAULT_SYSTEM
        + "<|im_start|>user\nHi<|im_end|>\n"
        + "<|im_start|>assistant\nHello!<|im_end|>\n"
        + "<|im_start|>user\nBye<|im_end|>\n"
    )


def test_message_content_is_not_escaped_or_interpreted() -> None:
    """User text with markup or template syntax reaches the model verbatim."""
    content = "<b>&amp;</b> {{ 7 * 7 }} {% if %}"
    text = smollm2().render([ChatMessage("system", "s"), ChatMessage("user", content)])
    assert f"<|im_start|>user\n{content}<|im_end|>\n" in text


# -- refusals at load ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", [None, ""])
def test_missing_template_refused(source: str | None) -> None:
    """Chat mode cannot be offered for a model without a template."""
    with pytest.raises(TemplateError, match=r"^the model has no chat template$"):
        ChatTemplate.load(source, "<s>", "</s>")


@pytest.mark.parametrize(
    "source",
    [
        "<|im_start|>assistant\n",
        "{% for m in messages %}{{ m.role }}\n{% endfor %}",
        "{{ messages[-1]['content'] }}",
        "{{ messages[0]['content'] }}",
    ],
)
def test_template_that_drops_messages_refused(source: str) -> None:
    """A template that loses the conversation would make every chat answer nonsense."""
    with pytest.raises(TemplateError, match=r"^chat template drops the messages it is given$"):
        ChatTemplate.load(source, "<s>", "</s>")


def test_broken_template_refused_at_load() -> None:
    """Syntax errors surface when the model loads, not on the first chat."""
    with pytest.raises(TemplateError, match=r"^chat template: syntax error on line 2"):
        ChatTemplate.load("{% for m in messages %}\n{{ m.content }", "<s>", "</s>")


def test_hostile_template_refused_at_load() -> None:
    """A template that probes for an escape is refused before any user prompt is rendered."""
    source = "{% for m in messages %}{{ m.content }}{% endfor %}{{ cycler.__init__.__globals__ }}"
    with pytest.raises(TemplateError, match=r"not allowed in a template"):
        ChatTemplate.load(source, "<s>", "</s>")


def test_template_without_system_role_loads() -> None:
    """Gemma-style templates refuse a system message but handle every other conversation."""
    chat = ChatTemplate.load(GEMMA_TEMPLATE, "<bos>", "<eos>")
    text = chat.render([ChatMessage("user", "Hi")])
    assert text == "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"


def test_raise_exception_reaches_the_caller_at_render() -> None:
    """A conversation the template rejects fails with the template's own words."""
    source = (
        "{% for m in messages %}"
        "{% if not loop.first and m.role == messages[loop.index0 - 1].role %}"
        "{{ raise_exception('Conversation roles must alternate') }}{% endif %}"
        "{{ m.content }}{% endfor %}"
    )
    chat = ChatTemplate.load(source, "<s>", "</s>")
    expected = r"^chat template: line 1: Conversation roles must alternate$"
    with pytest.raises(TemplateError, match=expected):
        chat.render([ChatMessage("user", "a"), ChatMessage("user", "b")])


# -- BOS handling -------------------------------------------------------------------------------


def test_llama3_template_writes_bos() -> None:
    """Templates that emit ``bos_token`` get the model's real BOS text."""
    text = llama3().render([ChatMessage("system", "Be brief."), ChatMessage("user", " Hi ")])
    assert text == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_strip_bos_removes_leading_bos_when_asked() -> None:
    """When tokenization adds BOS itself, a second one from the template must go."""
    messages = [ChatMessage("user", "Hi")]
    kept = llama3(strip_bos=False).render(messages)
    stripped = llama3(strip_bos=True).render(messages)
    assert kept.startswith(LLAMA3_BOS)
    assert kept.count(LLAMA3_BOS) == 1
    assert stripped == kept[len(LLAMA3_BOS) :]
    assert not stripped.startswith(LLAMA3_BOS)


def test_strip_bos_leaves_text_without_leading_bos() -> None:
    """Only a BOS at the very start is removed; one inside the text stays."""
    source = "{% for m in messages %}{{ m.content }}{{ bos_token }}{% endfor %}"
    chat = ChatTemplate.load(source, "<s>", "</s>", strip_bos=True)
    text = chat.render([ChatMessage("user", "Hello"), ChatMessage("user", "How are you?")])
    assert text == "Hello<s>How are you?<s>"


def test_strip_bos_with_empty_bos_changes_nothing() -> None:
    """A model without BOS text must not lose its first characters."""
    chat = ChatTemplate.load(LLAMA3_TEMPLATE, "", LLAMA3_EOS, strip_bos=True)
    text = chat.render([ChatMessage("user", "Hi")])
    assert text.startswith("<|start_header_id|>user")


def test_eos_token_is_available_to_templates() -> None:
    """Some templates close assistant turns with ``eos_token``."""
    source = "{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}"
    chat = ChatTemplate.load(source, "<s>", "</s>")
    assert chat.render([ChatMessage("user", "Hello")]) == "Hello</s>"
