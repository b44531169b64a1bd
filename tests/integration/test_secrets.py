"""API keys never reach the database, an export or a log.

A real comparison runs against a llama.cpp OpenAI-compatible server that refuses requests
without its key. The keys are given the ways a user gives them: the name of an environment
variable, and the OS keyring (asked for at `endpoints add`). Then every byte the app left
behind is searched for them: the database with its WAL, each export format, the saved
endpoints, anything under the app's data, config, cache and temporary folders, and everything
the commands printed.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.llama_server import llama_server
from tests.integration.misbehaving_server import MisbehavingServer

KEY = "sk-playground-" + secrets.token_hex(20)
WRONG_KEY = "sk-wrong-" + secrets.token_hex(20)

# A keyring backend that keeps secrets in a file outside the app's folders: the keyring
# library's own extension point, as an OS keyring plugs in (none runs on a headless machine).
FILE_KEYRING = '''
import json, os
from pathlib import Path
import keyring.backend

class FileKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def _data(self):
        path = Path(os.environ["PLAYGROUND_TEST_KEYRING_FILE"])
        return json.loads(path.read_text()) if path.exists() else {}

    def get_password(self, service, username):
        return self._data().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        data = self._data()
        data[f"{service}/{username}"] = password
        Path(os.environ["PLAYGROUND_TEST_KEYRING_FILE"]).write_text(json.dumps(data))

    def delete_password(self, service, username):
        pass
'''


@pytest.fixture(scope="module")
def keyed_server(default_model_path: Path) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the bundled model, requiring KEY."""
    with llama_server(default_model_path, n_ctx=1024, api_key=KEY) as url:
        with pytest.raises(OSError, match="401"):  # it really wants the key
            urllib.request.urlopen(f"{url}/v1/models", timeout=5)
        yield url


def _leaks(data: bytes) -> list[str]:
    return [name for name, key in (("KEY", KEY), ("WRONG_KEY", WRONG_KEY))
            if key.encode() in data]


def test_api_keys_appear_in_no_file_export_or_output_after_keyed_remote_runs(
    keyed_server: str, tmp_path: Path
) -> None:
    with MisbehavingServer() as echoing:
        _keyed_runs_leave_no_key(keyed_server, echoing, tmp_path)


def _keyed_runs_leave_no_key(keyed_server: str, echoing: MisbehavingServer, tmp_path: Path) -> None:
    home = tmp_path / "home"  # everything the app may write
    outside = tmp_path / "keyring"  # the stand-in OS keyring, which does hold the key
    for folder in (home / "tmp", outside):
        folder.mkdir(parents=True)
    (outside / "filekeyring.py").write_text(FILE_KEYRING)
    db = home / "playground.db"
    env = {
        **os.environ,
        "PLAYGROUND_DB": str(db),
        "PLAYGROUND_ENDPOINTS": str(home / "config" / "endpoints.json"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "TMPDIR": str(home / "tmp"),
        "PLAYGROUND_TEST_KEY": KEY,
        "PLAYGROUND_TEST_WRONG_KEY": WRONG_KEY,
        "PYTHON_KEYRING_BACKEND": "filekeyring.FileKeyring",
        "PLAYGROUND_TEST_KEYRING_FILE": str(outside / "secrets.json"),
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(outside), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    printed: list[tuple[str, str]] = []

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "playground", *args], input=stdin,
                              capture_output=True, text=True, env=env, timeout=600,
                              check=False)
        printed.append((" ".join(args), proc.stdout + proc.stderr))
        return proc

    for name, url, how in (
        ("by-env", keyed_server, ["--api-key-env", "PLAYGROUND_TEST_KEY"]),
        ("by-keyring", keyed_server, ["--keyring"]),
        ("wrong-key", keyed_server, ["--api-key-env", "PLAYGROUND_TEST_WRONG_KEY"]),
        ("echoing", echoing.url("echokey"), ["--api-key-env", "PLAYGROUND_TEST_KEY"]),
    ):
        added = cli("endpoints", "add", name, url, "--model", "smollm", *how,
                    stdin=KEY + "\n" if how == ["--keyring"] else None)
        assert added.returncode == 0, added.stderr
    assert KEY in (outside / "secrets.json").read_text()  # the keyring got it
    assert cli("endpoints", "list").returncode == 0
    assert cli("endpoints", "check", "by-keyring").returncode == 0

    # Hold the database open so the WAL stays on disk to be searched too.
    assert cli("history", "--json").returncode == 0
    reader = sqlite3.connect(db)
    try:
        reader.execute("SELECT count(*) FROM runs").fetchone()
        spec = home / "spec.yaml"
        spec.write_text(
            "name: keyed\ndataset: sentiment\nrows: 2\nparams: {max_tokens: 4}\n"
            "variants:\n"
            "  - {template: sentiment-zero-shot, name: env, model: 'remote:by-env'}\n"
            "  - {template: sentiment-zero-shot, name: keyring, model: 'remote:by-keyring'}\n"
            "  - {template: sentiment-zero-shot, name: wrong, model: 'remote:wrong-key'}\n"
            "  - {template: sentiment-zero-shot, name: echo, model: 'remote:echoing'}\n",
            encoding="utf-8",
        )
        compared = cli("compare", "--spec", str(spec), "--format", "jsonl")
        records = [json.loads(line) for line in compared.stdout.splitlines()]
        status = {r["variant"]: r["status"] for r in records}
        assert status == {"env": "ok", "keyring": "ok", "wrong": "failed", "echo": "failed"}, (
            compared.stderr
        )
        errors = {r["variant"]: r.get("error") or "" for r in records}
        assert "401" in errors["wrong"]
        # The gateway quoted the key it was sent; the message keeps what it said, not the key.
        assert echoing.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"
        assert "Incorrect API key provided: Bearer [API key]" in errors["echo"]
        generated = cli("generate", "--model", "remote:by-env", "-n", "4", "--json", "Hi")
        assert generated.returncode == 0, generated.stderr
        exports = home / "exports"
        exports.mkdir()
        for fmt in ("csv", "jsonl", "md", "html"):
            out = exports / f"comparison.{fmt}"
            exported = cli("export", "1", "-f", fmt, "-o", str(out))
            assert exported.returncode == 0, exported.stderr
            assert out.stat().st_size > 0
        cli("show", "1")
        cli("history", "--json")
        run_id = reader.execute("SELECT min(id) FROM runs WHERE status = 'ok'").fetchone()[0]
        cli("replay", str(run_id))

        assert db.with_name(db.name + "-wal").exists()
        files = sorted(p for p in home.rglob("*") if p.is_file())
        assert db in files and len(files) >= 7
        leaked = {str(p.relative_to(home)): _leaks(p.read_bytes()) for p in files}
    finally:
        reader.close()
    leaked.update({f"output of `{cmd}`": _leaks(text.encode()) for cmd, text in printed})
    assert {where: keys for where, keys in leaked.items() if keys} == {}
