"""A tiny OpenAI-shaped HTTP server that fails on purpose, for the remote backend's error paths.

The mode is the first path segment, so one server serves every case at once:
``http://127.0.0.1:PORT/<mode>`` is the base URL for that mode. Real servers cannot be made to
fail this precisely or this quickly.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "error500", "notfound", "malformed", "disconnect", "hang", "slow", "nousage",
         "hostile", "controls", "echokey")
#: What a hostile server puts in its error bodies and model names: set the terminal's title,
#: clear the screen.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J"
#: The text the "controls" mode streams: colour codes, a carriage return, a C1 CSI, a bell,
#: between plain words, a tab and a newline.
CONTROL_TEXT = "plain \x1b[31mred\x1b[0m\rover\x9b2J\x07\tand\nnext"
#: Longest a "hang" request is held, so a broken test cannot stall the suite.
HANG_LIMIT_S = 10.0


class _Handler(BaseHTTPRequestHandler):
    server: MisbehavingServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _mode(self) -> str:
        return self.path.strip("/").split("/", 1)[0]

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse_start(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

    def _event(self, payload: dict[str, Any] | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def do_GET(self) -> None:
        if self._mode() == "notfound":
            self._json(404, {"detail": "Not Found"})
            return
        if self._mode() == "hostile":
            models = [{"id": f"evil{HOSTILE}", "object": "model"}]
            self._json(200, {"object": "list", "data": models})
            return
        self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append(
            {"path": self.path, "body": body, "headers": dict(self.headers.items())}
        )
        mode = self._mode()
        if mode == "error500":
            self._json(
                500,
                {"error": {"message": "model exploded", "type": "server_error", "code": 500}},
            )
        elif mode == "notfound":
            self._json(404, {"detail": "Not Found"})
        elif mode == "hostile":
            self._json(500, {"error": {"message": f"boom{HOSTILE}", "type": "server_error"}})
        elif mode == "echokey":
            # As some gateways answer a key they do not accept: quoting it back.
            sent = self.headers.get("Authorization", "")
            self._json(401, {"error": {"message": f"Incorrect API key provided: {sent}",
                                       "type": "invalid_request_error"}})
        elif mode == "nousage":
            self._ok(chat="chat" in self.path, logprobs=False, usage=False)
        elif mode == "controls":
            self._sse_start()
            for piece in (CONTROL_TEXT[:9], CONTROL_TEXT[9:]):
                self._event(_chunk(piece, chat="chat" in self.path))
            self._event("[DONE]")
        elif mode == "hang":
            self.server.release.wait(HANG_LIMIT_S)
        elif mode == "malformed":
            self._sse_start()
            self._event(_chunk("Hello", chat="chat" in self.path))
            self._event("{this is not json")
        elif mode == "slow":
            with self.server.lock:
                self.server.in_flight += 1
                self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
            try:
                time.sleep(0.3)
                self._ok(chat="chat" in self.path, logprobs=False)
            finally:
                with self.server.lock:
                    self.server.in_flight -= 1
        elif mode == "disconnect":
            self._sse_start()
            self._event(_chunk("Hello", chat="chat" in self.path))
            self._event(_chunk(" there", chat="chat" in self.path))
            self.close_connection = True  # HTTP/1.0 with no length: the client sees EOF
        else:
            self._ok(chat="chat" in self.path, logprobs=body.get("logprobs") is not None)

    def _ok(self, *, chat: bool, logprobs: bool, usage: bool = True) -> None:
        """A well-behaved stream with usage and logprobs, as a full OpenAI server sends it;
        without ``usage``, as servers that ignore ``stream_options`` do."""
        self._sse_start()
        if chat:
            self._event({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
        for i, word in enumerate(("Hi", " there", "!")):
            chunk = _chunk(word, chat=chat)
            if logprobs:
                lp = -0.5 * (i + 1)
                if chat:
                    chunk["choices"][0]["logprobs"] = {
                        "content": [
                            {
                                "token": word,
                                "logprob": lp,
                                "top_logprobs": [
                                    {"token": word, "logprob": lp},
                                    {"token": "x", "logprob": lp - 1},
                                ],
                            }
                        ]
                    }
                else:
                    chunk["choices"][0]["logprobs"] = {
                        "tokens": [word],
                        "token_logprobs": [lp],
                        "top_logprobs": [{"x": lp - 1, word: lp}],
                    }
            self._event(chunk)
        final = _chunk("", chat=chat)
        final["choices"][0]["finish_reason"] = "stop"
        self._event(final)
        if usage:
            self._event(
                {
                    "choices": [],
                    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
                }
            )
        self._event("[DONE]")


def _chunk(text: str, *, chat: bool) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "finish_reason": None}
    if chat:
        choice["delta"] = {"content": text}
    else:
        choice["text"] = text
    return {"id": "x", "object": "chunk", "model": "fake-model", "choices": [choice]}


class MisbehavingServer(ThreadingHTTPServer):
    """Serves in a daemon thread; use as a context manager."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.release = threading.Event()
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, mode: str) -> str:
        assert mode in MODES, mode
        return f"http://127.0.0.1:{self.port}/{mode}"

    def __enter__(self) -> MisbehavingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(5)
