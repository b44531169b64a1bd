"""The app's name, its per-user folders and the data it ships, in one place for every module that
keeps or reads files.

platformdirs gives each OS its own convention (XDG on Linux, ~/Library on macOS, %LOCALAPPDATA%
on Windows); the environment variables below let tests, scripts and a second profile point
anywhere else without touching the user's own files.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path
from typing import Literal

import platformdirs

APP_NAME = "prompt-playground"
DB_ENV = "PLAYGROUND_DB"
DB_FILE_NAME = "playground.db"
ENDPOINTS_ENV = "PLAYGROUND_ENDPOINTS"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def models_dir() -> Path:
    """Where models this app was given (or downloaded) live."""
    return data_dir() / "models"


def libraries_dir() -> Path:
    """Installed prompt libraries, one file each."""
    return data_dir() / "libraries"


def database_path() -> Path:
    """``$PLAYGROUND_DB`` lets tests, scripts and a second profile use another database."""
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return data_dir() / DB_FILE_NAME


def endpoints_path() -> Path:
    override = os.environ.get(ENDPOINTS_ENV)
    if override:
        return Path(override).expanduser()
    return config_dir() / "endpoints.json"


def hash_cache_path() -> Path:
    """SHA-256 of model files, keyed by path, size and modification time."""
    return cache_dir() / "file-hashes.json"


def checked_schemas_path() -> Path:
    """JSON Schemas the installed jsonschema has accepted (``playground.checked_schemas``)."""
    return cache_dir() / "checked-schemas.json"


def shipped(name: Literal["templates", "models"]) -> Path:
    """A folder of data shipped inside the package: the built-in templates or the model catalog's
    folder. In a wheel (and a frozen bundle) it is ``playground/data/<name>``; in an editable
    install the top-level folder of the source tree that pyproject.toml maps there."""
    folder = importlib.resources.files(f"playground.data.{name}")
    if not isinstance(folder, Path):
        # Every way the app is installed unpacks its files; a zipped package would land here.
        raise RuntimeError(f"the app's {name} folder is not on the file system: {folder}")
    return folder
