"""A stored run put back into the Playground. A template's run: the template chosen in the tree
(when a library still has it), the source as it ran, its values and its settings' defaults.
Scratch prompts and chats open through :class:`~ui.views.playground.scratch_modes.ScratchModes`.
Then the settings, the output format, the reference and the output as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from playground.errors import PlaygroundError
from playground.prompts.library import Library
from playground.prompts.templates import PromptTemplate, TemplateMeta, template_params
from playground.runs.opening import StoredRun, open_stored_run
from ui.context import AppContext
from ui.widgets.references import join_references

if TYPE_CHECKING:
    from ui.views.playground.playground_view import PlaygroundView


def open_run_task(db_path: Path, run_id: int) -> Iterator[StoredRun]:
    yield open_stored_run(db_path, run_id)


def library_of(context: AppContext, template_id: str) -> Library | None:
    try:
        library, _ = context.collection().find(template_id)
    except PlaygroundError:
        return None
    return library


def show_stored_run(view: PlaygroundView, stored: StoredRun) -> None:
    """Put a saved run back: its template or scratch prompt, values, settings, output format,
    reference and output."""
    view.session.abandon()
    view.stop_action.setEnabled(False)
    setup = stored.setup
    view._loading = True
    try:
        if not view.modes.show_stored(stored):
            show_stored_template(view, stored)
        view.output_format.show_constraint(setup.output)
        view.params.set_params(setup.params)
        view.reference.setPlainText(join_references(setup.references))
        view.output_panel.show_stored(stored)
        view._set_replayable(stored.run_id)
    finally:
        view._loading = False
    view.preview_panel.schedule()


def show_stored_template(view: PlaygroundView, stored: StoredRun) -> None:
    setup = stored.setup
    library = library_of(view.context, setup.template_id)
    if library is not None:
        view.select_template(library.name, setup.template_id)
    else:
        view.picker.clear_choice()
        view._library = None
    view.modes.set_mode("template")
    view._template_key = (library.name if library else None, setup.template_id)
    view._library_sources = dict(setup.library_sources) or (
        library.sources() if library else {})
    view.template_editor.set_source(setup.template_source)
    if stored.template is not None:
        view.variables.set_template(library, stored.template, dict(setup.values))
        view.params.set_defaults(template_params(stored.template))
        view.output_format.set_template_output(stored.template.meta.output)
    else:
        # The stored source no longer parses (the editor marks why); the form follows
        # once it is fixed.
        view.variables.set_template(library, PromptTemplate(
            setup.template_id, setup.template_source, TemplateMeta(setup.template_id), ""))
