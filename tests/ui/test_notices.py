"""Opening an older database upgrades it with a backup; the window says so, whichever of its
background tasks opened the database first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from sqlite_utils import Database

from playground.storage.migrations import migrations
from ui.context import AppContext
from ui.main_window import MainWindow


@pytest.fixture
def old_database(isolated_profile: Path) -> Path:
    path = isolated_profile / "history.db"
    db = Database(path)
    migrations.apply(db, stop_before="m005_reproducibility_record")
    db.close()
    return path


@pytest.fixture
def opened(qtbot: QtBot, old_database: Path, settings: QSettings) -> Iterator[MainWindow]:
    context = AppContext(settings)
    assert context.db_path == old_database
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    yield window
    window.close()


def test_the_window_says_the_database_was_upgraded_and_where_the_copy_is(
    qtbot: QtBot, opened: MainWindow, old_database: Path
) -> None:
    qtbot.waitUntil(lambda: opened.last_notice is not None, timeout=10000)
    message = opened.statusBar().currentMessage()
    assert message == opened.last_notice
    assert f"{old_database} was upgraded to this version's format" in message
    backup = old_database.with_name(f"{old_database.name}.bak-v4")
    assert str(backup) in message and backup.is_file()
