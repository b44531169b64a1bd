"""Every prompt library the app knows: the built-in one and the ones the user imported.

The CLI and the GUI look templates, example sets and datasets up here, so that an imported
library is available everywhere the moment it is installed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from playground.errors import PlaygroundError, TemplateError
from playground.library import (
    Library,
    LibraryError,
    load_builtin_library,
    read_library,
    write_library,
)
from playground.models import APP_NAME
from playground.templates import PromptTemplate, is_partial

BUILTIN = "Built-in"


def libraries_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "libraries"


def _file_name(name: str) -> str:
    slug = re.sub(r"[^\w.-]+", "-", name.strip()).strip("-.") or "library"
    return f"{slug[:80]}.json"


def install(library: Library, folder: Path | None = None, *, replace: bool = False) -> Path:
    """Store a validated library for later sessions; refuses to overwrite unless asked."""
    if library.name.casefold() == BUILTIN.casefold():
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
    return Collection(tuple(libraries), tuple(problems))


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
