"""The app's name and its per-user folders, in one place for every module that keeps files.

platformdirs gives each OS its own convention (XDG on Linux, ~/Library on macOS, %LOCALAPPDATA%
on Windows); the environment variables below let tests, scripts and a second profile point
anywhere else without touching the user's own files.
"""

from __future__ import annotations

import os
from pathlib import Path

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
