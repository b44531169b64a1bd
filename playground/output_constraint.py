"""An output constraint on a variant: any JSON, a JSON Schema, or a GBNF grammar.

The constraint travels with the variant (stored with the comparison, part of its key) and with
each request; the local engine turns it into a llama.cpp grammar, a server gets it as
``response_format`` (or llama.cpp's ``grammar``). The rules for what a constraint may be live
here, once: the CLI, a template's header and the window all build constraints through
:func:`make_constraint`, so a bad schema gets the same message wherever it was typed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from playground import checked_schemas
from playground.errors import ConstraintError

__all__ = ["KINDS", "KIND_LABELS", "ConstraintError", "ConstraintKind", "OutputConstraint",
           "check_schema", "constraint_from_file", "constraint_from_header", "json_path",
           "make_constraint"]

ConstraintKind = Literal["json", "json_schema", "grammar"]
KINDS: tuple[ConstraintKind, ...] = ("json", "json_schema", "grammar")
#: What a person reads for each kind, in the window, the CLI and reports.
KIND_LABELS: dict[ConstraintKind, str] = {
    "json": "any JSON", "json_schema": "JSON Schema", "grammar": "grammar (GBNF)",
}
#: A schema or grammar is a few kilobytes; a bigger one is a mistake (a data file picked).
MAX_CONSTRAINT_CHARS = 200_000


@dataclass(frozen=True)
class OutputConstraint:
    """``text`` is the schema as JSON text or the grammar as written (empty for any JSON);
    ``source`` names the file it was read from, for display only."""

    kind: ConstraintKind
    text: str = ""
    source: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConstraintError(
                f"unknown output format {self.kind!r}; use json, json_schema or grammar")
        if len(self.text) > MAX_CONSTRAINT_CHARS:
            raise ConstraintError(
                f"the {KIND_LABELS[self.kind]} is {len(self.text):,} characters; the limit is "
                f"{MAX_CONSTRAINT_CHARS:,}")
        if self.kind == "json" and self.text.strip():
            raise ConstraintError("'any JSON' takes no schema; choose JSON Schema to give one")
        if self.kind == "grammar" and not self.text.strip():
            raise ConstraintError("the grammar is empty; write GBNF rules with a root rule, "
                                  'e.g. root ::= "yes" | "no"')
        if self.kind == "json_schema":
            check_schema(self.schema())

    def schema(self) -> dict[str, Any] | bool | None:
        """The JSON Schema as data (None for the other kinds)."""
        if self.kind != "json_schema":
            return None
        where = f" in {self.source}" if self.source else ""
        try:
            value = json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise ConstraintError(
                f"the JSON Schema{where} is not JSON: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}") from None
        if not isinstance(value, (dict, bool)):
            raise ConstraintError(
                f"the JSON Schema{where} must be an object (or true/false), "
                f"not {type(value).__name__}")
        return value

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind] + (f" ({self.source})" if self.source else "")

    def digest(self) -> str:
        """What the run's record keeps: changing one character of a schema changes it."""
        return hashlib.sha256(f"{self.kind}\n{self.text}".encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.source:
            data["source"] = self.source
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutputConstraint:
        return cls(data["kind"], str(data.get("text") or ""), data.get("source"))


def check_schema(schema: object) -> None:
    """The schema is a JSON Schema its own metaschema accepts; the first problem is named with
    its place in the schema. A schema that a loaded library held before is not checked again
    (:mod:`playground.checked_schemas`)."""
    if isinstance(schema, bool):
        return
    key = checked_schemas.schema_key(schema)
    if checked_schemas.accepted(key):
        return
    import jsonschema
    import jsonschema.exceptions

    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        place = json_path(exc.absolute_path)
        raise ConstraintError(f"the JSON Schema is not valid at {place}: {exc.message}") from None


def json_path(parts: Any) -> str:
    """A location inside JSON data as ``$.entities[0].name``: the path a person reads."""
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def make_constraint(kind: str, text: str = "", source: str | None = None) -> OutputConstraint:
    """A constraint from what a person gave (CLI flag, form, header); errors name the kind."""
    if kind not in KINDS:
        raise ConstraintError(
            f"unknown output format {kind!r}; use json, json_schema or grammar")
    return OutputConstraint(kind, text, source)


def constraint_from_file(kind: str, path: Path) -> OutputConstraint:
    """A schema or grammar read from a file; a missing or unreadable file is a plain message."""
    try:
        if path.stat().st_size > MAX_CONSTRAINT_CHARS * 4:
            raise ConstraintError(f"{path} is too large for a schema or grammar")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConstraintError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConstraintError(f"cannot read {path}: {exc}") from None
    return make_constraint(kind, text, path.name)


def constraint_from_header(value: object, template_id: str) -> OutputConstraint | None:
    """A template header's ``output``: ``json``, ``{json_schema: {...}}`` (a mapping or JSON
    text) or ``{grammar: "root ::= ..."}``."""
    if value is None:
        return None
    try:
        if value == "json":
            return OutputConstraint("json")
        if isinstance(value, dict) and len(value) == 1:
            ((kind, body),) = value.items()
            if kind == "json_schema":
                text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
                return OutputConstraint("json_schema", text)
            if kind == "grammar" and isinstance(body, str):
                return OutputConstraint("grammar", body)
    except ConstraintError as exc:
        raise ConstraintError(f"{template_id}: 'output': {exc}") from None
    raise ConstraintError(
        f"{template_id}: 'output' must be json, {{json_schema: ...}} or {{grammar: ...}}")
