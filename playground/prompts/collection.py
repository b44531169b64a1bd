"""Every prompt library the app knows: the built-in one and the ones the user imported.

The CLI and the GUI look templates, example sets and datasets up here, so that an imported
library is available everywhere the moment it is installed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta

from playground import checked_schemas, paths
from playground.errors import PlaygroundError, TemplateError
from playground.prompts.formats import (
    MAX_LIBRARY_BYTES,
    LibraryError,
    load_yaml_strict,
    read_capped,
)
from playground.prompts.interop.llm import LlmImport, import_llm_template
from playground.prompts.library import (
    Dataset,
    ExampleSet,
    ImportReport,
    Library,
    Preset,
    export_library,
    import_library,
    load_builtin_library,
    read_library,
    write_library,
)
from playground.prompts.templates import PromptTemplate, environment, is_partial, parse_template
from playground.wording import plural

BUILTIN = "Built-in"
#: where copies and new items go when the person has no library of their own yet
DEFAULT_LIBRARY = "My library"


def libraries_dir() -> Path:
    return paths.libraries_dir()


def is_builtin_name(name: str) -> bool:
    """Whether a library of this name would pass for the built-in one (in any case)."""
    return name.casefold() == BUILTIN.casefold()


def file_stem(name: str) -> str:
    """A file name for a library of this name, safe on every OS."""
    slug = re.sub(r"[^\w.-]+", "-", name.strip()).strip("-.") or "library"
    return slug[:80]


def _file_name(name: str) -> str:
    return f"{file_stem(name)}.json"


def install(library: Library, folder: Path | None = None, *, replace: bool = False) -> Path:
    """Store a validated library for later sessions; refuses to overwrite unless asked."""
    if is_builtin_name(library.name):
        raise LibraryError(f"the name {BUILTIN!r} is reserved for the built-in library")
    folder = folder or libraries_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _file_name(library.name)
    if path.exists() and not replace:
        raise LibraryError(
            f"a library named {library.name!r} is already installed ({path}); "
            "use --replace to overwrite it"
        )
    write_library(library, path)
    return path


@dataclass(frozen=True)
class Collection:
    libraries: tuple[Library, ...]
    problems: tuple[str, ...] = ()

    def library(self, name: str) -> Library:
        for lib in self.libraries:
            if lib.name == name:
                return lib
        known = ", ".join(lib.name for lib in self.libraries)
        raise LibraryError(f"no library named {name!r} (known: {known})")

    def templates(self) -> list[tuple[Library, PromptTemplate]]:
        return [
            (lib, t) for lib in self.libraries for t in lib.templates if not is_partial(t)
        ]

    def find(self, template_id: str) -> tuple[Library, PromptTemplate]:
        """A template by id, or ``library/id`` where two libraries share an id."""
        lib_name, _, tid = template_id.rpartition("/")
        matches = [
            (lib, t)
            for lib, t in self.templates()
            if t.id == tid and (not lib_name or lib.name == lib_name)
        ]
        if len(matches) == 1:
            return matches[0]
        if matches:
            names = ", ".join(f"{lib.name}/{t.id}" for lib, t in matches)
            raise TemplateError(f"{template_id!r} is in several libraries: {names}")
        known = ", ".join(t.id for _, t in self.templates())
        raise TemplateError(f"no template named {template_id!r} (known: {known})")


def load_collection(folder: Path | None = None) -> Collection:
    """The built-in library first, then each installed one; a damaged file is reported and
    skipped rather than hiding every other library."""
    libraries = [load_builtin_library()]
    problems: list[str] = []
    folder = folder or libraries_dir()
    if folder.is_dir():
        for path in sorted([*folder.glob("*.json"), *folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                libraries.append(read_library(path).library)
            except PlaygroundError as exc:
                problems.append(f"{path.name}: {exc}")
    _remember_schemas(libraries)
    return Collection(tuple(libraries), tuple(problems))


def _remember_schemas(libraries: list[Library]) -> None:
    """Every output schema of these libraries passed the checker as they loaded: the next start
    need not import it to know that (:mod:`playground.checked_schemas`)."""
    schemas = (t.meta.output.schema() for lib in libraries for t in lib.templates
               if t.meta.output is not None and t.meta.output.kind == "json_schema")
    checked_schemas.remember(checked_schemas.schema_key(s) for s in schemas
                             if not isinstance(s, bool))


def template_values(
    library: Library,
    template: PromptTemplate,
    *,
    row: int | None = None,
    example_set: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Values for a template: a demo dataset row, its example set, then explicit values."""
    result: dict[str, Any] = {}
    if row is not None:
        dataset = next((d for d in library.datasets if d.task == template.meta.task), None)
        if dataset is None:
            raise PlaygroundError(f"no demo dataset for task {template.meta.task!r}")
        if not 1 <= row <= len(dataset.rows):
            raise PlaygroundError(f"row must be between 1 and {len(dataset.rows)}, got {row}")
        result.update({k: v for k, v in dataset.rows[row - 1].items() if k != "references"})
    for var in template.meta.variables:
        if var.type != "examples" or var.name in (values or {}):
            continue
        wanted = example_set or var.default_set or template.meta.example_set
        found = next((e for e in library.example_sets if e.name == wanted), None)
        if wanted and found is None:
            raise PlaygroundError(f"no example set named {wanted!r} in library {library.name!r}")
        if found is not None:
            result[var.name] = [dict(e) for e in found.examples]
    result.update(values or {})
    return result


# -- editing installed libraries --------------------------------------------------------------
#
# Libraries are frozen values: each edit below returns a new Library, which the caller saves
# with ``save_library``. Names are checked here so that the GUI and any other caller give the
# same message for a clash, before anything reaches the disk.

EntryKind = Literal["template", "example_set", "preset", "dataset"]
Entry = PromptTemplate | ExampleSet | Preset | Dataset
ENTRY_KINDS: tuple[EntryKind, ...] = ("template", "example_set", "preset", "dataset")
KIND_LABELS: dict[str, str] = {
    "library": "library",
    "template": "template",
    "example_set": "example set",
    "preset": "preset",
    "dataset": "dataset",
}
_SECTION: dict[EntryKind, str] = {
    "template": "templates",
    "example_set": "example_sets",
    "preset": "presets",
    "dataset": "datasets",
}
_NEW_TEMPLATE = """{{#---
name: {name}
description: ""
format: text
variables:
  text: {{type: text, help: The text to work on}}
---#}}
{{{{ text }}}}
"""


def entry_name(entry: Entry) -> str:
    """Templates are known by id, everything else by name."""
    return entry.id if isinstance(entry, PromptTemplate) else entry.name


def entries(library: Library, kind: EntryKind) -> tuple[Entry, ...]:
    result: tuple[Entry, ...] = getattr(library, _SECTION[kind])
    return result


def find_entry(library: Library, kind: EntryKind, name: str) -> Entry | None:
    return next((e for e in entries(library, kind) if entry_name(e) == name), None)


def entry_summary(entry: Entry) -> str:
    """One line that tells entries of a kind apart: a template's name and technique, how many
    examples or rows, the settings a preset changes."""
    if isinstance(entry, PromptTemplate):
        parts = [entry.meta.name]
        if entry.meta.technique:
            parts.append(entry.meta.technique)
        if is_partial(entry):
            parts.append("partial, included by other templates")
        return " · ".join(parts)
    if isinstance(entry, ExampleSet):
        return plural(len(entry.examples), "example") + (f" · {entry.task}" if entry.task else "")
    if isinstance(entry, Preset):
        return ", ".join(f"{k}={v}" for k, v in entry.params.items()) or "no settings"
    return plural(len(entry.rows), "row") + (f" · {entry.task}" if entry.task else "")


def target_library(collection: Collection, *preferred: str) -> Library:
    """Where a copy or a new item goes: the first of ``preferred`` that is a user library,
    else the first one installed, else a new :data:`DEFAULT_LIBRARY` (created when saved)."""
    users = [lib for lib in collection.libraries if lib.name != BUILTIN]
    for name in preferred:
        found = next((lib for lib in users if lib.name == name), None)
        if found is not None:
            return found
    return users[0] if users else Library(DEFAULT_LIBRARY, "")


def _with_entries(library: Library, kind: EntryKind, items: Sequence[Entry]) -> Library:
    changes: dict[str, Any] = {_SECTION[kind]: tuple(items)}
    return dataclasses.replace(library, **changes)


def _missing(library: Library, kind: EntryKind, name: str) -> LibraryError:
    return LibraryError(f"{library.name!r} has no {KIND_LABELS[kind]} named {name!r}")


def put_entry(
    library: Library, kind: EntryKind, entry: Entry, *, replacing: str | None = None
) -> Library:
    """The library with ``entry`` added at the end, or in place of the entry ``replacing``;
    refused when another entry of the kind already has its name (imports refuse that too)."""
    name = entry_name(entry)
    current = entries(library, kind)
    if replacing is not None and find_entry(library, kind, replacing) is None:
        raise _missing(library, kind, replacing)
    if any(entry_name(e) == name and entry_name(e) != replacing for e in current):
        raise LibraryError(
            f"{library.name!r} already has a {KIND_LABELS[kind]} named {name!r}; "
            "choose another name"
        )
    if replacing is None:
        return _with_entries(library, kind, [*current, entry])
    return _with_entries(
        library, kind, [entry if entry_name(e) == replacing else e for e in current]
    )


def remove_entry(library: Library, kind: EntryKind, name: str) -> Library:
    if find_entry(library, kind, name) is None:
        raise _missing(library, kind, name)
    kept = [e for e in entries(library, kind) if entry_name(e) != name]
    return _with_entries(library, kind, kept)


def _renamed(entry: Entry, name: str) -> Entry:
    if isinstance(entry, PromptTemplate):
        return parse_template(entry.source, name)
    return dataclasses.replace(entry, name=name)


def rename_entry(library: Library, kind: EntryKind, old: str, new: str) -> Library:
    """The entry under a new name, in the same place. Templates that include a renamed template
    by its old id are not rewritten: their include names what the author wrote."""
    new = new.strip()
    if not new:
        raise LibraryError(f"a {KIND_LABELS[kind]} needs a name")
    entry = find_entry(library, kind, old)
    if entry is None:
        raise _missing(library, kind, old)
    return put_entry(library, kind, _renamed(entry, new), replacing=old)


def new_entry(kind: EntryKind, name: str) -> Entry:
    """An empty entry to start from; a new template reads one text variable."""
    name = name.strip()
    if not name:
        raise LibraryError(f"a {KIND_LABELS[kind]} needs a name")
    if kind == "template":
        return parse_template(_NEW_TEMPLATE.format(name=json.dumps(name)), name)
    if kind == "example_set":
        return ExampleSet(name, "", ())
    if kind == "preset":
        return Preset(name, {})
    return Dataset(name, "", ())


def free_name(kind: EntryKind, base: str, taken: Iterable[str]) -> str:
    """``base`` when unused, else ``base-copy``, ``base-copy-2``... (template ids cannot hold
    spaces; other names read better with them)."""
    used = set(taken)
    if base not in used:
        return base
    sep = "-" if kind == "template" else " "
    candidate = f"{base}{sep}copy"
    number = 2
    while candidate in used:
        candidate = f"{base}{sep}copy{sep}{number}"
        number += 1
    return candidate


def template_dependencies(
    library: Library, template: PromptTemplate
) -> tuple[list[PromptTemplate], list[ExampleSet]]:
    """The templates it includes (transitively) and the example sets it names: what a copy in
    another library needs to render the same way."""
    included: dict[str, PromptTemplate] = {}
    pending = [template]
    while pending:
        current = pending.pop()
        try:
            ast = environment().parse(current.source)
        except jinja2.TemplateSyntaxError:
            continue
        for ref in jinja2.meta.find_referenced_templates(ast):
            if ref is None:
                continue
            key = ref.removesuffix(".j2").removesuffix(".jinja")
            found = library.template(key)
            if found is not None and key not in included and key != template.id:
                included[key] = found
                pending.append(found)
    wanted = {v.default_set for v in template.meta.variables if v.default_set}
    if template.meta.example_set:
        wanted.add(template.meta.example_set)
    sets = [s for s in library.example_sets if s.name in wanted]
    return list(included.values()), sets


def copy_entry(
    source: Library, kind: EntryKind, name: str, target: Library
) -> tuple[Library, str]:
    """Copy an entry into ``target`` under a free name; a template brings along the partials
    and example sets it uses that ``target`` lacks. Returns the new target and the copy's name."""
    entry = find_entry(source, kind, name)
    if entry is None:
        raise _missing(source, kind, name)
    copy_name = free_name(kind, name, (entry_name(e) for e in entries(target, kind)))
    result = put_entry(target, kind, _renamed(entry, copy_name) if copy_name != name else entry)
    if isinstance(entry, PromptTemplate) and source is not target:
        partials, sets = template_dependencies(source, entry)
        for partial in partials:
            if result.template(partial.id) is None:
                result = put_entry(result, "template", partial)
        for example_set in sets:
            if result.example_set(example_set.name) is None:
                result = put_entry(result, "example_set", example_set)
    return result, copy_name


def validate_library(library: Library) -> Library:
    """The library as it would be read back: written and imported again in memory, so that a
    saved library always loads (an invalid one would otherwise be skipped as damaged)."""
    try:
        text = export_library(library, "json")
        return import_library(text, "json", filename=library.name).library
    except LibraryError as exc:
        failed = [r.message for r in exc.report if r.status == "error"]
        details = "\n".join(f"- {m}" for m in failed) if failed else str(exc)
        raise LibraryError(f"{library.name!r} was not saved:\n{details}", exc.report) from exc


# -- installed files --------------------------------------------------------------------------


def library_path(name: str, folder: Path | None = None) -> Path:
    """Where ``install`` stores a library of this name."""
    return (folder or libraries_dir()) / _file_name(name)


def _document_name(path: Path) -> str | None:
    """The name inside a library file, read without validating the rest (cheap enough to
    look through a folder)."""
    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_LIBRARY_BYTES + 1).decode("utf-8-sig")
        doc = json.loads(text) if path.suffix.lower() == ".json" else load_yaml_strict(
            text, path.name
        )
    except (OSError, UnicodeDecodeError, ValueError, PlaygroundError, RecursionError):
        return None
    name = doc.get("name") if isinstance(doc, dict) else None
    return name if isinstance(name, str) else None


def library_file(name: str, folder: Path | None = None) -> Path | None:
    """The installed file holding the library ``name``, wherever it is in the folder (a file
    copied in by hand keeps its own file name)."""
    folder = folder or libraries_dir()
    usual = library_path(name, folder)
    if usual.is_file() and _document_name(usual) == name:
        return usual
    if not folder.is_dir():
        return None
    for path in sorted([*folder.glob("*.json"), *folder.glob("*.yaml"), *folder.glob("*.yml")]):
        if path != usual and _document_name(path) == name:
            return path
    return None


def save_library(library: Library, folder: Path | None = None) -> Path:
    """Store an edited library over its installed file (keeping that file's format), or as a
    new one; refuses the built-in name and never overwrites another library's file."""
    if is_builtin_name(library.name):
        raise LibraryError(f"the {BUILTIN} library is read-only; copy items into your own")
    checked = validate_library(library)
    folder = folder or libraries_dir()
    path = library_file(library.name, folder)
    if path is None:
        path = library_path(library.name, folder)
        if path.exists():
            raise LibraryError(
                f"cannot save {library.name!r}: its file name {path.name} is used by another "
                "library; choose another name"
            )
        folder.mkdir(parents=True, exist_ok=True)
    write_library(checked, path)
    return path


def create_library(name: str, folder: Path | None = None, description: str = "") -> Library:
    """A new empty library, installed; refused when the name is taken or reserved."""
    name = name.strip()
    if not name:
        raise LibraryError("a library needs a name")
    if is_builtin_name(name):
        raise LibraryError(f"the name {BUILTIN!r} is reserved for the built-in library")
    if library_file(name, folder) is not None or library_path(name, folder).exists():
        raise LibraryError(f"a library named {name!r} is already installed; choose another name")
    library = Library(name, description)
    install(validate_library(library), folder)
    return library


def uninstall(name: str, folder: Path | None = None) -> Path:
    """Remove an installed library's file; returns the path removed."""
    if is_builtin_name(name):
        raise LibraryError(f"the {BUILTIN} library cannot be removed")
    path = library_file(name, folder)
    if path is None:
        raise LibraryError(f"no installed library named {name!r}")
    try:
        path.unlink()
    except OSError as exc:
        raise LibraryError(f"{path.name}: cannot remove the file ({exc.strerror})") from exc
    return path


def read_import(path: Path) -> ImportReport | LlmImport:
    """A file to import: a Prompt Playground library (JSON or YAML), or an llm template (YAML
    without a library ``schema``, holding ``prompt`` or ``system``). Raises LibraryError, with
    the per-item report when the file could be parsed."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise LibraryError(f"{path.name}: choose a .json, .yaml or .yml file")
    if suffix == ".json":
        return read_library(path)
    data = read_capped(path)
    if _is_llm_template(data, path.name):
        return import_llm_template(data.decode("utf-8-sig"), path.stem)
    return import_library(data, "yaml", filename=path.name)


def _is_llm_template(data: bytes, where: str) -> bool:
    try:
        doc = load_yaml_strict(data.decode("utf-8-sig"), where)
    except (UnicodeDecodeError, PlaygroundError, RecursionError):
        return False  # the library import gives the readable reason
    if isinstance(doc, str):
        return True
    return isinstance(doc, dict) and "schema" not in doc and ("prompt" in doc or "system" in doc)
