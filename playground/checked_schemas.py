"""JSON Schemas that this install's jsonschema has already accepted, remembered across starts.

Every template's output schema is checked against its metaschema whenever a library loads, the
built-in one included, so listing templates used to import jsonschema (about 50 ms) and check
each schema on every start. Whether a schema is valid depends only on the schema and on the
jsonschema and metaschema files installed. So an accepted schema is remembered by the SHA-256
of its canonical JSON, together with where those files are and when they last changed: a new
jsonschema (or any edit to it) checks every schema again. A refused schema is never remembered,
and a missing or damaged cache file costs a check, never an error.

Any check looks the record up; only a library load adds to it
(:func:`playground.prompts.collection.load_collection`), the start-up cost this is for. A
schema being typed in the window is checked at every keystroke, and its passing drafts are
neither written to disk on the GUI thread nor kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Iterable

from playground import paths
from playground.files import read_json_dict, write_json

#: The libraries whose files decide whether a schema is valid: the validator and the
#: metaschemas it ships with.
CHECKERS = ("jsonschema", "jsonschema_specifications")
#: Schemas remembered at most; the oldest are forgotten first.
LIMIT = 2000

_lock = threading.Lock()
_known: set[str] | None = None


def schema_key(schema: object) -> str:
    """The same key for the same schema however its JSON was spaced or its keys ordered."""
    canonical = json.dumps(schema, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def installed_checkers() -> str:
    """Where the checking libraries' files are and when they last changed."""
    parts = []
    for name in CHECKERS:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        try:
            stamp = os.stat(origin).st_mtime_ns if origin else "missing"
        except OSError:
            stamp = "unreadable"
        parts.append(f"{name}={origin}@{stamp}")
    return ";".join(parts)


def _stored() -> tuple[str, list[str]]:
    """The installed checkers, and the keys the record holds for them (none for others)."""
    checkers = installed_checkers()
    data = read_json_dict(paths.checked_schemas_path())
    keys = data.get("accepted")
    if data.get("checkers") != checkers or not isinstance(keys, list):
        return checkers, []
    return checkers, [k for k in keys if isinstance(k, str)]


def _known_keys() -> set[str]:
    global _known
    if _known is None:
        _known = set(_stored()[1])
    return _known


def accepted(key: str) -> bool:
    """Whether the schema with this key passed the installed checker before."""
    with _lock:
        return key in _known_keys()


def remember(keys: Iterable[str]) -> None:
    """Record that the installed checker accepted the schemas with these keys. The file is
    read again and written only when one of them is new, so a start that finds them all known
    writes nothing."""
    global _known
    with _lock:
        known = _known_keys()
        new = [k for k in dict.fromkeys(keys) if k not in known]
        if not new:
            return
        checkers, kept = _stored()  # again: another process may have added to it meanwhile
        kept = [*(k for k in kept if k not in new), *new][-LIMIT:]
        _known = set(kept)
        with contextlib.suppress(OSError):
            write_json(paths.checked_schemas_path(), {"checkers": checkers, "accepted": kept})


def forget_in_memory() -> None:
    """Forget what was read, so that the next question reads the file again."""
    global _known
    with _lock:
        _known = None
