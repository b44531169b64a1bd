"""The prompt as the model will read it, shown while a template is edited.

Rendering always happens; counting tokens needs the loaded local model and is skipped rather
than waited for while the model is loading or busy generating, so a preview never stalls behind
a run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from playground.engine.backends import Backend, LocalBackend
from playground.errors import PlaygroundError
from playground.prompts.templates import (
    PromptTemplate,
    parse_template,
    render_template,
    to_request,
)
from playground.sampling import SamplingParams


class EngineLock(Protocol):
    """The lock a generation holds on its model (``threading.Lock`` fits)."""

    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...

    def release(self) -> None: ...


@dataclass(frozen=True)
class PromptPreview:
    """The rendered prompt and, when it could be counted, its size in the model's tokens;
    ``error`` when the template does not parse or render (``template`` is still set when it
    parses, so the variables form can follow an edit), ``note`` when tokens were not counted."""

    template: PromptTemplate | None = None
    text: str = ""
    warnings: tuple[str, ...] = ()
    error: str | None = None
    tokens: int | None = None
    n_ctx: int | None = None
    fit_warning: str | None = None
    note: str | None = None


def preview_prompt(
    source: str,
    template_id: str,
    values: Mapping[str, Any],
    library_sources: Mapping[str, str],
    params: SamplingParams,
    backend: Backend | None,
    special_tokens: Sequence[str],
    engine_lock: EngineLock,
) -> PromptPreview:
    """Render an edited template and, when the model is loaded and free, count its tokens
    through the model's own chat template. Never waits for a generation to end."""
    try:
        template = parse_template(source, template_id)
    except PlaygroundError as exc:
        return PromptPreview(error=str(exc))
    try:
        rendered = render_template(template, values, library=library_sources,
                                   special_tokens=special_tokens)
    except PlaygroundError as exc:
        return PromptPreview(template, error=str(exc))
    outcome = PromptPreview(template, rendered.text, rendered.warnings)
    if not isinstance(backend, LocalBackend):
        note = ("token count: not available for a remote model" if backend is not None
                else "token count: load the model to count the prompt's tokens")
        return replace(outcome, note=note)
    if backend.state != "ready":
        note = ("token count: once the model has loaded" if backend.state == "loading"
                else "token count: load the model to count the prompt's tokens")
        return replace(outcome, note=note)
    if not engine_lock.acquire(blocking=False):
        return replace(outcome, note="token count: once the model is free again")
    try:
        preview = backend.preview(to_request(rendered, params))
    except PlaygroundError as exc:
        return replace(outcome, note=f"token count unavailable: {exc}")
    finally:
        engine_lock.release()
    return replace(outcome, text=preview.prompt, tokens=preview.tokens, n_ctx=preview.n_ctx,
                   fit_warning=preview.warning)
