"""Saved remote endpoints, referred to as ``remote:NAME`` wherever a model is named.

Only the base URL, the model name and the *name* of the environment variable that holds the
API key are saved; the key itself is read at request time and never written anywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from playground import paths
from playground.errors import PlaygroundError
from playground.files import write_json

PREFIX = "remote:"
KEYRING_SERVICE = "prompt-playground"
_NAME = re.compile(r"[\w.-]{1,64}\Z")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Endpoint:
    """Where a remote model lives.

    ``api_key_env`` names an environment variable rather than holding the key, so keys never
    end up in saved results, configs or logs. It lives here, apart from the HTTP client
    (``remote.py``), so that naming a model does not import the client's HTTP machinery.
    """

    name: str
    base_url: str
    model: str
    api_key_env: str | None = None
    #: Read the key from the OS keyring (service ``prompt-playground``, user = the endpoint name).
    api_key_keyring: bool = False


class EndpointError(PlaygroundError):
    """An endpoint name, URL or saved-endpoints file is not usable."""


def endpoints_path() -> Path:
    return paths.endpoints_path()


def load_endpoints(path: Path | None = None) -> dict[str, Endpoint]:
    path = path or endpoints_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise EndpointError(f"{path}: cannot read the saved endpoints ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), list):
        raise EndpointError(f"{path}: expected {{\"endpoints\": [...]}}")
    found: dict[str, Endpoint] = {}
    for n, raw in enumerate(data["endpoints"], 1):
        if not isinstance(raw, dict):
            raise EndpointError(f"{path}: endpoint {n} is not an object")
        try:
            endpoint = Endpoint(str(raw["name"]), str(raw["base_url"]), str(raw["model"]),
                                raw.get("api_key_env"), bool(raw.get("api_key_keyring", False)))
        except KeyError as exc:
            raise EndpointError(f"{path}: endpoint {n} has no {exc.args[0]!r}") from None
        found[endpoint.name] = endpoint
    return found


def _write(endpoints: dict[str, Endpoint], path: Path) -> None:
    data = {"endpoints": [
        {"name": e.name, "base_url": e.base_url, "model": e.model, "api_key_env": e.api_key_env,
         "api_key_keyring": e.api_key_keyring}
        for e in endpoints.values()
    ]}
    write_json(path, data, indent=2)


def save_endpoint(endpoint: Endpoint, path: Path | None = None) -> None:
    """Validate and save (replacing one of the same name)."""
    if not _NAME.match(endpoint.name):
        raise EndpointError(
            f"endpoint name {endpoint.name!r}: use letters, digits, '.', '-' or '_' (max 64)"
        )
    if endpoint.api_key_env is not None and not _ENV.match(endpoint.api_key_env):
        raise EndpointError(
            f"{endpoint.api_key_env!r} is not an environment variable name; give the name of "
            "the variable that holds the key, never the key itself"
        )
    from playground.engine.remote import RemoteBackend

    RemoteBackend(endpoint).close()  # the URL check lives with the client
    path = path or endpoints_path()
    endpoints = load_endpoints(path)
    endpoints[endpoint.name] = endpoint
    _write(endpoints, path)


def store_key_in_keyring(name: str, key: str) -> None:
    """Keep an endpoint's key in the OS keyring (never in the endpoints file)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, name, key)
    except KeyringError as exc:
        raise EndpointError(
            f"the OS keyring is not available ({exc}); keep the key in an environment variable "
            "and use --api-key-env"
        ) from exc


def remove_endpoint(name: str, path: Path | None = None) -> None:
    path = path or endpoints_path()
    endpoints = load_endpoints(path)
    if name not in endpoints:
        raise EndpointError(f"no saved endpoint named {name!r}")
    del endpoints[name]
    _write(endpoints, path)


def is_remote(model: str | None) -> bool:
    return bool(model) and str(model).startswith(PREFIX)


def resolve_endpoint(model: str, path: Path | None = None) -> Endpoint:
    """``remote:NAME`` → the saved endpoint NAME."""
    name = model[len(PREFIX):]
    endpoints = load_endpoints(path)
    if name not in endpoints:
        known = ", ".join(endpoints) or "none saved; add one with `playground endpoints add`"
        raise EndpointError(f"no saved endpoint named {name!r} (known: {known})")
    return endpoints[name]
