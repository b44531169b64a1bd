"""Prompt libraries: templates, example sets, sampling presets and datasets, shared as one file.

Importing is all-or-nothing: every item of the document is validated, each with its own
verdict in the report, before anything is returned, so a caller never sees half a library.
Exporting writes the items back in schema order, so export -> import -> export gives the same
bytes. How the bytes are read and written (strict YAML and JSON) is ``formats``' job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.errors import PlaygroundError, SamplingError
from playground.prompts.formats import (
    SCHEMA,
    SCHEMA_VERSION,
    ItemKind,
    ItemReport,
    LibraryError,
    LibraryFormat,
    check_document,
    decode,
    describe,
    expected_text,
    format_for,
    join_path,
    parse_document,
    read_capped,
    short,
    suffix_format,
    write_atomically,
    write_document,
)
from playground.prompts.templates import (
    BUILTIN_DIR,
    PromptTemplate,
    parse_template,
)
from playground.sampling import SamplingParams
from playground.wording import plural

MAX_NAME_CHARS = 200
TEMPLATE_ID = re.compile(r"\w[\w.-]{0,127}\Z")
_MESSAGE_CHARS = 500


# -- the data model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleSet:
    """Worked examples for few-shot templates; each is ``input``, ``output`` and optionally
    ``rationale`` (the reasoning shown by chain-of-thought templates)."""

    name: str
    task: str
    examples: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Preset:
    """Named sampling settings. Only the settings that matter are stored, so a preset applied to
    other settings changes just those."""

    name: str
    params: dict[str, Any]

    def __post_init__(self) -> None:
        SamplingParams.from_dict(self.params)  # raises SamplingError naming the bad setting

    def sampling(self, base: SamplingParams | None = None) -> SamplingParams:
        start = (base or SamplingParams()).to_dict()
        return SamplingParams.from_dict({**start, **self.params})


@dataclass(frozen=True)
class Dataset:
    """Rows to evaluate templates on: string variables plus ``references`` (a list of the
    acceptable answers, which metrics compare the output with)."""

    name: str
    task: str
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Library:
    name: str
    description: str
    templates: tuple[PromptTemplate, ...] = ()
    example_sets: tuple[ExampleSet, ...] = ()
    presets: tuple[Preset, ...] = ()
    datasets: tuple[Dataset, ...] = ()

    def template(self, template_id: str) -> PromptTemplate | None:
        return next((t for t in self.templates if t.id == template_id), None)

    def example_set(self, name: str) -> ExampleSet | None:
        return next((s for s in self.example_sets if s.name == name), None)

    def preset(self, name: str) -> Preset | None:
        return next((p for p in self.presets if p.name == name), None)

    def dataset(self, name: str) -> Dataset | None:
        return next((d for d in self.datasets if d.name == name), None)

    def sources(self) -> dict[str, str]:
        """Template sources by id: what ``render_template(library=...)`` needs for includes."""
        return {t.id: t.source for t in self.templates}


@dataclass(frozen=True)
class ImportReport:
    library: Library
    items: tuple[ItemReport, ...]
    format: LibraryFormat


BUILTIN_PRESETS: tuple[Preset, ...] = (
    Preset("greedy", {"temperature": 0}),
    Preset("balanced", {"temperature": 0.7, "top_p": 0.9}),
    Preset("creative", {"temperature": 1.1, "top_p": 0.95}),
)


# -- validation -------------------------------------------------------------------------------


class _Item:
    """Field access for one item of the document that records every problem with its path,
    so that a report shows all of them at once."""

    def __init__(self, raw: Any, path: str, fields: str) -> None:
        self.path = path
        self.errors: list[str] = []
        self.data: dict[str, Any] = {}
        if isinstance(raw, dict):
            self.data = raw
        else:
            self.error(path, f"expected a mapping with {fields}, got {describe(raw)}")

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def only(self, *allowed: str) -> None:
        unknown = [k for k in self.data if k not in allowed]
        if unknown:
            names = ", ".join(short(k, 40) for k in unknown[:5])
            self.error(self.path, f"unknown field(s) {names}; allowed: {', '.join(allowed)}")

    def text(self, key: str, *, required: bool = True, name: bool = False) -> str:
        where = join_path(self.path, key)
        if key not in self.data:
            if required:
                self.error(self.path, f"{key!r} is missing")
            return ""
        value = self.data[key]
        if not isinstance(value, str):
            self.error(where, expected_text(value))
            return ""
        if name:
            if not value.strip():
                self.error(where, "cannot be empty")
            elif "\n" in value or "\r" in value:
                self.error(where, "must be a single line")
            elif len(value) > MAX_NAME_CHARS:
                self.error(where, f"is longer than {MAX_NAME_CHARS} characters")
        return value

    def items(self, key: str, *, required: bool = True) -> list[Any]:
        if key not in self.data:
            if required:
                self.error(self.path, f"{key!r} is missing")
            return []
        value = self.data[key]
        if not isinstance(value, list):
            self.error(join_path(self.path, key), f"expected a list, got {describe(value)}")
            return []
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        if key not in self.data:
            self.error(self.path, f"{key!r} is missing")
            return {}
        value = self.data[key]
        if not isinstance(value, dict):
            self.error(join_path(self.path, key), f"expected a mapping, got {describe(value)}")
            return {}
        return value

    def report(self, kind: ItemKind, name: str, ok_message: str) -> ItemReport:
        label = _clip(name or self.path, 100)
        if self.errors:
            shown = [_clip(e, _MESSAGE_CHARS) for e in self.errors[:5]]
            if len(self.errors) > 5:
                shown.append(f"and {len(self.errors) - 5} more")
            return ItemReport(kind, label, "error", "; ".join(shown))
        return ItemReport(kind, label, "ok", ok_message)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _template_item(raw: Any, path: str) -> tuple[ItemReport, PromptTemplate | None]:
    item = _Item(raw, path, "'id' and 'source'")
    item.only("id", "source")
    template_id = item.text("id")
    source = item.text("source")
    if template_id and not TEMPLATE_ID.match(template_id):
        item.error(
            join_path(path, "id"),
            f"{short(template_id)} is not a usable id: use letters, digits, '_', '-' and '.' "
            "(128 at most), starting with a letter, digit or '_'",
        )
    template = None
    if item.ok:
        # The header is read by the same strict loader as the file (no aliases, bounded depth).
        try:
            template = parse_template(source, template_id)
        except PlaygroundError as exc:
            item.error(path, str(exc))
        except RecursionError:
            item.error(path, f"{template_id}: the template is nested too deeply to compile")
        except Exception as exc:  # a validator must report, never crash, on hostile input
            item.error(path, f"{template_id}: cannot be read ({type(exc).__name__}: {exc})")
    name = template_id if TEMPLATE_ID.match(template_id) else ""
    ok = f"{template.meta.name} ({template.meta.format})" if template else ""
    return item.report("template", name, ok), template


def _example_set_item(raw: Any, path: str) -> tuple[ItemReport, ExampleSet | None]:
    item = _Item(raw, path, "'name', 'task' and 'examples'")
    item.only("name", "task", "examples")
    name = item.text("name", name=True)
    task = item.text("task", required=False)
    examples = []
    for index, raw_example in enumerate(item.items("examples")):
        where = join_path(join_path(path, "examples"), index)
        example = _Item(raw_example, where, "'input' and 'output'")
        example.only("input", "output", "rationale")
        value = {"input": example.text("input"), "output": example.text("output")}
        if "rationale" in example.data:
            value["rationale"] = example.text("rationale")
        item.errors.extend(example.errors)
        examples.append(value)
    result = ExampleSet(name, task, tuple(examples)) if item.ok else None
    return item.report("example_set", name, f"{len(examples)} examples"), result


def _preset_item(raw: Any, path: str) -> tuple[ItemReport, Preset | None]:
    item = _Item(raw, path, "'name' and 'params'")
    item.only("name", "params")
    name = item.text("name", name=True)
    params = item.mapping("params")
    stop = params.get("stop")
    if stop is not None and not isinstance(stop, (str, list)):
        item.error(join_path(join_path(path, "params"), "stop"), "expected a list of text")
    preset = None
    if item.ok:
        try:
            preset = Preset(name, dict(params))
        except SamplingError as exc:
            item.error(join_path(path, "params"), str(exc))
    summary = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return item.report("preset", name, summary), preset


def _dataset_item(raw: Any, path: str) -> tuple[ItemReport, Dataset | None]:
    item = _Item(raw, path, "'name', 'task' and 'rows'")
    item.only("name", "task", "rows")
    name = item.text("name", name=True)
    task = item.text("task", required=False)
    rows = [_dataset_row(item, raw_row, join_path(join_path(path, "rows"), i))
            for i, raw_row in enumerate(item.items("rows"))]
    result = Dataset(name, task, tuple(rows)) if item.ok else None
    return item.report("dataset", name, plural(len(rows), "row")), result


def _dataset_row(item: _Item, raw: Any, path: str) -> dict[str, Any]:
    row = _Item(raw, path, "variables and 'references'")
    values: dict[str, Any] = {}
    for key in row.data:
        if key == "references":
            continue
        if not key:
            row.error(path, "a variable name cannot be empty")
        values[key] = row.text(key)
    references = []
    for index, ref in enumerate(row.items("references", required=False)):
        if isinstance(ref, str):
            references.append(ref)
        else:
            row.error(join_path(join_path(path, "references"), index), expected_text(ref))
    item.errors.extend(row.errors)
    values["references"] = references
    return values


_Check = Callable[[Any, str], tuple[ItemReport, object]]
_SECTIONS: tuple[tuple[str, ItemKind, _Check, str], ...] = (
    ("templates", "template", _template_item, "template id"),
    ("example_sets", "example_set", _example_set_item, "example set"),
    ("presets", "preset", _preset_item, "preset"),
    ("datasets", "dataset", _dataset_item, "dataset"),
)



def _library_from_document(doc: Any, where: str, fmt: LibraryFormat) -> ImportReport:
    top = _Item(check_document(doc, where), "", "")
    top.path = "library"
    top.only("schema", "version", "name", "description", *(s[0] for s in _SECTIONS))
    lib_name = top.text("name", name=True)
    description = top.text("description", required=False)
    sections = {key: top.items(key, required=False) for key, *_ in _SECTIONS}
    report = [top.report("library", lib_name or where, "")]

    built: dict[str, list[Any]] = {}
    for key, kind, check, label in _SECTIONS:
        seen: dict[str, str] = {}
        built[key] = []
        for index, raw in enumerate(sections[key]):
            path = join_path(key, index)
            entry, value = check(raw, path)
            if value is not None:
                ident = _identity(value)
                if ident in seen:
                    entry = ItemReport(
                        kind, entry.name, "error",
                        f"{path}: another {label} is already called {short(ident)} "
                        f"({seen[ident]})",
                    )
                    value = None
                else:
                    seen[ident] = path
            report.append(entry)
            built[key].append(value)

    failed = [r for r in report if r.status == "error"]
    if failed:
        lines = [r.message for r in failed[:5]]
        summary = (
            f"{where}: nothing was imported: {len(failed)} of {len(report)} items "
            f"{'has an error' if len(failed) == 1 else 'have errors'}"
        )
        raise LibraryError(
            "\n".join([summary] + [f"- {m}" for m in lines]
                      + ([f"- and {len(failed) - 5} more"] if len(failed) > 5 else [])),
            report,
        )
    library = Library(
        name=lib_name,
        description=description,
        templates=tuple(built["templates"]),
        example_sets=tuple(built["example_sets"]),
        presets=tuple(built["presets"]),
        datasets=tuple(built["datasets"]),
    )
    return ImportReport(library, tuple(report), fmt)


def _identity(value: object) -> str:
    if isinstance(value, PromptTemplate):
        return value.id
    if isinstance(value, (ExampleSet, Preset, Dataset)):
        return value.name
    raise TypeError(type(value).__name__)


# -- export and import ------------------------------------------------------------------------


def library_document(lib: Library) -> dict[str, Any]:
    """The versioned document, keys in schema order (the order is part of the byte-for-byte
    round trip)."""
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "name": lib.name,
        "description": lib.description,
        "templates": [{"id": t.id, "source": t.source} for t in lib.templates],
        "example_sets": [
            {"name": s.name, "task": s.task, "examples": [_example_doc(e) for e in s.examples]}
            for s in lib.example_sets
        ],
        "presets": [
            {"name": p.name, "params": {k: _plain(v) for k, v in p.params.items()}}
            for p in lib.presets
        ],
        "datasets": [
            {"name": d.name, "task": d.task, "rows": [_row_doc(r) for r in d.rows]}
            for d in lib.datasets
        ],
    }


def _example_doc(example: Mapping[str, str]) -> dict[str, str]:
    doc = {"input": example["input"], "output": example["output"]}
    if "rationale" in example:
        doc["rationale"] = example["rationale"]
    return doc


def _row_doc(row: Mapping[str, Any]) -> dict[str, Any]:
    doc = {k: v for k, v in row.items() if k != "references"}
    doc["references"] = list(row.get("references") or [])
    return doc


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def export_library(lib: Library, fmt: LibraryFormat) -> str:
    return write_document(library_document(lib), fmt)


def import_library(
    text: str | bytes, fmt: LibraryFormat | None = None, *, filename: str = "library"
) -> ImportReport:
    """Validate a whole library document; raises LibraryError (with ``report``) unless every
    item is valid, so a caller never sees half a library."""
    decoded = decode(text, filename)
    chosen = format_for(filename, fmt, decoded)
    doc = parse_document(decoded, chosen, filename)
    return _library_from_document(doc, filename, chosen)


def write_library(lib: Library, path: Path) -> None:
    """In the format the file name says, replacing the file only once it is written whole."""
    write_atomically(path, export_library(lib, suffix_format(path)))


def read_library(path: Path) -> ImportReport:
    fmt = suffix_format(path)
    return import_library(read_capped(path), fmt, filename=path.name)


# -- the built-in library ---------------------------------------------------------------------


def load_builtin_library(folder: Path = BUILTIN_DIR) -> Library:
    """Everything shipped in ``templates/``: ``*.j2`` templates (``_`` ids are partials, kept
    because other templates include them), ``examples/*.json`` example sets and
    ``datasets/*.jsonl`` datasets (named after their task), plus the built-in presets.

    It goes through the same validation as an imported file, so the built-in library is always
    one that could be exported and imported again.
    """
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "name": "Built-in",
        "description": "The templates, example sets, datasets and presets shipped with "
        "Prompt Playground.",
        "templates": [
            {"id": path.stem, "source": _read_text(path, folder)}
            for path in sorted(folder.glob("*.j2"))
        ],
        "example_sets": [
            parse_document(_read_text(path, folder), "json", _relative(path, folder))
            for path in sorted((folder / "examples").glob("*.json"))
        ],
        "presets": [{"name": p.name, "params": dict(p.params)} for p in BUILTIN_PRESETS],
        "datasets": [
            {"name": path.stem, "task": path.stem, "rows": _read_jsonl(path, folder)}
            for path in sorted((folder / "datasets").glob("*.jsonl"))
        ],
    }
    return _library_from_document(doc, "built-in library", "json").library


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _read_text(path: Path, folder: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LibraryError(f"{_relative(path, folder)}: cannot read ({exc.strerror})") from exc
    return decode(data, _relative(path, folder))


def _read_jsonl(path: Path, folder: Path) -> list[Any]:
    rows = []
    for number, line in enumerate(_read_text(path, folder).splitlines(), start=1):
        if line.strip():
            rows.append(parse_document(line, "json", f"{_relative(path, folder)} line {number}"))
    return rows

