"""A template's metadata header as form fields, and back.

The file format stays what it is (a YAML header in a leading Jinja comment, then the body); the
Library tab edits the header as fields beside the body. A header whose fields were not changed
is written back byte for byte, comments and layout included, so opening and saving a template
changes nothing; a changed one is written anew in the app's own YAML. Fields are checked one by
one with the rules ``templates`` applies when it reads a file, and a refusal names its field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from playground.errors import SamplingError, TemplateError
from playground.prompts.formats import LibraryError, dump_yaml, load_yaml_strict
from playground.prompts.templates import (
    VARIABLE_TYPES,
    discover_variables,
    parse_template,
    read_variable,
    split_header,
)
from playground.sampling import SamplingParams

#: The fields of the form, in the order they are shown and written.
FIELD_NAMES = ("name", "technique", "task", "format", "example_set", "params", "description",
               "variables", "body")
VARIABLE_COLUMNS = ("name", "type", "default", "help", "choices", "default_set")
#: How a default of empty text is written in the form: an empty cell means no default at all.
EMPTY_TEXT = '""'


@dataclass(frozen=True)
class VariableRow:
    """One declared variable as text cells: ``choices`` comma-separated, ``default`` as typed
    (a number for number variables, a YAML list for examples). An empty cell is no default;
    :data:`EMPTY_TEXT` is a default of empty text (an optional input that renders as nothing)."""

    name: str
    type: str = "text"
    default: str = ""
    help: str = ""
    choices: str = ""
    default_set: str = ""


@dataclass(frozen=True)
class TemplateFields:
    """The header's keys as text. ``params`` is the sampling settings as a YAML mapping without
    its braces (``temperature: 0, max_tokens: 8``); empty text means the key is left out."""

    name: str = ""
    technique: str = ""
    task: str = ""
    description: str = ""
    format: str = "text"
    example_set: str = ""
    params: str = ""
    variables: tuple[VariableRow, ...] = ()
    #: The header's ``output`` constraint as JSON text, carried through the form unchanged
    #: (the form has no field for it yet); empty when the header has none.
    output: str = ""


@dataclass(frozen=True)
class TemplateParts:
    """A template source split for the editor: the fields, the body, and the header block as
    it was (empty when the file has none)."""

    fields: TemplateFields
    body: str
    header: str


class FieldError(TemplateError):
    """A field of the form that cannot be written; ``row`` is the variable's row (0-based)."""

    def __init__(self, field: str, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.row = row


# -- from a source to fields ------------------------------------------------------------------


def split_template(source: str, template_id: str) -> TemplateParts:
    """The fields and body of a template source; raises the core's error when the header
    cannot be read."""
    header, body, header_text = split_header(source, template_id)
    if header is None:
        return TemplateParts(TemplateFields(), source, "")
    return TemplateParts(_fields(header), body, header_text)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _flow(value: Any) -> str:
    """A value as one line of YAML (JSON is YAML): what the params and default cells hold."""
    return json.dumps(value, ensure_ascii=False)


def _fields(header: Mapping[str, Any]) -> TemplateFields:
    params = header.get("params") or {}
    raw_vars = header.get("variables") or {}
    rows = []
    if isinstance(raw_vars, dict):
        for name, spec in raw_vars.items():
            rows.append(_row(str(name), spec if isinstance(spec, dict) else {}))
    return TemplateFields(
        name=_text(header.get("name")),
        technique=_text(header.get("technique")),
        task=_text(header.get("task")),
        description=_text(header.get("description")),
        format=_text(header.get("format") or "text"),
        example_set=_text(header.get("example_set")),
        params=", ".join(f"{k}: {_flow(v)}" for k, v in params.items())
        if isinstance(params, dict) else "",
        variables=tuple(rows),
        output="" if header.get("output") is None else _flow(header["output"]),
    )


def _row(name: str, spec: Mapping[str, Any]) -> VariableRow:
    vtype = _text(spec.get("type") or "text")
    default = spec.get("default")
    if default is None:
        shown = ""
    elif default == "":
        shown = EMPTY_TEXT
    elif vtype in ("number", "examples") or not isinstance(default, str):
        shown = _flow(default)
    else:
        shown = default
    return VariableRow(
        name=name, type=vtype, default=shown, help=_text(spec.get("help")),
        choices=", ".join(str(c) for c in spec.get("choices") or ()),
        default_set=_text(spec.get("default_set")),
    )


# -- from fields to a source ------------------------------------------------------------------


def join_template(
    original: TemplateParts, fields: TemplateFields, body: str, template_id: str
) -> str:
    """The template source for edited fields and body, checked as the library will read it.
    Unchanged fields keep the header exactly as it was. Raises FieldError naming the field."""
    if fields == original.fields:
        header = original.header
    else:
        header = "{#---\n" + dump_yaml(header_of(fields, template_id), header=True) + "---#}\n"
    try:
        discover_variables(body, template_id)  # a syntax error counts lines of the body
    except TemplateError as exc:
        raise FieldError("body", str(exc)) from exc
    source = header + body
    try:
        parse_template(source, template_id)
    except TemplateError as exc:
        raise FieldError("body", str(exc)) from exc
    return source


def header_of(fields: TemplateFields, template_id: str) -> dict[str, Any]:
    """The header mapping the fields describe, each field checked on its own."""
    header: dict[str, Any] = {}
    for key in ("name", "technique", "task"):
        value = _one_line(key, getattr(fields, key))
        if value:
            header[key] = value
    description = fields.description.strip()
    _no_comment_end("description", description)
    if description:
        header["description"] = description
    if fields.format not in ("text", "chat"):
        raise FieldError("format", f"format must be text or chat, not {fields.format!r}")
    header["format"] = fields.format
    variables = _variables(fields.variables, template_id)
    if variables:
        header["variables"] = variables
    params = _params(fields.params)
    if params:
        header["params"] = params
    example_set = _one_line("example_set", fields.example_set)
    if example_set:
        header["example_set"] = example_set
    if fields.output:
        header["output"] = json.loads(fields.output)
    return header


def _one_line(field: str, text: str) -> str:
    value = text.strip()
    if "\n" in value:
        raise FieldError(field, f"{_LABELS[field]} must be one line")
    _no_comment_end(field, value)
    return value


_LABELS = {"name": "the name", "technique": "the technique", "task": "the task",
           "description": "the description", "example_set": "the example set",
           "params": "the settings", "variables": "a variable"}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _no_comment_end(field: str, value: Any, row: int | None = None) -> None:
    """The header lives in a Jinja comment: "#}" anywhere in it would end the comment."""
    if any("#}" in text for text in _strings(value)):
        where = _LABELS.get(field, field) if row is None else f"variable {row + 1}"
        raise FieldError(field, f"{where} cannot contain '#}}': it would end the header",
                         row)


def _params(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        params = load_yaml_strict("{" + text + "}", "the settings")
    except LibraryError as exc:
        raise FieldError("params", f"{exc} — write them as temperature: 0.7, max_tokens: 64") \
            from exc
    if not isinstance(params, dict):
        raise FieldError("params", "write the settings as temperature: 0.7, max_tokens: 64")
    _no_comment_end("params", params)
    try:
        SamplingParams.from_dict(params)
    except SamplingError as exc:
        raise FieldError("params", str(exc)) from exc
    return dict(params)


def _variables(rows: tuple[VariableRow, ...], template_id: str) -> dict[str, Any]:
    declared: dict[str, Any] = {}
    for index, row in enumerate(rows):
        if not any(getattr(row, c).strip() for c in VARIABLE_COLUMNS if c != "type"):
            continue  # an empty row added and never filled
        name = row.name.strip()
        where = f"variable {index + 1}"
        if not name.isidentifier():
            raise FieldError("variables", f"{where}: the name must be a word of letters, "
                             f"digits and _ (not starting with a digit), got {name!r}", index)
        if name in declared:
            raise FieldError("variables", f"{where}: {name!r} is declared twice", index)
        if row.type not in VARIABLE_TYPES:
            raise FieldError("variables", f"{where}: the type must be one of "
                             f"{', '.join(VARIABLE_TYPES)}, got {row.type!r}", index)
        spec: dict[str, Any] = {"type": row.type}
        choices = [c.strip() for c in row.choices.split(",") if c.strip()]
        if choices:
            spec["choices"] = choices
        default = _default(row, index)
        if default is not None:
            spec["default"] = default
        if row.default_set.strip():
            spec["default_set"] = row.default_set.strip()
        if row.help.strip():
            spec["help"] = row.help.strip()
        _no_comment_end("variables", spec, index)
        try:
            read_variable(template_id, name, spec)
        except TemplateError as exc:
            message = str(exc).removeprefix(f"{template_id}: ")
            raise FieldError("variables", f"{where}: {message}", index) from exc
        declared[name] = spec
    return declared


def _default(row: VariableRow, index: int) -> Any:
    text = row.default.strip() if row.type != "text" else row.default
    if not text:
        return None
    if text.strip() == EMPTY_TEXT:
        return ""
    if row.type in ("text", "choice"):
        return text
    try:
        value = load_yaml_strict(text, f"variable {index + 1}'s default")
    except LibraryError as exc:
        raise FieldError("variables", str(exc), index) from exc
    if row.type == "examples" and not isinstance(value, list):
        raise FieldError("variables", f"variable {index + 1}: the default of an examples "
                         "variable is a list, like [{input: ..., output: ...}]", index)
    return value
