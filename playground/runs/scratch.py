"""Scratch mode: a prompt typed straight into the Playground, or a chat, with no template.

Both run as Playground runs (:mod:`playground.runs.single_run`) of a fixed template that says
what was typed exactly: a prompt is the value of ``{{ prompt }}``, a chat is its message list
(every turn through ``role(name, text)``, so an answer goes back to the model as it came). They
are therefore saved, scored, replayed and listed in History like any run, and read back from a
stored run by :func:`stored_scratch`. What was typed can become a library template of its own:
then the text *is* Jinja, and its ``{{ variables }}`` become the template's variables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from playground.comparison import ComparisonError, Variant
from playground.errors import PlaygroundError
from playground.events import ROLES, ChatMessage
from playground.prompts.collection import (
    BUILTIN,
    DEFAULT_LIBRARY,
    Collection,
    is_builtin_name,
    put_entry,
    save_library,
)
from playground.prompts.formats import LibraryError
from playground.prompts.library import TEMPLATE_ID, Library
from playground.prompts.templates import PromptTemplate, discover_variables, parse_template
from playground.runs.opening import StoredRun
from playground.runs.single_run import SingleRun
from playground.sampling import SamplingParams

#: The template id and source of a scratch prompt: the typed text, rendered as it is.
PROMPT_ID = "scratch"
PROMPT_SOURCE = "{{ prompt }}"
#: The template id and source of a scratch chat turn: the messages so far, each kept exact.
CHAT_ID = "scratch-chat"
CHAT_SOURCE = "{% for turn in messages %}{{ role(turn.role, turn.content) }}{% endfor %}"


@dataclass(frozen=True)
class ScratchPrompt:
    """A typed prompt; ``chat`` sends it through the model's chat template as one user turn,
    otherwise the model continues the raw text."""

    text: str
    chat: bool = True


@dataclass(frozen=True)
class ScratchChat:
    """A system prompt and the user and assistant turns after it."""

    system: str = ""
    turns: tuple[ChatMessage, ...] = ()

    def messages(self) -> tuple[ChatMessage, ...]:
        """What the model is sent: the system turn (when there is one) and every turn."""
        system = (ChatMessage("system", self.system),) if self.system.strip() else ()
        return (*system, *self.turns)

    def sent(self, text: str) -> ScratchChat:
        """The chat with a new message of the person's at the end."""
        if not text.strip():
            raise ComparisonError("type a message first")
        return replace(self, turns=(*self.turns, ChatMessage("user", text)))

    def answered(self, text: str) -> ScratchChat:
        """The chat with the model's answer at the end, as it was generated."""
        return replace(self, turns=(*self.turns, ChatMessage("assistant", text)))

    def edited(self, index: int, text: str) -> ScratchChat:
        """The chat with turn ``index`` (counted from 0, the system prompt apart) changed."""
        self._check_index(index)
        turns = list(self.turns)
        turns[index] = ChatMessage(turns[index].role, text)
        return replace(self, turns=tuple(turns))

    def rerun_from(self, index: int) -> ScratchChat:
        """What to generate from when turn ``index`` is run again: the turns after it are
        dropped; a message of the person's is kept and answered anew, an answer is dropped
        too and generated again."""
        self._check_index(index)
        keep = index + 1 if self.turns[index].role == "user" else index
        return replace(self, turns=self.turns[:keep])

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self.turns):
            raise ComparisonError(f"the chat has no turn {index + 1}")


Scratch = ScratchPrompt | ScratchChat


# -- runs -------------------------------------------------------------------------------------


def prompt_run(
    prompt: ScratchPrompt,
    *,
    model: str,
    params: SamplingParams,
    references: Sequence[str] = (),
    alternatives: int | None = None,
) -> SingleRun:
    """The Playground run of a typed prompt."""
    if not prompt.text.strip():
        raise ComparisonError("type a prompt first")
    return SingleRun(
        template_id=PROMPT_ID,
        template_source=PROMPT_SOURCE,
        model=model,
        params=params,
        values={"prompt": prompt.text},
        references=tuple(references),
        chat=prompt.chat,
        alternatives=alternatives,
    )


def chat_run(
    chat: ScratchChat,
    *,
    model: str,
    params: SamplingParams,
    alternatives: int | None = None,
) -> SingleRun:
    """The Playground run that answers the chat's last message."""
    if not chat.turns or chat.turns[-1].role != "user":
        raise ComparisonError("type a message first")
    if not chat.turns[-1].content.strip():
        raise ComparisonError("the last message is empty; type something to send")
    messages = [{"role": m.role, "content": m.content} for m in chat.messages()]
    return SingleRun(
        template_id=CHAT_ID,
        template_source=CHAT_SOURCE,
        model=model,
        params=params,
        values={"messages": messages},
        chat=True,
        alternatives=alternatives,
    )


def scratch_of(setup: SingleRun | Variant, answer: str | None = None) -> Scratch | None:
    """The scratch prompt or chat a run (or its spec's variant) was made from (a chat with
    ``answer`` as its last turn when there is one), or None when the run is a template's."""
    if setup.template_id == PROMPT_ID and setup.template_source == PROMPT_SOURCE:
        text = setup.values.get("prompt")
        return ScratchPrompt(text, setup.chat) if isinstance(text, str) else None
    if setup.template_id != CHAT_ID or setup.template_source != CHAT_SOURCE:
        return None
    messages = _messages(setup.values.get("messages"))
    if messages is None:
        return None
    system = ""
    if messages and messages[0].role == "system":
        system, messages = messages[0].content, messages[1:]
    chat = ScratchChat(system, tuple(messages))
    return chat.answered(answer) if answer else chat


def stored_scratch(stored: StoredRun) -> Scratch | None:
    """A run opened from History as the scratch prompt or chat to continue, or None."""
    return scratch_of(stored.setup, stored.run.output)


def _messages(raw: Any) -> list[ChatMessage] | None:
    if not isinstance(raw, list):
        return None
    messages = []
    for item in raw:
        if not isinstance(item, Mapping):
            return None
        role, content = item.get("role"), item.get("content")
        if role not in ROLES or not isinstance(content, str):
            return None
        messages.append(ChatMessage(role, content))
    return messages


# -- templates --------------------------------------------------------------------------------


def template_of(scratch: Scratch, template_id: str) -> PromptTemplate:
    """What was typed as a library template: the text as its Jinja body, its ``{{ names }}``
    as text variables. A chat becomes a chat template of its system prompt and turns; an
    answer at the end is left out, since running the template asks the model for it again."""
    template_id = template_id.strip()
    if not template_id:
        raise LibraryError("the template needs a name")
    if not TEMPLATE_ID.match(template_id):
        raise LibraryError(
            f"{template_id!r} cannot name a template: use letters, digits, '_', '-' and '.' "
            "(no spaces), starting with a letter, digit or '_'")
    if isinstance(scratch, ScratchPrompt):
        if not scratch.text.strip():
            raise LibraryError("type a prompt first")
        return _template(template_id, "text", scratch.text)
    turns = list(scratch.messages())
    while turns and turns[-1].role == "assistant":
        turns.pop()
    if not any(turn.role == "user" for turn in turns):
        raise LibraryError("the chat has no message to save yet")
    body = "".join(f'{{{{ role("{turn.role}") }}}}\n{turn.content}\n' for turn in turns)
    return _template(template_id, "chat", body)


def _template(template_id: str, fmt: str, body: str) -> PromptTemplate:
    # Read on its own first, so that an error names the line as the person typed it.
    try:
        names = sorted(discover_variables(body, template_id))
    except PlaygroundError as exc:
        raise LibraryError(str(exc)) from exc
    lines = ["{#---", f"name: {json.dumps(template_id)}", 'description: ""', f"format: {fmt}"]
    if names:
        lines.append("variables:")
        lines += [f"  {json.dumps(name)}: {{type: text}}" for name in names]
    source = "\n".join([*lines, "---#}", body])
    try:
        return parse_template(source, template_id)
    except PlaygroundError as exc:
        raise LibraryError(str(exc)) from exc


def library_choices(collection: Collection) -> list[str]:
    """Where a saved template can go: the user's libraries, or a first one to create."""
    names = [lib.name for lib in collection.libraries if lib.name != BUILTIN]
    return names or [DEFAULT_LIBRARY]


def library_with(collection: Collection, library_name: str,
                 template: PromptTemplate) -> Library:
    """The user library ``library_name`` (a new one when there is none of that name) with
    ``template`` added; refused for the built-in library or a name already taken."""
    library_name = library_name.strip()
    if not library_name:
        raise LibraryError("choose a library to save the template in")
    if is_builtin_name(library_name):
        raise LibraryError(f"the {BUILTIN} library is read-only; choose one of your own")
    library = next((lib for lib in collection.libraries if lib.name == library_name),
                   None) or Library(library_name, "")
    return put_entry(library, "template", template)


def save_as_template(
    collection: Collection, library_name: str, template: PromptTemplate,
    folder: Path | None = None,
) -> Path:
    """Add ``template`` to the user library ``library_name`` and save it the way every
    library edit is saved; the file written."""
    return save_library(library_with(collection, library_name, template), folder)
