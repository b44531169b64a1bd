"""Fixtures that run the real bundled model in a real worker process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.engine.backends import Backend, LocalBackend
from playground.engine.options import LoadOptions
from playground.events import Event, Failed, Finished, GenerationRequest, Result, Token


@pytest.fixture(scope="session")
def backend(default_model_path: Path) -> Iterator[LocalBackend]:
    """One loaded model shared by the generation tests (loading is the slow part)."""
    with LocalBackend(default_model_path, LoadOptions(n_ctx=2048)) as b:
        yield b


def collect(backend: Backend, request: GenerationRequest) -> tuple[list[Event], Result]:
    """Run a request to the end; return every event and the final result."""
    events = list(backend.generate(request))
    last = events[-1]
    assert isinstance(last, (Finished, Failed))
    assert last.result is not None
    return events, last.result


def streamed_text(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, Token))
