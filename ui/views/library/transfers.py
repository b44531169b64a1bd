"""Libraries in and out of the app: importing a file (a library or an llm template) with its
per-item report, exporting a library byte for byte, and a promptfoo configuration.

Reading and checking a file is the core's (``collection.read_import``); the file is read off
the GUI thread, and installed only when every item is valid and the person agrees to any name
it takes over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from playground.errors import PlaygroundError
from playground.prompts.collection import (
    BUILTIN,
    file_stem,
    is_builtin_name,
    put_entry,
    read_import,
)
from playground.prompts.formats import ItemReport, LibraryError, export_path
from playground.prompts.interop.llm import LlmImport
from playground.prompts.interop.promptfoo import config_path, export_promptfoo, library_for_export
from playground.prompts.library import ImportReport, Library, write_library
from ui.views.library.browser import LibraryBrowser
from ui.views.library.changes import LibraryChanges
from ui.views.library.import_report import ImportReportDialog, whole_file_row
from ui.views.library.item_editor import contents
from ui.views.library.promptfoo_dialog import PromptfooDialog
from ui.views.library.questions import Questions

_LIBRARY_FILTERS = "JSON library (*.json);;YAML library (*.yaml *.yml)"


@dataclasses.dataclass(frozen=True)
class _Refused:
    """An import the core refused, with the per-item report when the file could be parsed."""

    message: str
    report: tuple[ItemReport, ...]


def _read_job(path: Path) -> Iterator[ImportReport | LlmImport | _Refused]:
    try:
        yield read_import(path)
    except LibraryError as exc:
        yield _Refused(str(exc), exc.report)


def _write_job(path: Path, produce: Callable[[], str]) -> Iterator[Path]:
    text = produce()
    path.write_text(text, encoding="utf-8")
    yield path


class LibraryTransfers(QObject):
    #: an import ended: True when something was installed; the report dialog is open
    import_finished = Signal(bool)
    #: a file was written by an export
    exported = Signal(str)

    def __init__(
        self, changes: LibraryChanges, browser: LibraryBrowser, may_leave: Callable[[], bool],
        questions: Questions, window: QWidget,
    ) -> None:
        super().__init__(window)
        self.changes = changes
        self.browser = browser
        self.may_leave = may_leave
        self.questions = questions
        self.window = window
        self.report_dialog: ImportReportDialog | None = None
        self.promptfoo_dialog: PromptfooDialog | None = None

    def _selected_library(self) -> Library | None:
        key = self.browser.selected_key()
        return self.changes.library(key[0]) if key else None

    # -- import -------------------------------------------------------------------------------

    def choose_import(self) -> None:
        path = self.questions.choose_open_path()
        if path:
            self.questions.remember_dir(path)
            self.import_file(path)

    def import_file(self, path: str) -> None:
        """Read and check a library file or llm template off the GUI thread, then install it
        and show the per-item report."""
        if self.changes.busy:
            self.changes.failed.emit("Wait for the previous change to be saved.")
            return
        if not self.may_leave():
            return
        file = Path(path)
        self.changes.informed.emit(f"Reading {file.name}…")
        self.changes.start(_read_job, file, on_event=lambda r: self._read_done(file, r),
                           on_error=lambda message: self._refuse(file, message, ()))

    def _read_done(self, file: Path, result: ImportReport | LlmImport | _Refused) -> None:
        if isinstance(result, _Refused):
            self._refuse(file, result.message, result.report)
        elif isinstance(result, LlmImport):
            self._install_llm(file, result)
        else:
            self._install_library(file, result)

    def _show_report(
        self, file: Path, summary: str, rows: Sequence[ItemReport], accepted: bool
    ) -> None:
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.report_dialog = ImportReportDialog(f"Import of {file.name}", summary, rows,
                                                accepted=accepted, parent=self.window)
        self.report_dialog.show()
        self.import_finished.emit(accepted)

    def _refuse(self, file: Path, message: str, report: Sequence[ItemReport]) -> None:
        rows = list(report) or [whole_file_row(file.name, message)]
        first = message.splitlines()[0] if message else "the file was refused"
        if "nothing was imported" not in first:
            first = f"Nothing was imported from {file.name}: {first}"
        self.changes.failed.emit(message if "nothing was imported" in message else first)
        self._show_report(file, first, rows, False)

    def _install_library(self, file: Path, report: ImportReport) -> None:
        library = report.library
        if is_builtin_name(library.name):
            new_name = self.questions.ask_name(
                "Import Library",
                f"{BUILTIN!r} is the name of the library shipped with the app. "
                "Import this one as:",
                f"{BUILTIN} copy",
            )
            if new_name is None:
                self._not_installed(file, report, "the name is reserved and no other was chosen")
                return
            library = dataclasses.replace(library, name=new_name)
        rows = [r if r.kind != "library" else r._replace(name=library.name) for r in report.items]
        if self.changes.library(library.name) is not None and not self.questions.ask_replace(
            f"A library named {library.name!r} is already installed. Replace it with the "
            f"one in {file.name}?"
        ):
            self._not_installed(file, report, f"you kept the installed {library.name!r}")
            return
        summary = f"Imported the library {library.name!r} from {file.name}: {contents(library)}."
        self.changes.save(library, (library.name, "library", ""), summary,
                          then=lambda: self._show_report(file, summary, rows, True),
                          on_error=lambda message: self._refuse(file, message, ()))

    def _not_installed(self, file: Path, report: ImportReport, why: str) -> None:
        summary = f"Nothing was installed from {file.name}: {why}. The file itself is valid."
        self.changes.failed.emit(summary)
        self._show_report(file, summary, report.items, False)

    def _install_llm(self, file: Path, converted: LlmImport) -> None:
        template = converted.template
        target = self.changes.target(self.browser.selected_key())
        replacing = template.id if target.template(template.id) is not None else None
        rows = [ItemReport("template", template.id, "ok",
                           f"{template.meta.name} ({template.meta.format}), converted from an "
                           f"llm template into {target.name!r}")]
        rows += [ItemReport("template", template.id, "ok", f"note: {w}")
                 for w in converted.warnings]
        if replacing and not self.questions.ask_replace(
            f"{target.name!r} already has a template {template.id!r}. Replace it with the one "
            f"converted from {file.name}?"
        ):
            summary = (f"Nothing was installed from {file.name}: you kept the template "
                       f"{template.id!r} in {target.name!r}.")
            self.changes.failed.emit(summary)
            self._show_report(file, summary, rows, False)
            return
        try:
            library = put_entry(target, "template", template, replacing=replacing)
        except PlaygroundError as exc:
            self._refuse(file, str(exc), ())
            return
        notes = f" with {len(converted.warnings)} note(s)" if converted.warnings else ""
        summary = (f"Imported the llm template {file.name} as {template.id!r} into "
                   f"{target.name!r}{notes}.")
        self.changes.save(library, (target.name, "template", template.id), summary,
                          then=lambda: self._show_report(file, summary, rows, True),
                          on_error=lambda message: self._refuse(file, message, ()))

    # -- export -------------------------------------------------------------------------------

    def choose_export(self) -> None:
        library = self._selected_library()
        if library is None:
            self.changes.failed.emit("Choose a library to export.")
            return
        path, chosen = self.questions.choose_save_path(
            "Export Library", file_stem(library.name) + ".json", _LIBRARY_FILTERS
        )
        if path:
            self.questions.remember_dir(path)
            self.export_library(library, path, "yaml" if chosen.startswith("YAML") else "json")

    def export_library(self, library: Library, path: str, fmt: str) -> None:
        """Write the library, byte for byte what the core exports, to ``path`` (given the
        format's extension when it has none)."""
        try:
            target = export_path(Path(path), fmt)
        except LibraryError as exc:
            self.changes.failed.emit(str(exc))
            return

        def job() -> Iterator[Path]:
            write_library(library, target)
            yield target

        self.changes.start(
            job, on_event=lambda p: self._exported(p, f"Exported {library.name!r} to {p}."),
            on_error=self.changes.failed.emit,
        )

    def _exported(self, path: Path, message: str) -> None:
        self.changes.informed.emit(message)
        self.exported.emit(str(path))

    def choose_promptfoo(self) -> None:
        """Ask which templates and dataset, then where to write; the dialog does not block
        the window while it is open."""
        library = self._selected_library()
        if library is None:
            self.changes.failed.emit("Choose a library to export from.")
            return
        key = self.browser.selected_key()
        chosen = key[2] if key and key[1] == "template" else None
        dialog = PromptfooDialog(library, self.changes.collection, chosen, self.window)
        self.promptfoo_dialog = dialog
        dialog.finished.connect(lambda result: self._promptfoo_chosen(dialog, library, result))
        dialog.open()

    def _promptfoo_chosen(self, dialog: PromptfooDialog, library: Library, result: int) -> None:
        self.promptfoo_dialog = None
        dialog.deleteLater()
        if result != QDialog.DialogCode.Accepted:
            return
        ids = dialog.template_ids()
        if not ids:
            self.changes.failed.emit("Choose at least one template for promptfoo.")
            return
        if not dialog.dataset():
            self.changes.failed.emit("Choose a dataset for promptfoo: no library has one.")
            return
        path, _ = self.questions.choose_save_path(
            "Export for promptfoo", "promptfooconfig.yaml", "promptfoo configuration (*.yaml)"
        )
        if path:
            self.questions.remember_dir(path)
            self.export_promptfoo(path, ids, dialog.dataset(), library.name)

    def export_promptfoo(
        self, path: str, template_ids: Sequence[str], dataset: str, library: str
    ) -> None:
        """Write a promptfoo configuration for templates of one library on a dataset; the
        dataset may come from another library (written ``library/name``)."""
        ids = list(template_ids)
        try:
            lib = library_for_export(self.changes.collection, ids, dataset, library=library)
        except PlaygroundError as exc:
            self.changes.failed.emit(str(exc))
            return
        data_name = dataset.rpartition("/")[2]
        self.changes.start(
            _write_job, config_path(Path(path)), lambda: export_promptfoo(lib, ids, data_name),
            on_event=lambda p: self._exported(
                p, f"Wrote the promptfoo configuration for {', '.join(ids)} to {p}."),
            on_error=self.changes.failed.emit,
        )
