"""A local HTTP server that answers the Hugging Face hub endpoints ``huggingface_hub`` calls, so
that searching, listing, header reads and downloads are tested without the internet.

Endpoints (as huggingface_hub 0.36 builds them):
- ``GET /api/models?search=&filter=gguf&...``: the search, a JSON list of models;
- ``GET /api/models/{org}/{name}[/revision/{rev}]``: a repository's info (``HfFileSystem``
  checks the repository exists through it);
- ``GET /api/models/{org}/{name}/tree/{rev}[/{path}]``: the file list with sizes and LFS hashes;
- ``HEAD``/``GET /{org}/{name}/resolve/{rev}/{file}``: the file, with the headers
  ``hf_hub_download`` reads (``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag``, ``X-Linked-Size``)
  and ``Range`` requests answered with 206. Errors carry ``X-Error-Code`` (``GatedRepo``,
  ``RepoNotFound``, ``EntryNotFound``) as the hub's do.

Faults, per file: ``drop_at`` closes the connection once, after that many bytes of the body;
``delay`` sleeps between 64 KiB chunks (a slow server); ``claimed_sha256`` lists a hash the
bytes do not have. A gated repository answers 401 to downloads without ``Bearer`` + ``TOKEN``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "hf_test_token"
CHUNK = 64 * 1024


@dataclass
class FakeFile:
    source: Path
    length: int
    sha256: str
    claimed_sha256: str | None = None
    drop_at: int | None = None
    delay: float = 0.0
    dropped: bool = False

    @property
    def listed_sha256(self) -> str:
        return self.claimed_sha256 or self.sha256


@dataclass
class FakeRepo:
    files: dict[str, FakeFile] = field(default_factory=dict)
    gated: bool = False
    downloads: int = 0


def sha256_prefix(path: Path, length: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        left = length
        while left > 0:
            block = fh.read(min(1 << 20, left))
            if not block:
                break
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        #: (method, path, Range header or "") of every request, in order
        self.requests: list[tuple[str, str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_file(self, repo_id: str, name: str, source: Path, length: int | None = None,
                 **faults: object) -> FakeFile:
        size = source.stat().st_size if length is None else length
        file = FakeFile(source, size, sha256_prefix(source, size), **faults)  # type: ignore[arg-type]
        self.repos.setdefault(repo_id, FakeRepo()).files[name] = file
        return file

    def resolve_requests(self, method: str = "GET") -> list[tuple[str, str, str]]:
        return [r for r in self.requests if r[0] == method and "/resolve/" in r[1]]

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


_RESOLVE = re.compile(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$")
_TREE = re.compile(r"^/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?$")
_INFO = re.compile(r"^/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?$")
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _route(self, head: bool) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        self.hub.requests.append((self.command, path, self.headers.get("Range", "")))
        if path == "/api/models":
            return self._search(parse_qs(split.query))
        if match := _TREE.match(path):
            return self._tree(match.group(1))
        if match := _INFO.match(path):
            return self._info(match.group(1))
        if match := _RESOLVE.match(path):
            return self._resolve(match.group(1), match.group(3), head)
        return self._error(404, "RepoNotFound", "not found")

    def do_GET(self) -> None:
        self._route(head=False)

    def do_HEAD(self) -> None:
        self._route(head=True)

    def _json(self, data: object) -> None:
        body = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _search(self, query: dict[str, list[str]]) -> None:
        words = " ".join(query.get("search", [])).lower()
        repos = sorted(self.hub.repos.items(), key=lambda item: -item[1].downloads)
        found = [
            {"id": repo_id, "downloads": repo.downloads, "likes": 0,
             "gated": "manual" if repo.gated else False, "tags": ["gguf"]}
            for repo_id, repo in repos if words in repo_id.lower()
        ]
        limit = int(query.get("limit", ["1000"])[0])
        self._json(found[:limit])

    def _siblings(self, repo: FakeRepo) -> list[dict[str, object]]:
        return [{"rfilename": name} for name in repo.files]

    def _info(self, repo_id: str) -> None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            return self._error(401, "RepoNotFound", "Repository not found")
        self._json({"id": repo_id, "sha": COMMIT, "private": False,
                    "gated": "manual" if repo.gated else False,
                    "siblings": self._siblings(repo), "tags": ["gguf"]})

    def _tree(self, repo_id: str) -> None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            return self._error(401, "RepoNotFound", "Repository not found")
        self._json([
            {"type": "file", "path": name, "size": f.length,
             "oid": hashlib.sha1(name.encode()).hexdigest(),
             "lfs": {"oid": f.listed_sha256, "size": f.length, "pointerSize": 134}}
            for name, f in repo.files.items()
        ])

    def _resolve(self, repo_id: str, name: str, head: bool) -> None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            return self._error(404, "RepoNotFound", "Repository not found")
        if repo.gated and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._error(401, "GatedRepo", "Access to this model is restricted")
        file = repo.files.get(name)
        if file is None:
            return self._error(404, "EntryNotFound", "Entry not found")
        start, end = 0, file.length - 1
        match = _RANGE.match(self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = min(int(match.group(2)), end) if match.group(2) else end
        if start > end and not (start == file.length and file.length == 0):
            return self._error(416, "RangeNotSatisfiable", "bad range")
        self.send_response(206 if match else 200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{file.listed_sha256}"')
        self.send_header("X-Linked-Etag", f'"{file.listed_sha256}"')
        self.send_header("X-Linked-Size", str(file.length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if match:
            self.send_header("Content-Range", f"bytes {start}-{end}/{file.length}")
        self.end_headers()
        if not head:
            self._send_body(file, start, end)

    def _send_body(self, file: FakeFile, start: int, end: int) -> None:
        with file.source.open("rb") as fh:
            fh.seek(start)
            pos = start
            while pos <= end:
                block = fh.read(min(CHUNK, end - pos + 1))
                if (file.drop_at is not None and not file.dropped
                        and pos + len(block) > file.drop_at):
                    file.dropped = True
                    self.wfile.write(block[: max(0, file.drop_at - pos)])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                try:
                    self.wfile.write(block)
                except OSError:
                    return
                pos += len(block)
                if file.delay:
                    time.sleep(file.delay)



def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    return type("Handler", (_Handler,), {"hub": hub})


def serve(tmp_path: Path, monkeypatch: object) -> FakeHub:
    """Start a fake hub and point ``huggingface_hub`` and the app's folders at it and at
    ``tmp_path``: no test reads the real cache, token or models folder, or the internet."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    hub = FakeHub().start()
    env = {
        "HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_CACHE": str(tmp_path / "hf" / "hub"), "XDG_DATA_HOME": str(tmp_path / "data"),
        "HF_HUB_DISABLE_XET": "1", "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("HF_TOKEN", "HF_HUB_OFFLINE", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
                "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    return hub
