"""A backend that runs the same comparisons against an OpenAI-compatible HTTP server.

Only the standard library speaks HTTP here, so pointing the playground at a llama.cpp, vLLM or
hosted server adds no dependency. Every failure a network can produce ends the run as a
``Failed`` event with a message a user can act on, exactly like a crashed local worker.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from playground.engine.endpoints import KEYRING_SERVICE, Endpoint
from playground.engine.machine import request_record
from playground.errors import PlaygroundError
from playground.events import (
    Event,
    Failed,
    Finished,
    FinishReason,
    GenerationRequest,
    Result,
    Started,
    Token,
    TokenLogprob,
)
from playground.output_constraint import OutputConstraint
from playground.sampling import SamplingParams

_DEFAULTS = SamplingParams()


class RemoteError(PlaygroundError):
    """The remote server could not be reached or did not answer as the OpenAI API does.
    ``status`` is the HTTP status of a refused request."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def constraint_fields(constraint: OutputConstraint) -> dict[str, Any]:
    """The request fields that ask a server for constrained output: OpenAI's ``response_format``
    (``json_schema`` or ``json_object``), or llama.cpp server's ``grammar`` for GBNF."""
    if constraint.kind == "grammar":
        return {"grammar": constraint.text}
    if constraint.kind == "json":
        return {"response_format": {"type": "json_object"}}
    return {"response_format": {"type": "json_schema", "json_schema": {
        "name": "output", "schema": constraint.schema(), "strict": True}}}


class _CancelledError(Exception):
    """The stream was closed on purpose by ``cancel()``."""


def keyring_key(name: str) -> str:
    """The API key the OS keyring holds for endpoint ``name``."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        raise RemoteError("reading keys from the OS keyring needs the keyring package") from None
    try:
        key = keyring.get_password(KEYRING_SERVICE, name)
    except KeyringError as exc:
        raise RemoteError(
            f"{name}: the OS keyring is not available ({exc}); use --api-key-env instead"
        ) from exc
    if not key:
        raise RemoteError(f"{name}: the OS keyring holds no API key for this endpoint")
    return str(key)


class RemoteBackend:
    """One OpenAI-compatible endpoint. One request at a time, like a local model.

    ``timeout_s`` bounds each wait for the server (connecting, the first byte, every next
    chunk), not the whole generation: a long answer that keeps streaming is never cut off, a
    silent server is.
    """

    #: Sampling knobs outside the OpenAI API. llama.cpp and vLLM honour them; other servers may
    #: silently ignore them, so a run that changed them says so in its warnings.
    EXTENSION_PARAMS: frozenset[str] = frozenset({"top_k", "min_p", "repeat_penalty"})

    def __init__(self, endpoint: Endpoint, *, timeout_s: float = 60.0) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        parts = urlsplit(endpoint.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(
                f"{endpoint.name}: base URL {endpoint.base_url!r} must look like http://host:port"
            )
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        prefix = parts.path.rstrip("/")
        # Both "http://host:8080" and "http://host:8080/v1" are common ways to write it.
        self._prefix = prefix if prefix.endswith("/v1") else prefix + "/v1"
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._busy = threading.Lock()
        self._state = threading.Lock()
        self._active = False
        self._cancelled = threading.Event()
        self._sock: socket.socket | None = None
        self._server: dict[str, Any] | None = None
        self._key: str | None = None

    @property
    def model_summary(self) -> dict[str, Any]:
        """The model facts stored with every result."""
        return {
            "name": self.endpoint.model,
            "backend": "remote",
            "endpoint": self.endpoint.name,
            "base_url": self.endpoint.base_url,
        }

    # -- HTTP -------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        env = self.endpoint.api_key_env
        key = None
        if env:
            key = os.environ.get(env)
            if not key:
                raise RemoteError(f"{self.endpoint.name}: the API key variable {env} is not set")
        elif self.endpoint.api_key_keyring:
            key = keyring_key(self.endpoint.name)
        if key:
            self._key = key
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _without_key(self, text: str) -> str:
        """Server text with the key taken out: some servers and proxies quote the key they
        were sent in an error ("Incorrect API key provided: ..."), and error messages are
        stored with the run, exported and printed."""
        return text.replace(self._key, "[API key]") if self._key else text

    def _open(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send one request and return the response once its status line has arrived."""
        headers = self._headers()
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self.timeout_s)
        try:
            conn.connect()
            with self._state:
                # Kept apart from ``conn``: http.client drops conn.sock on "Connection: close"
                # responses, but cancel() still needs the socket to end the stream.
                self._sock = conn.sock
            if self._cancelled.is_set():
                raise _CancelledError
            data = None if body is None else json.dumps(body).encode("utf-8")
            conn.request(method, self._prefix + path, body=data, headers=headers)
            response = conn.getresponse()
        except BaseException:
            conn.close()
            raise
        if response.status >= 400:
            detail = self._without_key(_error_detail(response))
            conn.close()
            raise RemoteError(
                f"{self.endpoint.name}: the server answered HTTP {response.status} "
                f"{response.reason} for {method} {self._prefix + path}"
                + (f": {detail}" if detail else ""),
                status=response.status,
            )
        return conn, response

    def _network_error(self, exc: BaseException) -> RemoteError:
        where = self._origin
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return RemoteError(
                f"{self.endpoint.name}: {where} did not answer within {self.timeout_s:g} s "
                "(timeout)"
            )
        if isinstance(exc, ConnectionRefusedError):
            return RemoteError(f"could not connect to {where} — is the server running?")
        if isinstance(exc, socket.gaierror):
            return RemoteError(f"{self.endpoint.name}: cannot resolve host {self._host!r}")
        if isinstance(exc, (http.client.IncompleteRead, ConnectionError)):
            return RemoteError(
                f"{self.endpoint.name}: the server at {where} closed the connection "
                "in the middle of the answer"
            )
        return RemoteError(f"{self.endpoint.name}: talking to {where} failed: {exc}")

    def models(self) -> list[str]:
        """Model ids the server offers, so a user can pick a valid ``Endpoint.model``."""
        try:
            conn, response = self._open("GET", "/models", None)
            try:
                payload = json.loads(response.read())
            finally:
                conn.close()
        except RemoteError:
            raise
        except json.JSONDecodeError:
            raise RemoteError(
                f"{self.endpoint.name}: GET {self._prefix}/models did not return JSON"
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._network_error(exc) from None
        finally:
            with self._state:
                self._sock = None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise RemoteError(
                f"{self.endpoint.name}: GET {self._prefix}/models did not list models"
            )
        return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]

    def server_info(self) -> dict[str, Any]:
        """What the server says about itself, asked once: llama.cpp's ``/props`` (its build
        and context), else vLLM's ``/version``. Only small facts are kept, never a key."""
        if self._server is not None:
            return self._server
        info: dict[str, Any] = {"described": "no"}
        for path, pick in (("/props", _props_facts), ("/version", _version_facts)):
            payload = self._get_origin_json(path)
            facts = pick(payload) if isinstance(payload, dict) else {}
            if facts:
                info = {"source": path, **facts}
                break
        self._server = info
        return info

    def _get_origin_json(self, path: str) -> object:
        """GET a path at the server's root (outside /v1) with a short timeout; None on any
        failure, since a server that does not describe itself is not an error."""
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=min(self.timeout_s, 3.0))
        try:
            conn.request("GET", path, headers=self._headers())
            response = conn.getresponse()
            if response.status != 200:
                return None
            return json.loads(response.read(1 << 20))
        except (OSError, http.client.HTTPException, ValueError, RemoteError):
            return None
        finally:
            conn.close()

    def record(self, request: GenerationRequest, params: SamplingParams) -> dict[str, Any]:
        """A remote run's reproducibility record: where it ran, what the server said about
        itself, and the sampling settings in the order the request lists them."""
        return {
            "backend": "remote",
            "endpoint": self.endpoint.base_url,
            "endpoint_name": self.endpoint.name,
            "model_id": self.endpoint.model,
            "server": self.server_info(),
            "seed": params.seed,
            "request": request_record(request),
            "sampler_chain": [
                {"name": name, "value": getattr(params, name)}
                for name in ("repeat_penalty", "presence_penalty", "frequency_penalty",
                             "top_k", "top_p", "min_p", "temperature")
            ],
        }

    # -- requests ---------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the request in flight, if any; safe from any thread.

        Shutting the socket down (rather than closing it) wakes a reader blocked in recv, and
        tells the server to stop spending compute on an answer nobody reads.
        """
        with self._state:
            if not self._active:
                return
            self._cancelled.set()
            sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Nothing stays open between requests; only a request in flight needs ending."""
        self.cancel()

    def __enter__(self) -> RemoteBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def generate(self, request: GenerationRequest) -> Iterator[Event]:
        """Stream events for one request; always ends with ``Finished`` or ``Failed``."""
        if not self._busy.acquire(blocking=False):
            raise RemoteError(f"{self.endpoint.name}: busy with another request; cancel it first")
        try:
            with self._state:
                self._active = True
                self._cancelled.clear()
            yield from self._generate(request)
        finally:
            with self._state:
                self._active = False
                self._sock = None
            self._busy.release()

    def build_body(self, request: GenerationRequest, params: SamplingParams) -> dict[str, Any]:
        """The JSON body for ``request``; public so a user can see what is sent."""
        body: dict[str, Any] = {
            "model": self.endpoint.model,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "presence_penalty": params.presence_penalty,
            "frequency_penalty": params.frequency_penalty,
            "top_k": params.top_k,
            "min_p": params.min_p,
            "repeat_penalty": params.repeat_penalty,
            # vLLM's name for the same knob.
            "repetition_penalty": params.repeat_penalty,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = list(params.stop)
        if request.messages is not None:
            body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
            if request.logprobs is not None:
                body["logprobs"] = True
                body["top_logprobs"] = request.logprobs
        else:
            body["prompt"] = request.prompt
            if request.logprobs is not None:
                body["logprobs"] = request.logprobs
        if request.constraint is not None:
            body.update(constraint_fields(request.constraint))
        return body

    def extension_warnings(self, params: SamplingParams) -> tuple[str, ...]:
        """Changed knobs a plain OpenAI server would ignore, so a comparison is not misread."""
        changed = sorted(
            name
            for name in self.EXTENSION_PARAMS
            if getattr(params, name) != getattr(_DEFAULTS, name)
        )
        if not changed:
            return ()
        names = changed[0] if len(changed) == 1 else ", ".join(changed[:-1]) + " and " + changed[-1]
        verb = "is an extension" if len(changed) == 1 else "are extensions"
        return (f"{names} {verb}; this server may ignore {'it' if len(changed) == 1 else 'them'}",)

    def _check_constraint(self, request: GenerationRequest) -> None:
        """A GBNF grammar goes only to a llama.cpp server (its /props says so): another server
        would ignore the field and the run would look constrained when it was not."""
        constraint = request.constraint
        if constraint is not None and constraint.kind == "grammar" \
                and self.server_info().get("source") != "/props":
            raise RemoteError(
                f"{self.endpoint.name}: a GBNF grammar can be sent only to a llama.cpp server, "
                f"and {self._origin} does not say it is one (it has no /props); use a JSON "
                "Schema or 'any JSON' with this server")

    def _refusal(self, request: GenerationRequest, exc: RemoteError) -> str:
        """A server's error answer to a constrained request names what it refused (some
        servers answer a field they do not know with a 500, not a 4xx)."""
        if request.constraint is None or exc.status is None:
            return str(exc)
        sent = constraint_fields(request.constraint)
        what = "grammar" if "grammar" in sent else \
            f"response_format {sent['response_format']['type']}"
        return (f"{self.endpoint.name} refused the output constraint ({what}) — the server may "
                f"not support it; choose another output format or server. {exc}")

    def _generate(self, request: GenerationRequest) -> Iterator[Event]:  # noqa: C901
        # A concrete seed makes every remote run reproducible on servers that honour it.
        params = request.params.with_seed()
        chat = request.messages is not None
        if request.messages is not None:
            rendered = json.dumps(
                [{"role": m.role, "content": m.content} for m in request.messages],
                ensure_ascii=False,
            )
        else:
            rendered = request.prompt or ""
        warnings = self.extension_warnings(params)
        pieces: list[str] = []
        logprobs: list[TokenLogprob] = []
        usage: dict[str, Any] = {}
        chunks = 0
        first: float | None = None
        last: float | None = None
        finish: str | None = None
        sent = time.perf_counter()

        def result(reason: FinishReason, error: str | None = None) -> Result:
            completion = chunks
            if isinstance(usage.get("completion_tokens"), int):
                completion = usage["completion_tokens"]
            prompt_tokens = usage.get("prompt_tokens")
            tps = None
            # Same definition as the local backend: tokens after the first over their span.
            if first is not None and last is not None and last > first and completion > 1:
                tps = (completion - 1) / (last - first)
            return Result(
                text="".join(pieces),
                finish_reason=reason,
                prompt_tokens=_count(prompt_tokens),
                completion_tokens=completion,
                ttft_s=None if first is None else first - sent,
                tokens_per_second=tps,
                total_s=time.perf_counter() - sent,
                rendered_prompt=rendered,
                params=params,
                model=self.model_summary,
                logprobs=tuple(logprobs) if request.logprobs is not None else None,
                error=error,
                warnings=warnings,
                record=record,
            )

        record = self.record(request, params)
        yield Started(rendered, 0, params.max_tokens, False)
        conn: http.client.HTTPConnection | None = None
        try:
            self._check_constraint(request)
            conn, response = self._open(
                "POST",
                "/chat/completions" if chat else "/completions",
                self.build_body(request, params),
            )
            done = False
            while not done:
                if self._cancelled.is_set():
                    raise _CancelledError
                raw = response.readline()
                if not raw:
                    if self._cancelled.is_set():
                        raise _CancelledError
                    if finish is None:
                        raise ConnectionResetError
                    break
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if not line.startswith("data:"):
                    continue  # blank separators, comments, "event:" lines
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = _parse_chunk(data, self.endpoint.name)
                if isinstance(chunk.get("usage"), dict):
                    usage.update(chunk["usage"])
                choices = chunk.get("choices") or []
                if not choices or not isinstance(choices[0], dict):
                    continue
                choice = choices[0]
                text = _delta_text(choice, chat)
                token_lps = _logprobs(choice.get("logprobs"), chat)
                logprobs.extend(token_lps)
                if text:
                    now = time.perf_counter()
                    first = first if first is not None else now
                    last = now
                    chunks += 1
                    pieces.append(text)
                    yield Token(text, token_lps[0] if len(token_lps) == 1 else None)
                if choice.get("finish_reason"):
                    finish = str(choice["finish_reason"])
        except _CancelledError:
            yield Finished(result("cancelled"))
            return
        except RemoteError as exc:
            error = RemoteError(self._without_key(self._refusal(request, exc)))
            yield Failed(error, result("error", str(error)))
            return
        except (OSError, http.client.HTTPException) as exc:
            if self._cancelled.is_set():
                yield Finished(result("cancelled"))
                return
            error = self._network_error(exc)
            yield Failed(error, result("error", str(error)))
            return
        finally:
            if conn is not None:
                conn.close()
        yield Finished(result("length" if finish == "length" else "stop"))


def _props_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """llama.cpp server's /props: its build, the model file it serves and its context."""
    facts: dict[str, Any] = {}
    for key in ("build_info", "model_path", "total_slots"):
        if isinstance(payload.get(key), (str, int)):
            facts[key] = payload[key]
    settings = payload.get("default_generation_settings")
    if isinstance(settings, dict) and isinstance(settings.get("n_ctx"), int):
        facts["n_ctx"] = settings["n_ctx"]
    if isinstance(facts.get("model_path"), str):
        facts["model_path"] = facts["model_path"].replace("\\", "/").rsplit("/", 1)[-1]
    return facts


def _version_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """vLLM's /version."""
    version = payload.get("version")
    return {"version": version} if isinstance(version, str) else {}


def _count(value: object) -> int | None:
    """A token count from the server's usage, None (unknown) when it sent none or nonsense:
    a made-up 0 would read as an empty prompt."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _parse_chunk(data: str, name: str) -> dict[str, Any]:
    try:
        chunk = json.loads(data)
    except json.JSONDecodeError:
        raise RemoteError(
            f"{name}: the server sent a malformed stream event (not JSON): {data[:120]!r}"
        ) from None
    if not isinstance(chunk, dict):
        raise RemoteError(f"{name}: the server sent a stream event that is not an object")
    if "error" in chunk:
        raise RemoteError(
            f"{name}: the server reported an error mid-stream: {_message_of(chunk['error'])}"
        )
    return chunk


def _message_of(error: object) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def _error_detail(response: http.client.HTTPResponse) -> str:
    """The server's own explanation: OpenAI's ``error.message``, FastAPI's ``detail``."""
    try:
        raw = response.read(65536)
    except (OSError, http.client.HTTPException):
        return ""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return text[:300]
    if isinstance(body, dict):
        if "error" in body:
            return _message_of(body["error"])
        if "detail" in body:
            return str(body["detail"])[:300]
    return text[:300]


def _delta_text(choice: dict[str, Any], chat: bool) -> str:
    if chat:
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
    else:
        content = choice.get("text")
    return content if isinstance(content, str) else ""


def _logprobs(data: object, chat: bool) -> list[TokenLogprob]:
    """Map both OpenAI logprob shapes (chat ``content`` list, completions parallel lists)."""
    if not isinstance(data, dict):
        return []
    out: list[TokenLogprob] = []
    if chat:
        for item in data.get("content") or []:
            if not isinstance(item, dict) or item.get("logprob") is None:
                continue
            top = tuple(
                (str(t.get("token", "")), float(t["logprob"]))
                for t in item.get("top_logprobs") or []
                if isinstance(t, dict) and t.get("logprob") is not None
            )
            out.append(TokenLogprob(str(item.get("token", "")), float(item["logprob"]), top))
        return out
    tokens = data.get("tokens") or []
    values = data.get("token_logprobs") or []
    tops = data.get("top_logprobs") or []
    for i, (token, value) in enumerate(zip(tokens, values, strict=False)):
        if value is None:
            continue
        alternatives = tops[i] if i < len(tops) and isinstance(tops[i], dict) else {}
        top = tuple(
            sorted(((str(k), float(v)) for k, v in alternatives.items()), key=lambda t: -t[1])
        )
        out.append(TokenLogprob(str(token), float(value), top))
    return out
