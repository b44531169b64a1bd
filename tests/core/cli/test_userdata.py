"""Opening the user's database from a command says what opening it changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.cli import main


def test_opening_an_older_database_says_it_was_upgraded_and_where_the_copy_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlite_utils import Database

    from playground.storage.migrations import migrations

    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m005_reproducibility_record")
    old.close()
    assert main(["history", "--db", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"playground: {path} was upgraded to this version's format" in err
    assert f"{path.name}.bak-v4" in err
    # Opened again: nothing to upgrade, nothing said.
    assert main(["history", "--db", str(path)]) == 0
    assert capsys.readouterr().err == ""
