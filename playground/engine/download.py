"""Downloading a GGUF file from Hugging Face so that only a complete, checked file becomes a model.

``huggingface_hub.hf_hub_download`` does the transfer (plain HTTP with Range resume; Xet is
switched off in the child, see pyproject.toml). It has no cancel hook, so it runs in a child
process that a cancel stops at once; the bytes already received stay in the library's
``.incomplete`` file and the next attempt resumes from them, as it does after a dropped
connection. Nothing of a download is in a folder the model listing reads until it has passed
the SHA-256 check against the hub's LFS hash and the bounded GGUF header check: into the models
folder the file is moved only then, from a staging folder under the app's data folder. Every
file this app downloaded is written in a small manifest, and only those can be removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final, Literal

from playground import paths
from playground.engine import hub, models
from playground.engine.gguf import ModelInfo, read_gguf
from playground.engine.memory import format_bytes
from playground.errors import (
    DownloadCancelled,
    DownloadError,
    HubAccessError,
    HubError,
    HubNotFoundError,
    HubOfflineError,
    ModelFileError,
    PlaygroundError,
)
from playground.files import write_json

Destination = Literal["models", "hf-cache"]
FreeSpace = Callable[[Path], int]
ProgressCallback = Callable[["Progress"], None]

POLL_S: Final = 0.1
#: Attempts in a row that may end in a dropped connection without any new byte arriving.
RETRIES: Final = 3
_SPEED_SMOOTHING: Final = 0.3
_HASH_CHUNK: Final = 1 << 20
WRITE_CHUNK: Final = 1 << 20


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    #: bytes a second, smoothed; 0 until two samples are in
    speed: float = 0.0
    stage: Literal["downloading", "checking"] = "downloading"

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.speed <= 0:
            return None
        return max(0.0, self.total - self.done) / self.speed

    def describe(self) -> str:
        """The words a progress row shows: "42.3 MiB of 94.0 MiB, 12.1 MiB/s, 4 s left"."""
        if self.stage == "checking":
            return f"checking SHA-256: {self.fraction:.0%}"
        text = f"{format_bytes(self.done)} of {format_bytes(self.total)}"
        if self.speed > 0:
            text += f", {format_bytes(self.speed)}/s"
        eta = self.eta_s
        if eta is not None:
            text += f", {_duration(eta)} left"
        return text


def _duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


@dataclass(frozen=True)
class DownloadRecord:
    """A file this app downloaded: the manifest's entry, and what ``rm`` may remove."""

    name: str
    path: str
    repo_id: str
    filename: str
    sha256: str | None
    size: int
    destination: Destination
    downloaded_at: str


# -- folders and the manifest ----------------------------------------------------------------------


def staging_dir() -> Path:
    """Downloads in progress: outside every folder the model listing reads."""
    return paths.data_dir() / "downloads"


def manifest_path() -> Path:
    return paths.data_dir() / "downloaded-models.json"


def hf_cache_dir() -> Path:
    """The Hugging Face cache, as the library finds it: ``HF_HUB_CACHE``, else ``HF_HOME/hub``."""
    explicit = os.environ.get("HF_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def downloaded_files() -> list[DownloadRecord]:
    try:
        data: Any = json.loads(manifest_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    records = []
    for item in data.get("files", []) if isinstance(data, dict) else []:
        with contextlib.suppress(TypeError, KeyError):
            records.append(DownloadRecord(**item))
    return records


def _write_manifest(records: list[DownloadRecord]) -> None:
    write_json(manifest_path(), {"schema": 1, "files": [asdict(r) for r in records]}, indent=2)


def _record(record: DownloadRecord) -> None:
    others = [r for r in downloaded_files() if r.path != record.path]
    _write_manifest([*others, record])


def find_downloaded(name: str) -> DownloadRecord:
    """A downloaded file by its name, file name, ``REPO:FILE`` or path."""
    text = name.strip().lower().removesuffix(".gguf")
    records = downloaded_files()
    matches = [r for r in records if text in (
        r.name.lower(), f"{r.repo_id}:{r.filename}".lower().removesuffix(".gguf"),
        r.path.lower().removesuffix(".gguf"))]
    if len(matches) == 1:
        return matches[0]
    if matches:
        refs = ", ".join(f"{r.repo_id}:{r.filename}" for r in matches)
        raise DownloadError(f"{name!r} names several downloads: {refs}; give REPO:FILE")
    known = ", ".join(r.name for r in records) or "none"
    raise DownloadError(
        f"{name!r} is not a model this app downloaded (downloaded: {known}); files it did not "
        "download, such as other tools' models, are never removed by it"
    )


def remove_downloaded(name: str) -> tuple[DownloadRecord, int]:
    """Delete a file this app downloaded; the bytes freed (0 when it was already gone)."""
    record = find_downloaded(name)
    path = Path(record.path)
    freed = 0
    if record.destination == "hf-cache" and path.is_symlink():
        blob = path.resolve()
        if blob.is_file():
            freed = blob.stat().st_size
            blob.unlink()
        path.unlink()
    elif path.is_file():
        freed = path.stat().st_size
        path.unlink()
    _write_manifest([r for r in downloaded_files() if r.path != record.path])
    return record, freed


# -- the download ----------------------------------------------------------------------------------


def disk_free(path: Path) -> int:
    """Free bytes on the disk that holds ``path`` (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return shutil.disk_usage(probe).free


@dataclass(frozen=True)
class Downloaded:
    path: Path
    file: hub.HubFile
    info: ModelInfo
    #: False when the hub gave no LFS hash to check against
    sha256_checked: bool
    already_there: bool = False


def download(
    file: hub.HubFile,
    *,
    destination: Destination = "models",
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    free_space: FreeSpace = disk_free,
    poll_s: float = POLL_S,
) -> Downloaded:
    """Fetch, check and place one file; see the module docstring for the steps and why."""
    hub.require_online(f"download {file.filename}")
    if file.shard:
        raise DownloadError(
            f"{file.filename} is part {file.shard[0]} of a model split over {file.shard[1]} "
            "files, which this app cannot download yet; pick a single-file quantization"
        )
    target = models.user_models_dir() / Path(file.filename).name
    if destination == "models" and target.exists():
        return _already_there(file, target)
    work = (staging_dir() / file.repo_id.replace("/", "--") if destination == "models"
            else hf_cache_dir())
    have = _partial_size(work, file)
    needed = file.size - have
    free = free_space(work)
    if needed > free:
        raise DownloadError(
            f"not enough disk space for {file.filename}: it needs {format_bytes(needed)} more "
            f"and {work} has {format_bytes(free)} free; nothing was downloaded"
        )
    work.mkdir(parents=True, exist_ok=True)
    fetched = Path(_fetch(file, destination, work, on_progress, cancel, poll_s))
    checked, info = _check(file, fetched, on_progress, cancel)
    final = _place(fetched, target) if destination == "models" else fetched
    _record(DownloadRecord(final.stem, str(final), file.repo_id, file.filename, file.sha256,
                           file.size, destination,
                           datetime.now(timezone.utc).isoformat(timespec="seconds")))
    return Downloaded(final, file, info, checked)


def _already_there(file: hub.HubFile, target: Path) -> Downloaded:
    """A file of that name in the models folder: the same download, or someone else's file."""
    for record in downloaded_files():
        if Path(record.path) == target and record.sha256 == file.sha256:
            return Downloaded(target, file, read_gguf(target), file.sha256 is not None, True)
    raise DownloadError(
        f"{target.name} is already in the models folder ({target.parent}) and is not this "
        "download; move it away first"
    )


def _partial_size(work: Path, file: hub.HubFile) -> int:
    part = _incomplete_file(work, file)
    return part.stat().st_size if part is not None else 0


def _incomplete_file(work: Path, file: hub.HubFile) -> Path | None:
    """The library's ``.incomplete`` file for this download, named by the file's hash."""
    if not work.is_dir():
        return None
    pattern = f"*{file.sha256}.incomplete" if file.sha256 else "*.incomplete"
    with contextlib.suppress(OSError):
        found = sorted(work.rglob(pattern), key=lambda p: p.stat().st_size, reverse=True)
        return found[0] if found else None
    return None


def _fetch(
    file: hub.HubFile,
    destination: Destination,
    work: Path,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
    poll_s: float,
) -> str:
    """Run the transfer in a child process, retrying (and so resuming) after a dropped
    connection as long as each attempt brings new bytes."""
    failures = 0
    while True:
        before = _partial_size(work, file)
        outcome = _attempt(file, destination, work, on_progress, cancel, poll_s)
        if outcome[0] == "ok":
            return outcome[1]
        kind, message = outcome[1], outcome[2]
        if kind == "cancelled":  # Ctrl-C reaches the child too
            raise DownloadCancelled(_stopped(file))
        if kind != "transfer":
            raise _ERRORS.get(kind, HubError)(message)
        failures = 0 if _partial_size(work, file) > before else failures + 1
        if failures >= RETRIES:
            raise DownloadError(
                f"{file.ref}: the connection kept dropping ({message}); what arrived is kept, "
                "so trying again later resumes"
            )


_ERRORS: dict[str, type[HubError]] = {
    "access": HubAccessError, "notfound": HubNotFoundError, "offline": HubOfflineError,
}


def _attempt(
    file: hub.HubFile,
    destination: Destination,
    work: Path,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
    poll_s: float,
) -> tuple[str, ...]:
    ctx = multiprocessing.get_context("spawn")
    results: Any = ctx.Queue()
    local_dir = str(work) if destination == "models" else None
    cache_dir = str(work) if destination == "hf-cache" else None
    proc = ctx.Process(
        target=_child, daemon=True, name="playground-download",
        args=(file.repo_id, file.filename, local_dir, cache_dir, hub.endpoint(), hub.token(),
              results),
    )
    proc.start()
    meter = _Meter(file.size, on_progress)
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled(_stopped(file))
            with contextlib.suppress(queue.Empty):
                outcome: tuple[str, ...] = results.get(timeout=poll_s)
                return outcome
            part = _incomplete_file(work, file)
            meter.update(part.stat().st_size if part is not None and part.exists() else 0)
            if not proc.is_alive():
                with contextlib.suppress(queue.Empty):
                    late: tuple[str, ...] = results.get(timeout=1.0)
                    return late
                return ("error", "transfer", f"the download process ended ({proc.exitcode})")
    except KeyboardInterrupt:
        raise DownloadCancelled(_stopped(file)) from None
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        results.close()


def _stopped(file: hub.HubFile) -> str:
    return (f"download of {file.filename} stopped; what arrived is kept, and getting it again "
            "resumes from there")


class _Meter:
    """Bytes, speed (smoothed) and time left, from the growing partial file."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.callback = callback
        self.last: tuple[float, int] | None = None
        self.speed = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.last is not None and now > self.last[0] and done >= self.last[1]:
            rate = (done - self.last[1]) / (now - self.last[0])
            self.speed = rate if self.speed == 0 else (
                _SPEED_SMOOTHING * rate + (1 - _SPEED_SMOOTHING) * self.speed)
        self.last = (now, done)
        if self.callback is not None:
            self.callback(Progress(done, self.total, self.speed))


def _child(
    repo_id: str,
    filename: str,
    local_dir: str | None,
    cache_dir: str | None,
    endpoint: str,
    token: str | None,
    results: Any,
) -> None:
    """The child's whole job: one ``hf_hub_download`` call, its outcome sent back in words."""
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.utils.tqdm import disable_progress_bars

    # Plain HTTP with Range resume into the .incomplete file the parent watches (see pyproject).
    constants.HF_HUB_DISABLE_XET = True
    # Written every MiB instead of every 10 MiB: the progress the parent reads from the file's
    # size moves smoothly, and a dropped connection loses at most a MiB of what arrived.
    constants.DOWNLOAD_CHUNK_SIZE = WRITE_CHUNK
    disable_progress_bars()
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    try:
        path = hf_hub_download(repo_id, filename, local_dir=local_dir, cache_dir=cache_dir,
                               endpoint=endpoint, token=token)
        results.put(("ok", path))
    except KeyboardInterrupt:
        results.put(("error", "cancelled", "stopped"))
    except BaseException as exc:  # every failure goes back to the parent, in words
        results.put(("error", *_classify(exc, f"{repo_id}:{filename}")))


def _classify(exc: BaseException, what: str) -> tuple[str, str]:
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    if isinstance(exc, OSError) and not isinstance(
        exc, (HfHubHTTPError, LocalEntryNotFoundError, FileNotFoundError)
    ):
        return "transfer", hub.reason_of(exc)
    try:
        with hub.hub_errors(what):
            raise exc
    except HubAccessError as err:
        return "access", str(err)
    except HubNotFoundError as err:
        return "notfound", str(err)
    except HubOfflineError as err:
        return "offline", str(err)
    except PlaygroundError as err:
        return "other", str(err)
    except BaseException as err:
        return "other", f"{what}: {type(err).__name__}: {err}"


def _check(
    file: hub.HubFile,
    path: Path,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> tuple[bool, ModelInfo]:
    """The hash, then the bounded header check; a file that fails either is removed."""
    try:
        checked = _verify(file, path, on_progress, cancel)
    except DownloadCancelled:
        raise
    except DownloadError as exc:
        _discard(path)
        raise DownloadError(f"{file.ref} failed its SHA-256 check and was removed: {exc}") from None
    try:
        return checked, read_gguf(path)
    except ModelFileError as exc:
        _discard(path)
        raise DownloadError(
            f"{file.ref} is not a usable GGUF model and was removed: {exc}") from None


def _verify(
    file: hub.HubFile,
    path: Path,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> bool:
    """Compare the file's SHA-256 with the hub's LFS hash; ``False`` when there is none."""
    if file.sha256 is None:
        return False
    digest = hashlib.sha256()
    done = 0
    size = path.stat().st_size
    with path.open("rb") as fh:
        while block := fh.read(_HASH_CHUNK):
            if cancel is not None and cancel.is_set():
                raise DownloadCancelled(f"check of {file.filename} stopped")
            digest.update(block)
            done += len(block)
            if on_progress is not None and done % (64 * _HASH_CHUNK) < _HASH_CHUNK:
                on_progress(Progress(done, size, stage="checking"))
    actual = digest.hexdigest()
    if actual != file.sha256.lower():
        raise DownloadError(
            f"its SHA-256 is {actual}, but Hugging Face lists {file.sha256} (a damaged or "
            "altered transfer)"
        )
    return True


def _discard(path: Path) -> None:
    """Remove a file that failed its checks (in the cache, its snapshot link too)."""
    with contextlib.suppress(OSError):
        if path.is_symlink():
            path.resolve().unlink(missing_ok=True)
        path.unlink(missing_ok=True)


def _place(fetched: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(fetched, target)
    except OSError:
        shutil.move(str(fetched), str(target))
    return target
