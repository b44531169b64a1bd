"""The Get models panel's background work: searching Hugging Face, listing a repository's files
and reading their headers, downloading, and removing what the app downloaded. Each is a
generator the task runner runs off the GUI thread; the hub core (``huggingface_hub`` takes a
third of a second to import) is imported only when one of them first runs."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from playground.errors import HubAccessError, PlaygroundError

if TYPE_CHECKING:
    from playground.engine.download import Destination, DownloadRecord
    from playground.engine.hub import HubFile

#: How long the download task waits for news before yielding, so a stop reaches it promptly.
WAIT_S = 0.25


@dataclass(frozen=True)
class RepoRow:
    """A repository as the results list shows it: a recommended model or a search hit."""

    repo_id: str
    title: str
    detail: str
    gated: bool = False


def find_repos(query: str) -> Iterator[list[RepoRow]]:
    """The recommended list for an empty query, else the hub's search, most downloaded first."""
    from playground.engine import hub

    if not query.strip():
        yield [RepoRow(m.repo_id, m.name, f"{m.repo_id} · {m.license} · trained context "
                                          f"{m.context_length:,}" + (f" · {m.notes}" if m.notes
                                                                      else ""))
               for m in hub.load_recommended()]
        return
    found = hub.search_models(query.strip())
    yield [RepoRow(r.repo_id, r.repo_id,
                   f"{r.downloads:,} downloads" + (" · gated: needs HF_TOKEN" if r.gated else ""),
                   r.gated)
           for r in found]


def read_files(repo_id: str) -> Iterator[tuple[str, Any]]:
    """``("files", [HubFile])``, then ``("header", (file, info or None, error or None))`` per
    file as its header arrives over range requests. A gated repository stops at the first
    header with the hub's refusal: every file would answer the same."""
    from playground.engine import hub

    files = hub.list_gguf_files(repo_id)
    yield "files", files
    for file in files:
        if file.shard and file.shard[0] != 1:
            continue
        try:
            yield "header", (file, hub.read_remote_header(file), None)
        except HubAccessError:
            raise
        except PlaygroundError as exc:
            yield "header", (file, None, str(exc))


def fetch(file: HubFile, destination: Destination,
          cancel: threading.Event) -> Iterator[tuple[str, Any]]:
    """``("progress", Progress)`` while the core downloads and checks, then ``("done",
    Downloaded)``. The core reports through a callback on the thread that runs it; that thread
    is this task's own helper, and its reports reach the window through this generator."""
    from playground.engine import download

    news: queue.Queue[object] = queue.Queue()
    outcome: dict[str, Any] = {}
    finished = object()

    def run() -> None:
        try:
            outcome["done"] = download.download(file, destination=destination,
                                                on_progress=news.put, cancel=cancel)
        except BaseException as exc:  # handed to the task, which reports it in words
            outcome["error"] = exc
        finally:
            news.put(finished)

    helper = threading.Thread(target=run, name="playground-download", daemon=True)
    helper.start()
    try:
        while True:
            try:
                item = news.get(timeout=WAIT_S)
            except queue.Empty:
                yield "waiting", None
                continue
            if item is finished:
                break
            yield "progress", item
    finally:
        if helper.is_alive():  # the window closed or the task was stopped: stop the download
            cancel.set()
        helper.join()
    if "error" in outcome:
        raise outcome["error"]
    yield "done", outcome["done"]


def downloaded() -> Iterator[list[DownloadRecord]]:
    """What this app downloaded, from its manifest, files gone from the disk left out."""
    from pathlib import Path

    from playground.engine import download

    yield [r for r in download.downloaded_files() if Path(r.path).exists()]


def remove(name: str) -> Iterator[tuple[DownloadRecord, int]]:
    from playground.engine import download

    yield download.remove_downloaded(name)
