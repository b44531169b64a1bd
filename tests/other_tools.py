"""Other tools' model folders (Hugging Face cache, LM Studio, Ollama, GPT4All, Jan) built from
the bundled model, as each tool lays them out on each platform, with the partial downloads,
projectors, licence blobs and broken links a real folder holds."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from playground.engine.discovery import DISCOVER_ENV, Home

HEX_A = "a" * 64
HEX_B = "b" * 64
HEX_C = "c" * 64
MODEL_LAYER = "application/vnd.ollama.image.model"


def place(source: Path, target: Path) -> Path:
    """The bundled model at ``target``: a hard link (no space used), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target


def head(gguf: Path) -> bytes:
    """The first bytes of a model: what a download cut short holds."""
    with gguf.open("rb") as fh:
        return fh.read(4096)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def manifest(*layers: tuple[str, str]) -> str:
    return json.dumps({"schemaVersion": 2, "layers": [
        {"mediaType": kind, "digest": f"sha256:{hex_digest}", "size": 1}
        for kind, hex_digest in layers]})


def data_folders(platform: str, home: Path, environ: dict[str, str]) -> tuple[Path, Path]:
    """Where GPT4All and Jan keep their data on each platform, as their documentation says."""
    if platform == "win32":
        return (Path(environ["LOCALAPPDATA"]) / "nomic.ai" / "GPT4All",
                Path(environ["APPDATA"]) / "Jan" / "data")
    if platform == "darwin":
        support = home / "Library" / "Application Support"
        return support / "nomic.ai" / "GPT4All", support / "Jan" / "data"
    share = home / ".local" / "share"
    return share / "nomic.ai" / "GPT4All", share / "Jan" / "data"


def build_huggingface(hub: Path, gguf: Path) -> None:
    """One repository with two snapshots linking the same blob, a file in a subfolder, a
    README, a broken link and a blob still downloading."""
    repo = hub / "models--bartowski--Llama-3.2-3B-Instruct-GGUF"
    place(gguf, repo / "blobs" / HEX_A)
    write(repo / "blobs" / f"{HEX_B}.incomplete", head(gguf))
    write(repo / "blobs" / HEX_C, "# model card\n")
    write(repo / "refs" / "main", "rev2")
    for rev in ("rev1", "rev2"):
        snap = repo / "snapshots" / rev
        snap.mkdir(parents=True)
        (snap / "Llama-3.2-3B-Instruct-Q4_K_M.gguf").symlink_to(f"../../blobs/{HEX_A}")
        (snap / "README.md").symlink_to(f"../../blobs/{HEX_C}")
    snap = repo / "snapshots" / "rev2"
    (snap / "Llama-3.2-3B-Instruct-Q8_0.gguf").symlink_to(f"../../blobs/{HEX_B}")  # broken
    (snap / "quants").mkdir()
    (snap / "quants" / "Llama-3.2-3B-Instruct-Q2_K.gguf").symlink_to(f"../../../blobs/{HEX_A}")
    # A dataset's cache beside it is no model.
    write(hub / "datasets--org--data" / "snapshots" / "r" / "x.gguf", "not a model")


def build_lmstudio(models_dir: Path, gguf: Path) -> None:
    repo = models_dir / "lmstudio-community" / "Qwen2.5-0.5B-Instruct-GGUF"
    place(gguf, repo / "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf")
    place(gguf, repo / "mmproj-model-f16.gguf")                # a vision projector
    write(repo / "Qwen2.5-0.5B-Instruct-Q8_0.gguf.part", head(gguf))
    write(repo / "error-page.gguf", "<!DOCTYPE html><html>404</html>")
    split = models_dir / "unsloth" / "Big-GGUF"
    place(gguf, split / "Big-Q4_K_M-00001-of-00002.gguf")
    place(gguf, split / "Big-Q4_K_M-00002-of-00002.gguf")


def build_ollama(store: Path, gguf: Path, model: str = "llama3.2") -> None:
    """Two tags of one model sharing its weights blob, which has no .gguf suffix; a licence
    blob; a manifest whose weights are still downloading."""
    blobs = store / "blobs"
    place(gguf, blobs / f"sha256-{HEX_A}")
    write(blobs / f"sha256-{HEX_B}", "LLAMA 3.2 COMMUNITY LICENSE")
    write(blobs / f"sha256-{HEX_C}-partial", head(gguf))
    library = store / "manifests" / "registry.ollama.ai" / "library" / model
    for tag in ("latest", "3b"):
        write(library / tag, manifest(("application/vnd.ollama.image.license", HEX_B),
                                      (MODEL_LAYER, HEX_A)))
    write(library.parent / "pulling" / "1b", manifest((MODEL_LAYER, HEX_C)))
    write(library.parent / "licence-only" / "x", manifest((MODEL_LAYER, HEX_B)))


def build_gpt4all(folder: Path, gguf: Path) -> None:
    place(gguf, folder / "Phi-3-mini-4k-instruct.Q4_0.gguf")
    write(folder / "incomplete-Meta-Llama-3-8B-Instruct.Q4_0.gguf", head(gguf))
    write(folder / "localdocs_v2.db", "SQLite format 3")


def build_jan(data: Path, old: Path, gguf: Path) -> None:
    place(gguf, data / "llamacpp" / "models" / "Qwen3-4B-Q4_K_M" / "model.gguf")
    write(data / "llamacpp" / "models" / "Qwen3-4B-Q4_K_M" / "model.yml", "name: Qwen3\n")
    place(gguf, old / "tinyllama-1.1b" / "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf")


def build_home(platform: str, tmp_path: Path, gguf: Path) -> Home:
    home = tmp_path / "home"
    environ: dict[str, str] = {}
    if platform == "win32":
        environ = {"LOCALAPPDATA": str(tmp_path / "Local"), "APPDATA": str(tmp_path / "Roaming")}
    gpt4all, jan = data_folders(platform, home, environ)
    build_huggingface(home / ".cache" / "huggingface" / "hub", gguf)
    build_lmstudio(home / ".lmstudio" / "models", gguf)
    build_ollama(home / ".ollama" / "models", gguf)
    build_gpt4all(gpt4all, gguf)
    build_jan(jan, home / "jan" / "models", gguf)
    return Home(platform, home, environ, root=tmp_path / "system")


EXPECTED = [
    ("bartowski/Llama-3.2-3B-Instruct-GGUF · Llama-3.2-3B-Instruct-Q4_K_M.gguf", "huggingface"),
    ("Qwen2.5-0.5B-Instruct-Q4_K_M", "lmstudio"),
    ("Big-Q4_K_M-00001-of-00002", "lmstudio"),
    ("llama3.2:3b", "ollama"),
    ("Phi-3-mini-4k-instruct.Q4_0", "gpt4all"),
    ("tinyllama-1.1b-chat-v1.0.Q4_K_M", "jan"),
    ("Qwen3-4B-Q4_K_M", "jan"),
]


def look_in(monkeypatch: pytest.MonkeyPatch, home: Home) -> None:
    """The app looks for other tools' models in ``home`` as if it were the user's own."""
    monkeypatch.setattr(Home, "current", classmethod(lambda cls: home))
    monkeypatch.setenv(DISCOVER_ENV, "all")
