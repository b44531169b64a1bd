"""Finding GGUF models on Hugging Face and judging, before any download, whether they fit.

Everything that talks to the hub goes through ``huggingface_hub``: search, file lists with
sizes and LFS SHA-256, and the GGUF header read through ``HfFileSystem``'s HTTP range requests
into the same bounded reader local files use. ``HF_ENDPOINT``, ``HF_TOKEN`` and
``HF_HUB_OFFLINE`` are read on every call, not when the library was imported, so a setting
changed while the app runs (or by a test) takes effect.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal, cast

from huggingface_hub import HfApi, HfFileSystem
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile

from playground import paths
from playground.engine.gguf import ModelInfo, read_gguf_stream
from playground.engine.memory import MemoryEstimate, available_memory, estimate_memory
from playground.errors import (
    HubAccessError,
    HubError,
    HubNotFoundError,
    HubOfflineError,
    PlaygroundError,
)

DEFAULT_ENDPOINT: Final = "https://huggingface.co"
RECOMMENDED_PATH = paths.shipped("models") / "recommended.json"
#: Share of available memory up to which a model "fits"; up to all of it is "tight".
FIT_SHARE: Final = 0.8
#: The header is read in blocks this large; a header is rarely over a few MiB (the vocabulary).
HEADER_BLOCK: Final = 2 << 20
GATED_MESSAGE: Final = (
    "this model is gated: accept its licence on huggingface.co and set HF_TOKEN"
)

Fit = Literal["fits", "tight", "will not fit"]

_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Za-z0-9]+)*|BF16|F16|F32)(?=[.\-]|$)",
                    re.IGNORECASE)
_SHARD = re.compile(r"-(\d{5})-of-(\d{5})$")


# -- settings read at call time --------------------------------------------------------------------


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def token() -> str | None:
    """``HF_TOKEN``; without it the library falls back to a token saved by ``hf auth login``."""
    return os.environ.get("HF_TOKEN") or None


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def require_online(action: str) -> None:
    if offline():
        raise HubOfflineError(
            f"cannot {action}: offline mode is on (HF_HUB_OFFLINE is set); models already "
            "downloaded still work"
        )


def _api() -> HfApi:
    return HfApi(endpoint=endpoint(), token=token())


@contextlib.contextmanager
def hub_errors(what: str) -> Iterator[None]:
    """The library's exceptions as the app's, each in words that say what to do."""
    try:
        yield
    except PlaygroundError:
        raise
    except GatedRepoError:
        raise HubAccessError(f"{what}: {GATED_MESSAGE}") from None
    except RepositoryNotFoundError:
        raise HubNotFoundError(
            f"{what}: no such repository on Hugging Face (a private one needs HF_TOKEN)"
        ) from None
    except LocalEntryNotFoundError as exc:
        # The library's word for "the hub could not be reached and nothing is cached".
        raise HubOfflineError(f"{what}: could not reach {endpoint()} ({reason_of(exc)})") from None
    except (EntryNotFoundError, RevisionNotFoundError, FileNotFoundError):
        raise HubNotFoundError(f"{what}: no such file or revision in the repository") from None
    except OfflineModeIsEnabled:
        raise HubOfflineError(f"{what}: offline mode is on (HF_HUB_OFFLINE is set)") from None
    except HfHubHTTPError as exc:
        raise _http_error(what, exc) from None
    except OSError as exc:  # requests' connection errors and timeouts are OSErrors
        raise HubOfflineError(f"{what}: could not reach {endpoint()} ({reason_of(exc)})") from None


def _http_error(what: str, exc: HfHubHTTPError) -> HubError:
    status = exc.response.status_code if exc.response is not None else None
    if status in (401, 403):
        return HubAccessError(
            f"{what}: Hugging Face refused access (HTTP {status}): the model may be gated or "
            "private; accept its licence on huggingface.co and set HF_TOKEN to a token that can "
            "read it"
        )
    if status == 404:
        return HubNotFoundError(f"{what}: not found on Hugging Face (HTTP 404)")
    return HubError(f"{what}: Hugging Face answered HTTP {status}")


def reason_of(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    text = str(cause or exc).splitlines()[0] if str(cause or exc) else type(exc).__name__
    return text[:200]


# -- search ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubRepo:
    repo_id: str
    downloads: int = 0
    likes: int = 0
    gated: bool = False


def search_models(query: str, limit: int = 20) -> list[HubRepo]:
    """Repositories with GGUF files matching ``query``, most downloaded first."""
    require_online("search Hugging Face")
    with hub_errors(f"searching for {query!r}"):
        found = _api().list_models(search=query, filter="gguf", sort="downloads",
                                   direction=-1, limit=limit)
        return [HubRepo(m.id, m.downloads or 0, m.likes or 0, bool(m.gated)) for m in found]


# -- a repository's files --------------------------------------------------------------------------


@dataclass(frozen=True)
class HubFile:
    """A GGUF file in a repository, as the hub lists it: size and LFS SHA-256 come from the hub
    at run time, never from a typed-in table."""

    repo_id: str
    filename: str
    size: int
    sha256: str | None
    quant: str | None
    #: (part, parts) of a model split over several files
    shard: tuple[int, int] | None = None

    @property
    def ref(self) -> str:
        return f"{self.repo_id}:{self.filename}"


def parse_quant(filename: str) -> str | None:
    """The quantization a file name states ("Q4_K_M", "IQ4_XS", "F16"), upper case."""
    stem = _SHARD.sub("", Path(filename).name.removesuffix(".gguf"))
    matches = _QUANT.findall(stem)
    return matches[-1].upper() if matches else None


def _shard(filename: str) -> tuple[int, int] | None:
    match = _SHARD.search(Path(filename).name.removesuffix(".gguf"))
    return (int(match.group(1)), int(match.group(2))) if match else None


def list_gguf_files(repo_id: str) -> list[HubFile]:
    """The repository's model files, smallest first. Vision projectors (``mmproj``) are not
    models on their own and are left out."""
    require_online(f"list the files of {repo_id}")
    with hub_errors(repo_id):
        tree = list(_api().list_repo_tree(repo_id, recursive=True))
    files = [
        HubFile(repo_id, item.path, item.size, item.lfs.sha256 if item.lfs else None,
                parse_quant(item.path), _shard(item.path))
        for item in tree
        if isinstance(item, RepoFile) and item.path.lower().endswith(".gguf")
        and "mmproj" not in Path(item.path).name.lower()
    ]
    if not files:
        raise HubNotFoundError(f"{repo_id} has no .gguf files")
    return sorted(files, key=lambda f: (f.size, f.filename))


def pick_file(files: Iterable[HubFile], wanted: str) -> HubFile:
    """A file named by its file name or by its quantization (``Q4_K_M``), case-insensitive."""
    files = list(files)
    text = wanted.strip().lower()
    for f in files:
        if f.filename.lower() in (text, f"{text}.gguf") or Path(f.filename).name.lower() == text:
            return f
    matches = [f for f in files if (f.quant or "").lower() == text]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(f.filename for f in (matches or files))
    if matches:
        raise HubNotFoundError(f"{wanted!r} matches several files: {names}; name one")
    raise HubNotFoundError(f"no file or quantization {wanted!r} here; the files: {names}")


def read_remote_header(file: HubFile) -> ModelInfo:
    """The GGUF header of a file on the hub, fetched by range requests: only the header's
    bytes travel, and the bounded reader checks them as it would a local file's."""
    require_online(f"read {file.filename}")
    fs = HfFileSystem(endpoint=endpoint(), token=token(), skip_instance_cache=True)
    with hub_errors(file.ref), fs.open(f"{file.repo_id}/{file.filename}", "rb",
                                       block_size=HEADER_BLOCK) as fh:
        return read_gguf_stream(cast(BinaryIO, fh), file.size, file.filename)


# -- does it fit -----------------------------------------------------------------------------------


def fit_verdict(needed: int, available: int) -> Fit:
    if needed <= FIT_SHARE * available:
        return "fits"
    if needed <= available:
        return "tight"
    return "will not fit"


@dataclass(frozen=True)
class FileAssessment:
    """A file with what its header says it needs at the chosen context, against this machine.
    ``error`` says why there is no estimate (a gated file, an unreadable header)."""

    file: HubFile
    info: ModelInfo | None = None
    estimate: MemoryEstimate | None = None
    fit: Fit | None = None
    error: str | None = None


def assess_files(
    files: Iterable[HubFile],
    n_ctx: int,
    n_gpu_layers: int = 0,
    available: int | None = None,
    read_header: Callable[[HubFile], ModelInfo] = read_remote_header,
) -> list[FileAssessment]:
    """Each file's memory estimate at ``n_ctx`` (capped at the trained context) and verdict.
    A gated repository stops the reading at once: every file would answer the same."""
    avail = available_memory() if available is None else available
    out: list[FileAssessment] = []
    for f in files:
        if f.shard and f.shard[0] != 1:
            continue
        try:
            info = read_header(f)
        except HubAccessError:
            raise
        except PlaygroundError as exc:
            out.append(FileAssessment(f, error=str(exc)))
            continue
        ctx = min(n_ctx, info.context_length) if info.context_length else n_ctx
        estimate = estimate_memory(info, ctx, n_gpu_layers)
        out.append(FileAssessment(f, info, estimate, fit_verdict(estimate.cpu_bytes, avail)))
    return out


def recommended(assessments: Iterable[FileAssessment]) -> FileAssessment | None:
    """The largest file that fits: more bits are better answers, as long as memory allows."""
    fitting = [a for a in assessments if a.fit == "fits" and not a.file.shard]
    return max(fitting, key=lambda a: a.file.size, default=None)


# -- the curated list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecommendedModel:
    """A well-known instruct model: where its GGUF files are and under which licence. Sizes and
    hashes are not kept here; the hub states them when the files are listed."""

    name: str
    repo_id: str
    license: str
    context_length: int
    files: dict[str, str]
    notes: str = ""


def load_recommended(path: Path | None = None) -> list[RecommendedModel]:
    try:
        data: Any = json.loads((path or RECOMMENDED_PATH).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out: list[RecommendedModel] = []
    for entry in data.get("models", []) if isinstance(data, dict) else []:
        try:
            out.append(RecommendedModel(
                str(entry["name"]), str(entry["repo"]), str(entry["license"]),
                int(entry["context_length"]),
                {str(k): str(v) for k, v in dict(entry["files"]).items()},
                str(entry.get("notes", "")),
            ))
        except (KeyError, TypeError, ValueError):
            continue
    return out
