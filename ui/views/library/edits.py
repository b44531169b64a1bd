"""Changes to the person's own libraries: new, duplicate, rename, delete, save.

The built-in library is read-only, so that it always matches the app; Duplicate copies a
built-in item into a library of the person's own. Every change is made and checked by the core
(``collection``) before it is written, so a saved library always loads again; a refusal is the
core's message, shown under the tree.
"""

from __future__ import annotations

from collections.abc import Callable

from playground.errors import PlaygroundError
from playground.prompts.collection import (
    BUILTIN,
    DEFAULT_LIBRARY,
    ENTRY_KINDS,
    KIND_LABELS,
    EntryKind,
    copy_entry,
    create_library,
    entries,
    entry_name,
    free_name,
    new_entry,
    put_entry,
    remove_entry,
    rename_entry,
    uninstall,
)
from playground.wording import plural
from ui.views.library.browser import LibraryBrowser
from ui.views.library.changes import LibraryChanges
from ui.views.library.item_editor import ItemEditor
from ui.views.library.questions import Questions


class LibraryEdits:
    def __init__(
        self, changes: LibraryChanges, browser: LibraryBrowser, item: ItemEditor,
        questions: Questions,
    ) -> None:
        self.changes = changes
        self.browser = browser
        self.item = item
        self.questions = questions

    def guard(self, step: Callable[[], None], *, leaving: bool = True) -> None:
        """Run an edit once the previous change is written and unsaved edits may go; the
        core's refusal becomes the message under the tree."""
        if self.changes.busy:
            self.changes.failed.emit("Wait for the previous change to be saved.")
            return
        if leaving and not self.item.may_leave(self.questions.confirm):
            return
        try:
            step()
        except PlaygroundError as exc:
            self.changes.failed.emit(str(exc))
        except RecursionError:
            self.changes.failed.emit("the template is nested too deeply to compile")

    def new_library(self) -> None:
        suggestion = DEFAULT_LIBRARY if self.changes.library(DEFAULT_LIBRARY) is None else ""
        name = self.questions.ask_name("New Library", "Name of the new library:", suggestion)
        if name is None:
            return
        folder = self.changes.context.libraries_dir
        self.guard(lambda: self.changes.run_change(
            lambda: create_library(name, folder), (name, "library", ""),
            f"Created the library {name!r}.",
        ))

    def new_item(self, kind: EntryKind) -> None:
        target = self.changes.target(self.browser.selected_key())
        label = KIND_LABELS[kind]
        base = "new-template" if kind == "template" else f"new {label}"
        suggestion = free_name(kind, base, (entry_name(e) for e in entries(target, kind)))
        name = self.questions.ask_name(f"New {label.capitalize()}",
                                       f"Name of the new {label} in {target.name!r}:",
                                       suggestion)
        if name is None:
            return

        def step() -> None:
            library = put_entry(target, kind, new_entry(kind, name))
            self.changes.save(library, (target.name, kind, name),
                              f"Added the {label} {name!r} to {target.name!r}.")

        self.guard(step)

    def duplicate(self) -> None:
        key = self.browser.selected_key()
        found = self.changes.entry(key) if key else None
        if found is None:
            self.changes.failed.emit(
                "Choose a template, example set, preset or dataset to duplicate.")
            return
        source, kind, entry = found
        target = source if source.name != BUILTIN else self.changes.target(key)

        def step() -> None:
            library, name = copy_entry(source, kind, entry_name(entry), target)
            self.changes.save(library, (target.name, kind, name),
                              f"Copied the {KIND_LABELS[kind]} {entry_name(entry)!r} to "
                              f"{target.name!r} as {name!r}.")

        self.guard(step)

    def rename(self) -> None:
        key = self.browser.selected_key()
        found = self.changes.entry(key) if key else None
        if found is None or found[0].name == BUILTIN:
            self.changes.failed.emit("Choose an item of your own library to rename.")
            return
        library, kind, entry = found
        old = entry_name(entry)
        label = KIND_LABELS[kind]
        new = self.questions.ask_name(f"Rename {label.capitalize()}",
                                      f"New name for the {label} {old!r}:", old)
        if new is None or new == old:
            return

        def step() -> None:
            changed = rename_entry(library, kind, old, new)
            self.changes.save(changed, (library.name, kind, new.strip()),
                              f"Renamed the {label} {old!r} to {new.strip()!r}.")

        self.guard(step)

    def delete(self) -> None:
        key = self.browser.selected_key()
        if key is None or key[0] == BUILTIN:
            self.changes.failed.emit("The built-in library is read-only.")
            return
        if key[1] == "library":
            self._delete_library(key[0])
            return
        found = self.changes.entry(key)
        if found is None:
            self.changes.failed.emit("Choose an item or a library of your own to delete.")
            return
        library, kind, entry = found
        name = entry_name(entry)
        label = KIND_LABELS[kind]
        if not self.questions.confirm(f"Delete the {label} {name!r} from {library.name!r}? "
                                      "This cannot be undone."):
            return

        def step() -> None:
            changed = remove_entry(library, kind, name)
            self.changes.save(changed, (library.name, "group", kind),
                              f"Deleted the {label} {name!r} from {library.name!r}.")

        self.guard(step)

    def _delete_library(self, name: str) -> None:
        library = self.changes.library(name)
        count = sum(len(entries(library, k)) for k in ENTRY_KINDS) if library else 0
        if not self.questions.confirm(f"Remove the library {name!r} and the "
                                      f"{plural(count, 'item')} in it? This cannot be undone."):
            return
        folder = self.changes.context.libraries_dir
        self.guard(lambda: self.changes.run_change(
            lambda: uninstall(name, folder), (BUILTIN, "library", ""),
            f"Removed the library {name!r}.",
        ))

    def save_edit(self) -> None:
        """Save the shown template or table; when it is not valid, nothing is written and the
        reason is shown."""
        key = self.item.shown
        found = self.changes.entry(key) if key else None
        if found is None or found[0].name == BUILTIN:
            return
        library, kind, entry = found
        name = entry_name(entry)

        def step() -> None:
            updated = put_entry(library, kind, self.item.edited_entry(entry), replacing=name)
            self.changes.save(updated, (library.name, kind, name),
                              f"Saved the {KIND_LABELS[kind]} {name!r} in {library.name!r}.")

        self.guard(step, leaving=False)
