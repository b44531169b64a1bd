"""A model's own chat template, rendered only in the sandbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from playground.errors import TemplateError
from playground.events import ChatMessage
from playground.prompts.sandbox import chat_environment, compile_template, render

_PROBE: tuple[ChatMessage, ...] = (
    ChatMessage("system", "You are a helpful assistant."),
    ChatMessage("user", "Hello"),
    ChatMessage("assistant", "Hi there."),
    ChatMessage("user", "How are you?"),
)


@dataclass
class ChatTemplate:
    """A compiled chat template with the special-token strings it expects."""

    template: jinja2.Template
    bos_token: str
    eos_token: str
    #: True when tokenization adds BOS itself, so a BOS the template writes must go.
    strip_bos: bool = False
    #: Strings that end an assistant turn where the vocabulary may not (a built-in format's).
    stop: tuple[str, ...] = ()

    @classmethod
    def load(
        cls, source: str | None, bos_token: str, eos_token: str, strip_bos: bool = False
    ) -> ChatTemplate:
        """Compile and probe-render the template so a broken one is found at load, not at use."""
        if not source:
            raise TemplateError("the model has no chat template")
        template = compile_template(chat_environment(), source, "chat template")
        chat = cls(template, bos_token, eos_token, strip_bos)
        try:
            text = chat.render(_PROBE)
        except TemplateError:
            # Some templates (Gemma's) refuse a system role; chats without one still work.
            text = chat.render(_PROBE[1:])
        if "Hello" not in text or "How are you?" not in text:
            raise TemplateError("chat template drops the messages it is given")
        return chat

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
        context = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "add_generation_prompt": add_generation_prompt,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }
        text = render(self.template, context, "chat template")
        if self.strip_bos and self.bos_token and text.startswith(self.bos_token):
            text = text[len(self.bos_token):]
        return text
