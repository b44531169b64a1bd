"""The package as a user installs it: a plain wheel, installed (not editable) in an environment of
its own, holds the built-in templates and the model catalog and runs without the source tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: What a wheel is built from (the rest of the checkout is not part of the package).
SOURCES = ("pyproject.toml", "README.md", "playground", "ui", "templates", "models")
#: Where pyproject.toml puts the top-level data folders inside the package.
DATA = {"templates": "playground/data/templates", "models": "playground/data/models"}


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, f"{' '.join(command)}\n{proc.stdout}\n{proc.stderr}"
    return proc


def build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the package's sources, so the checkout gets no build/ or egg-info;
    offline, with the setuptools of the test environment."""
    if int(version("setuptools").split(".")[0]) < 77:
        pytest.fail("building the wheel needs setuptools 77 or newer; `make setup` installs it")
    source = tmp_path / "source"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--wheel-dir", str(tmp_path / "dist"), str(source)], cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("prompt_playground-*.whl")
    return wheel


def expected_files() -> set[str]:
    """Every module of the source tree and every data file the app reads, as the wheel names
    them: a package folder missing from pyproject.toml's list shows up here."""
    files = {
        path.relative_to(ROOT).as_posix()
        for package in ("playground", "ui")
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }
    templates = ROOT / "templates"
    data = [*templates.glob("*.j2"), *templates.glob("examples/*.json"),
            *templates.glob("datasets/*.jsonl"), ROOT / "models" / "catalog.json"]
    for path in data:
        folder, _, rest = path.relative_to(ROOT).as_posix().partition("/")
        files.add(f"{DATA[folder]}/{rest}")
    return files


def site_packages(python: Path, cwd: Path, env: dict[str, str] | None = None) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(run([str(python), "-c", code], cwd=cwd, env=env).stdout.strip())


def fresh_environment(tmp_path: Path) -> Path:
    """A new virtual environment with only the wheel installed in it.

    The app's dependencies (llama-cpp-python compiled on this machine, Qt, numpy...) are read
    from the test environment's site-packages, listed after the new environment's own: the
    wheel's copy of the app is the one imported, and nothing is built or downloaded again. (A
    venv made with --system-site-packages from this environment's python would see the base
    interpreter's packages instead, which do not include them.)
    """
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    site = site_packages(python, tmp_path)
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "test-environment.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    return venv


@pytest.mark.model
def test_an_installed_wheel_lists_templates_and_models_and_generates(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    missing = sorted(expected_files() - shipped)
    assert not missing, ("not in the wheel (is the package folder listed in pyproject.toml's "
                         f"[tool.setuptools] packages?): {missing}")

    venv = fresh_environment(tmp_path)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)], cwd=tmp_path)

    # A profile of its own, and a working folder outside the checkout.
    home = tmp_path / "home"
    env = {**os.environ, "XDG_DATA_HOME": str(home / "data"),
           "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache"),
           "PLAYGROUND_DB": str(home / "history.db"),
           "PLAYGROUND_ENDPOINTS": str(home / "endpoints.json")}
    env.pop("PLAYGROUND_MODELS", None)
    site = site_packages(python, tmp_path, env)
    where = run([str(python), "-c", "import json, playground.engine.models as m, "
                 "playground.prompts.templates as t; print(json.dumps([m.__file__, "
                 "str(t.BUILTIN_DIR), str(m.CATALOG_PATH), len(m.load_catalog()), "
                 "m.model_display_name('')]))"], cwd=tmp_path, env=env)
    module, templates, catalog, entries, default_name = json.loads(where.stdout)
    for path in (module, templates, catalog):
        assert Path(path).is_relative_to(site), f"{path} is not the installed wheel's"
    assert Path(templates) == site / DATA["templates"]
    assert entries >= 1
    assert default_name == "SmolLM2-135M-Instruct"  # the catalog's name for the bundled file

    playground = str(venv / "bin" / "playground")
    listed = run([playground, "templates", "list"], cwd=tmp_path, env=env).stdout
    ids = {line.split()[0] for line in listed.splitlines() if line.strip()}
    builtin = {p.stem for p in (ROOT / "templates").glob("*.j2") if not p.stem.startswith("_")}
    assert builtin <= ids, sorted(builtin - ids)

    models = json.loads(run([playground, "models", "--json"], cwd=tmp_path, env=env).stdout)
    assert [m["source"] for m in models["models"]] == ["bundled"]

    result = json.loads(run([playground, "generate", "--json", "--n-ctx", "512", "-t", "0",
                             "-n", "4", "--seed", "1", "1, 2, 3, 4, 5,"],
                            cwd=tmp_path, env=env).stdout)
    assert result["prompt_tokens"] > 0
    assert 0 <= result["completion_tokens"] <= 4
    assert (result["finish_reason"] == "length") == (result["completion_tokens"] == 4)
