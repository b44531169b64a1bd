"""What the terminal shows while a model works: tokens as they stream, the status line after
them, a report cut to what fits a terminal, and Ctrl-C that stops the work before it quits."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from playground.engine.backends import Backend
from playground.events import Failed, Finished, GenerationRequest, Started, Token, count_text
from playground.terminal import json_text
from playground.wording import plural


@contextlib.contextmanager
def ctrl_c_calls(cancel: Callable[[], None]) -> Iterator[None]:
    """First Ctrl-C cancels the work (its partial result is still printed); a second one quits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stream(
    backend: Backend, request: GenerationRequest, out: TextIO, err: TextIO, as_json: bool
) -> int:
    """Run one request, printing tokens as they come (or one JSON document at the end)."""
    with ctrl_c_calls(backend.cancel):
        for event in backend.generate(request):
            if isinstance(event, Token) and not as_json:
                out.write(event.text)
                out.flush()
            elif isinstance(event, Started) and event.max_tokens_clipped:
                err.write(f"note: max tokens reduced to {event.max_tokens} to fit the context\n")
            elif isinstance(event, Finished):
                result = event.result
                if as_json:
                    out.write(json_text(result.to_dict()))
                    out.write("\n")
                else:
                    out.write("\n")
                    err.write(status_line(result.to_dict()) + "\n")
                return 130 if result.finish_reason == "cancelled" else 0
            elif isinstance(event, Failed):
                if as_json and event.result is not None:
                    out.write(json_text(event.result.to_dict()))
                    out.write("\n")
                err.write(f"playground: error: {event.error}\n")
                return 1
    return 1


def status_line(result: dict[str, Any]) -> str:
    tps = result["tokens_per_second"]
    ttft = result["ttft_s"]
    return (
        f"[{result['finish_reason']}] {count_text(result['prompt_tokens'])} prompt + "
        f"{plural(result['completion_tokens'], 'generated token')}"
        + (f", {tps:.1f} tok/s" if tps else "")
        + (f", first token {ttft * 1000:.0f} ms" if ttft is not None else "")
        + f", seed {result['params']['seed']}"
    )


def summary_md(markdown: str) -> str:
    """The report without the per-output section: what fits a terminal."""
    head, _, _ = markdown.partition("\n## Outputs")
    return head.rstrip() + "\n"
