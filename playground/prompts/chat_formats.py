"""Built-in chat formats for models whose file carries no usable chat template.

Base models and some community conversions ship without ``tokenizer.chat_template``; a person
who knows the family a model was tuned in can still chat with it by naming its format. Each
format is a Jinja chat template of the same shape as a GGUF one (``messages``,
``add_generation_prompt``, ``bos_token``, ``eos_token``), rendered in the same sandbox, with the
strings that end an assistant turn: a model whose vocabulary does not mark them as
end-of-generation would otherwise write the next turn itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from playground.errors import TemplateError

if TYPE_CHECKING:  # compiling templates needs Jinja; naming the formats (the CLI's help) does not
    from playground.prompts.chat import ChatTemplate

#: What a record and a setting say when the model's own template formats the chat.
OWN_FORMAT = "model's own"
#: What the model list says of a model that has no chat template and no format chosen.
RAW_COMPLETION = "raw completion"


@dataclass(frozen=True)
class ChatFormat:
    """One built-in format: its id (settings, records, ``--chat-format``), its name in the
    window, the template and the strings that end an assistant turn."""

    id: str
    name: str
    template: str
    stop: tuple[str, ...]
    description: str


_CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_LLAMA3 = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)

# Gemma has no system role: a system message is put before the first user turn's text.
_GEMMA = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='') %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}"
    "{% set ns.system = ns.system + message['content'] | trim + '\n\n' %}"
    "{% else %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{% set content = message['content'] | trim %}"
    "{% if role == 'user' and ns.system %}"
    "{% set content = ns.system + content %}{% set ns.system = '' %}"
    "{% endif %}"
    "{{ '<start_of_turn>' + role + '\n' + content + '<end_of_turn>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)

# Mistral's instruct format: [INST] around user turns, the answer then </s>; a system message
# goes before the first user turn's text, as Mistral's own templates do.
_MISTRAL = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='') %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}"
    "{% set ns.system = ns.system + message['content'] | trim + '\n\n' %}"
    "{% elif message['role'] == 'user' %}"
    "{{ '[INST] ' + ns.system + message['content'] | trim + ' [/INST]' }}"
    "{% set ns.system = '' %}"
    "{% else %}"
    "{{ ' ' + message['content'] | trim + eos_token }}"
    "{% endif %}"
    "{% endfor %}"
)

_PHI3 = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)

_ALPACA = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] | trim + '\n\n' }}"
    "{% elif message['role'] == 'user' %}"
    "{{ '### Instruction:\n' + message['content'] | trim + '\n\n' }}"
    "{% else %}{{ '### Response:\n' + message['content'] | trim + '\n\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '### Response:\n' }}{% endif %}"
)

#: The built-in formats, in the order a person is offered them.
CHAT_FORMATS: dict[str, ChatFormat] = {
    f.id: f
    for f in (
        ChatFormat("chatml", "ChatML", _CHATML, ("<|im_end|>", "<|im_start|>"),
                   "<|im_start|>role … <|im_end|> (Qwen, SmolLM, many fine-tunes)"),
        ChatFormat("llama3", "Llama 3", _LLAMA3, ("<|eot_id|>", "<|start_header_id|>"),
                   "<|start_header_id|>role<|end_header_id|> … <|eot_id|> (Llama 3.x)"),
        ChatFormat("gemma", "Gemma", _GEMMA, ("<end_of_turn>", "<start_of_turn>"),
                   "<start_of_turn>user / model … <end_of_turn>; no system role (Gemma)"),
        ChatFormat("mistral", "Mistral [INST]", _MISTRAL, ("</s>", "[INST]"),
                   "[INST] … [/INST] answer</s> (Mistral, Mixtral instruct)"),
        ChatFormat("phi3", "Phi-3", _PHI3, ("<|end|>", "<|user|>", "<|endoftext|>"),
                   "<|user|> … <|end|> <|assistant|> (Phi-3, Phi-4-mini)"),
        ChatFormat("alpaca", "Alpaca (plain)", _ALPACA, ("### Instruction:", "### Response:"),
                   "### Instruction: / ### Response: in plain text, for base models"),
    )
}


def chat_format(format_id: str) -> ChatFormat:
    """The built-in format with this id; a clear refusal that lists the known ones."""
    try:
        return CHAT_FORMATS[format_id]
    except KeyError:
        raise TemplateError(
            f"unknown chat format {format_id!r}; choose one of: {', '.join(CHAT_FORMATS)}"
        ) from None


def no_template_message(reason: str) -> str:
    """Why chat is refused for a model, and the setting that fixes it, in both faces' words."""
    return (
        f"this model has no usable chat template ({reason}); send a raw prompt, or choose a "
        "chat format for it: Chat format in the Models tab, or --chat-format NAME "
        f"({', '.join(CHAT_FORMATS)}) on the command line"
    )


def chat_mode_label(has_own_template: bool, format_id: str | None) -> str | None:
    """How the model list describes how a model chats: "raw completion" for a base model with
    no template and no format chosen, the chosen format's name, or None for the model's own."""
    if format_id:
        found = CHAT_FORMATS.get(format_id)
        return f"chat format: {found.name}" if found is not None else None
    return None if has_own_template else RAW_COMPLETION


def format_template(format_id: str, bos_token: str, eos_token: str,
                    strip_bos: bool = False) -> ChatTemplate:
    """A built-in format compiled and probed as a model's own template is, with its stops."""
    from playground.prompts.chat import ChatTemplate

    found = chat_format(format_id)
    chat = ChatTemplate.load(found.template, bos_token, eos_token, strip_bos)
    return replace(chat, stop=found.stop)


#: What a record says when neither the model nor a chosen format can format a chat.
NO_FORMAT = "none (raw completion)"


@dataclass(frozen=True)
class ModelChat:
    """How one loaded model formats chats: the template (None: chat is refused, ``error``
    says why), the format as a record names it, and the template source it came from."""

    template: ChatTemplate | None
    error: str | None
    format: str
    source: str | None


def model_chat(own_source: str | None, format_id: str | None, bos_token: str, eos_token: str,
               strip_bos: bool = False) -> ModelChat:
    """The chosen built-in format, else the model's own template, each compiled and probed; a
    broken or missing template leaves chat refused with the reason, raw completion unaffected."""
    if format_id:
        found = chat_format(format_id)
        return ModelChat(format_template(format_id, bos_token, eos_token, strip_bos), None,
                         found.id, found.template)
    if not own_source:
        return ModelChat(None, "its file carries none: a base model, or a conversion that "
                         "left it out", NO_FORMAT, None)
    from playground.prompts.chat import ChatTemplate

    try:
        own = ChatTemplate.load(own_source, bos_token, eos_token, strip_bos)
    except TemplateError as exc:
        return ModelChat(None, str(exc), NO_FORMAT, own_source)
    return ModelChat(own, None, OWN_FORMAT, own_source)
