"""GGUF files other tools already downloaded: the Hugging Face cache, LM Studio, Ollama, GPT4All
and Jan.

An analyst who has used any of these has gigabytes of models on disk already; offering them in
place (never copied) is the quickest way to a real model. Other tools' folders are read-only to
this module: nothing is created, renamed or cached there. Discovery is done often (each list of
models), so it never hashes or parses a model: a file is offered when its name and place say it
is a finished model and its first four bytes are the GGUF magic. Partial downloads, broken
links, projector files and unreadable folders are passed over in silence; the full header check
(:func:`~playground.engine.gguf.read_gguf`) happens when the file is shown or loaded.

Where each tool keeps its files depends on the platform, the home folder and a few environment
variables; :class:`Home` holds all three, so tests build every platform's layout anywhere.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from playground.engine.gguf import has_gguf_magic

ForeignSource = Literal["huggingface", "lmstudio", "ollama", "gpt4all", "jan"]
#: Every other tool looked at, in the order their models are listed.
FOREIGN_SOURCES: Final[tuple[ForeignSource, ...]] = (
    "huggingface", "lmstudio", "ollama", "gpt4all", "jan")
#: How each is named to a person.
FOREIGN_LABELS: Final[dict[str, str]] = {
    "huggingface": "Hugging Face cache", "lmstudio": "LM Studio", "ollama": "Ollama",
    "gpt4all": "GPT4All", "jan": "Jan",
}
#: Limits which tools are looked at, whatever the settings say: a list of sources ("ollama,jan"),
#: "all", or "none". Scripts and tests use it to keep the user's own folders out.
DISCOVER_ENV: Final = "PLAYGROUND_DISCOVER"

_PARTIAL_SUFFIXES: Final = (".incomplete", ".part", ".partial", ".download", ".crdownload",
                            ".tmp", ".lock")
_SHARD: Final = re.compile(r"-(\d{5})-of-\d{5}\.gguf$", re.IGNORECASE)
_BLOB: Final = re.compile(r"sha256[-:]([0-9a-f]{64})")
_OLLAMA_MODEL_LAYER: Final = "application/vnd.ollama.image.model"
_OLLAMA_REGISTRY: Final = "registry.ollama.ai"
#: Manifests, settings files and ref files are small; a larger one is not what it claims.
_MAX_SMALL_FILE: Final = 1 << 20
#: Folder entries visited per root at most: a models folder pointed at a whole disk stays quick.
_MAX_ENTRIES: Final = 50_000


@dataclass(frozen=True)
class Home:
    """Where other tools' files are looked for: the platform's rules (``sys.platform``), the
    home folder, the environment, and the root of system-wide folders (Ollama's Linux service
    keeps its store under ``/usr/share/ollama``)."""

    platform: str
    home: Path
    environ: Mapping[str, str] = field(default_factory=dict)
    root: Path = Path("/")

    @classmethod
    def current(cls) -> Home:
        return cls(sys.platform, Path.home(), dict(os.environ))

    @property
    def windows(self) -> bool:
        return self.platform.startswith(("win", "cygwin"))

    @property
    def mac(self) -> bool:
        return self.platform == "darwin"

    def env_path(self, name: str) -> Path | None:
        """An environment variable naming a folder; ``~`` is this home."""
        value = self.environ.get(name, "").strip()
        if not value:
            return None
        if value == "~" or value.startswith(("~/", "~\\")):
            return self.home / value[2:]
        return Path(value)

    def local_data(self) -> Path:
        """Per-user application data that stays on this machine."""
        if self.windows:
            return self.env_path("LOCALAPPDATA") or self.home / "AppData" / "Local"
        if self.mac:
            return self.home / "Library" / "Application Support"
        return self.env_path("XDG_DATA_HOME") or self.home / ".local" / "share"

    def roaming_data(self) -> Path:
        """Per-user application data a Windows profile carries along (``%APPDATA%``)."""
        if self.windows:
            return self.env_path("APPDATA") or self.home / "AppData" / "Roaming"
        return self.local_data()


@dataclass(frozen=True)
class ForeignModel:
    """A GGUF file found in another tool's folder, the name it goes by and the tool."""

    path: Path
    name: str
    source: ForeignSource


# -- which tools --------------------------------------------------------------------------------


def enabled_sources(switched_off: Collection[str] = (),
                    environ: Mapping[str, str] | None = None) -> tuple[ForeignSource, ...]:
    """The tools to look at: all of them but those switched off in settings, within what
    ``PLAYGROUND_DISCOVER`` allows when it is set."""
    env = os.environ if environ is None else environ
    allowed = FOREIGN_SOURCES
    raw = env.get(DISCOVER_ENV)
    if raw is not None:
        words = set(raw.replace(",", " ").lower().split())
        allowed = tuple(s for s in FOREIGN_SOURCES if s in words or "all" in words)
    return tuple(s for s in allowed if s not in switched_off)


def discover(switched_off: Collection[str] = (), home: Home | None = None) -> list[ForeignModel]:
    """Every finished GGUF model in the enabled tools' folders, each file once."""
    home = home or Home.current()
    found: list[ForeignModel] = []
    seen: set[Path] = set()
    for source in enabled_sources(switched_off, home.environ):
        roots: list[Path] = []
        for root in _ROOTS[source](home):
            key = _real(root)
            if key not in roots:
                roots.append(key)
                for model in _SCANNERS[source](root):
                    real = _real(model.path)
                    if real not in seen:
                        seen.add(real)
                        found.append(model)
    return found


# -- where each tool keeps its models -----------------------------------------------------------


def huggingface_roots(home: Home) -> list[Path]:
    """``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``~/.cache/huggingface/hub`` (huggingface_hub
    honours ``XDG_CACHE_HOME`` on every platform)."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        path = home.env_path(name)
        if path is not None:
            return [path]
    hf_home = home.env_path("HF_HOME")
    if hf_home is None:
        hf_home = (home.env_path("XDG_CACHE_HOME") or home.home / ".cache") / "huggingface"
    return [hf_home / "hub"]


def lmstudio_roots(home: Home) -> list[Path]:
    """``~/.lmstudio/models``, the older ``~/.cache/lm-studio/models``, and the models folder the
    user chose, which LM Studio records as ``downloadsFolder`` in its ``settings.json``. Newer
    versions can move their whole folder and leave its path in ``~/.lmstudio-home-pointer``."""
    folders = [home.home / ".lmstudio", home.home / ".cache" / "lm-studio"]
    pointer = _small_text(home.home / ".lmstudio-home-pointer")
    if pointer and pointer.strip():
        folders.insert(0, Path(pointer.strip()))
    roots: list[Path] = []
    for folder in folders:
        roots.append(folder / "models")
        settings = _small_json(folder / "settings.json")
        chosen = settings.get("downloadsFolder") if isinstance(settings, dict) else None
        if isinstance(chosen, str) and chosen.strip():
            roots.append(Path(chosen.strip()))
    return roots


def ollama_roots(home: Home) -> list[Path]:
    """``OLLAMA_MODELS`` replaces the default, as it does for Ollama itself; else the user's
    ``~/.ollama/models`` and, on Linux, the system service's store."""
    chosen = home.env_path("OLLAMA_MODELS")
    if chosen is not None:
        return [chosen]
    roots = [home.home / ".ollama" / "models"]
    if not home.windows and not home.mac:
        roots.append(home.root / "usr" / "share" / "ollama" / ".ollama" / "models")
    return roots


def gpt4all_roots(home: Home) -> list[Path]:
    """The application data folder: ``~/.local/share/nomic.ai/GPT4All`` on Linux,
    ``~/Library/Application Support/nomic.ai/GPT4All`` on macOS, ``%LOCALAPPDATA%`` on Windows."""
    return [home.local_data() / "nomic.ai" / "GPT4All"]


def jan_roots(home: Home) -> list[Path]:
    """``~/jan/models`` of older versions, and the data folder of newer ones (``models`` and the
    llama.cpp engine's ``llamacpp/models``): ``~/.local/share/Jan/data`` on Linux,
    ``~/Library/Application Support/Jan/data`` on macOS, ``%APPDATA%\\Jan\\data`` on Windows."""
    data = home.roaming_data() / "Jan" / "data"
    return [home.home / "jan" / "models", data / "models", data / "llamacpp" / "models"]


# -- reading each layout ------------------------------------------------------------------------


def _scan_huggingface(root: Path) -> Iterator[ForeignModel]:
    """``models--ORG--NAME/snapshots/<rev>/<file>`` links into ``blobs/``; a file is listed once
    per repository, from the revision ``refs/main`` names when it has it, else the newest."""
    for repo_dir in _subfolders(root):
        if not repo_dir.name.startswith("models--"):
            continue
        repo = repo_dir.name.removeprefix("models--").replace("--", "/")
        current = (_small_text(repo_dir / "refs" / "main") or "").strip()
        revisions = sorted(_subfolders(repo_dir / "snapshots"),
                           key=lambda d: (d.name != current, -_mtime(d)))
        listed: set[str] = set()
        for revision in revisions:
            for path in _files(revision, max_depth=3):
                relative = path.relative_to(revision).as_posix()
                if relative not in listed and _is_model_file(path):
                    listed.add(relative)
                    yield ForeignModel(path, f"{repo} · {relative}", "huggingface")


def _scan_plain(source: ForeignSource, max_depth: int) -> Callable[[Path], Iterator[ForeignModel]]:
    """A folder tree of ``.gguf`` files (LM Studio's ``PUBLISHER/REPO/file.gguf``, GPT4All's flat
    folder, Jan's ``models/<id>/``), each named as any file is."""
    def scan(root: Path) -> Iterator[ForeignModel]:
        for path in _files(root, max_depth):
            if _is_model_file(path):
                yield ForeignModel(path, path_name(path) or path.stem, source)
    return scan


def _scan_ollama(root: Path) -> Iterator[ForeignModel]:
    """Manifests ``manifests/HOST/NAMESPACE/NAME/TAG`` name the blob of each model's weights."""
    for blob, name in _ollama_index(root).items():
        if blob.is_file() and has_gguf_magic(blob):
            yield ForeignModel(blob, name, "ollama")


def _ollama_index(root: Path) -> dict[Path, str]:
    """Each weights blob and the name it goes by: a tag other than ``latest`` first (two tags
    of one model share the blob, and "llama3.2:3b" says more than "llama3.2:latest")."""
    manifests = root / "manifests"
    named: list[tuple[str, bool, str, Path]] = []
    for path in _files(manifests, max_depth=4):
        parts = path.relative_to(manifests).parts
        if len(parts) != 4 or path.name.startswith("."):
            continue
        host, namespace, model, tag = parts
        if host == _OLLAMA_REGISTRY:
            base = model if namespace == "library" else f"{namespace}/{model}"
        else:
            base = f"{host}/{namespace}/{model}"
        digest = _model_digest(_small_json(path))
        if digest is not None:
            blob = _blob_path(root / "blobs", digest)
            named.append((base, tag == "latest", f"{base}:{tag}", blob))
    index: dict[Path, str] = {}
    for _base, _latest, name, blob in sorted(named):
        index.setdefault(blob, name)
    _OLLAMA_NAMES.update(index)
    return index


def _model_digest(manifest: object) -> str | None:
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict) and layer.get("mediaType") == _OLLAMA_MODEL_LAYER:
            digest = layer.get("digest")
            if isinstance(digest, str) and (match := _BLOB.fullmatch(digest)):
                return match.group(1)
    return None


def _blob_path(blobs: Path, hex_digest: str) -> Path:
    """``sha256-<hex>``; Ollama before 0.1.33 wrote ``sha256:<hex>`` where the OS allows it."""
    dashed = blobs / f"sha256-{hex_digest}"
    colon = blobs / f"sha256:{hex_digest}"
    return colon if not dashed.exists() and colon.exists() else dashed


_ROOTS: Final[dict[ForeignSource, Callable[[Home], list[Path]]]] = {
    "huggingface": huggingface_roots, "lmstudio": lmstudio_roots, "ollama": ollama_roots,
    "gpt4all": gpt4all_roots, "jan": jan_roots,
}
_SCANNERS: Final[dict[ForeignSource, Callable[[Path], Iterator[ForeignModel]]]] = {
    "huggingface": _scan_huggingface,
    "lmstudio": _scan_plain("lmstudio", max_depth=4),
    "ollama": _scan_ollama,
    # GPT4All keeps its models at the top of its folder, beside its own databases.
    "gpt4all": _scan_plain("gpt4all", max_depth=0),
    "jan": _scan_plain("jan", max_depth=4),
}

#: Ollama blobs seen, and their names: a run records the blob's path, and every later list or
#: message names it by the model, not the hash.
_OLLAMA_NAMES: dict[Path, str] = {}


# -- the name a path goes by --------------------------------------------------------------------


def path_name(path: Path) -> str | None:
    """The name a file in another tool's layout goes by, worked out from its path alone (a run
    records only the path): "ORG/NAME · file.gguf" in the Hugging Face cache, "llama3.2:3b" for
    an Ollama blob, the model's folder for Jan's ``models/<id>/model.gguf``; None for any other
    file."""
    parts = path.parts
    for i in range(len(parts) - 4, -1, -1):
        if parts[i].startswith("models--") and parts[i + 1] == "snapshots":
            repo = parts[i].removeprefix("models--").replace("--", "/")
            return f"{repo} · {'/'.join(parts[i + 3:])}"
    if path.parent.name == "blobs" and (match := _BLOB.fullmatch(path.name)):
        name = _OLLAMA_NAMES.get(path)
        if name is None:
            name = _ollama_index(path.parent.parent).get(path)
        return name or f"Ollama blob {match.group(1)[:12]}"
    if path.name.lower() == "model.gguf" and "models" in parts[:-1]:
        after = parts[len(parts) - parts[::-1].index("models"):-1]
        if after:
            return "/".join(after)
    return None


# -- careful file system reading ----------------------------------------------------------------


def _is_model_file(path: Path) -> bool:
    """A finished GGUF model: the name ends in ``.gguf`` (not a partial download, a vision
    projector or a second shard of a split model), it is a file (a broken link is not) and it
    starts with the GGUF magic."""
    name = path.name.lower()
    if not name.endswith(".gguf") or name.startswith(("incomplete-", ".")):
        return False
    if name.endswith(_PARTIAL_SUFFIXES) or "mmproj" in name:
        return False
    shard = _SHARD.search(name)
    if shard is not None and int(shard.group(1)) != 1:
        return False
    try:
        if not path.is_file():
            return False
    except OSError:
        return False
    return has_gguf_magic(path)


def _files(root: Path, max_depth: int) -> list[Path]:
    """Files under ``root`` in name order, at most ``max_depth`` folders down, hidden entries and
    links to folders left out (a link loop must not hang the list); unreadable folders skipped."""
    found: list[Path] = []
    budget = [_MAX_ENTRIES]

    def visit(folder: str, depth: int) -> None:
        try:
            with os.scandir(folder) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError:
            return
        for entry in listed:
            budget[0] -= 1
            if budget[0] < 0:
                return
            if entry.name.startswith("."):
                continue
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if not is_folder:
                found.append(Path(entry.path))
            elif depth < max_depth:
                visit(entry.path, depth + 1)

    visit(os.fspath(root), 0)
    return found


def _subfolders(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if _is_dir(e))
    except OSError:
        return []


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _small_text(path: Path) -> str | None:
    """A small text file's content; None when it is missing, unreadable or too large."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_SMALL_FILE + 1)
    except OSError:
        return None
    if len(data) > _MAX_SMALL_FILE:
        return None
    return data.decode("utf-8", errors="replace")


def _small_json(path: Path) -> object:
    text = _small_text(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
