"""Reading a saved run back so it can be looked at, edited and run again.

History opens a Playground run into the Playground through :func:`open_stored_run`; what it
gives back is the :class:`~playground.runs.single_run.SingleRun` that ran (the template source as
it was then, not as its library holds it now) with the stored output and facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from playground.errors import PlaygroundError
from playground.prompts.templates import PromptTemplate, parse_template
from playground.runs.single_run import SingleRun
from playground.sampling import SamplingParams
from playground.storage.store import RunRow, Store


@dataclass(frozen=True)
class StoredRun:
    """A saved run: what ran (``setup``; whether alternatives were asked for is not stored,
    the run's tokens are), its template parsed (None when the stored source no
    longer parses, shown as stored for the person to fix), and the stored row with its output,
    scores, tokens and facts."""

    setup: SingleRun
    template: PromptTemplate | None
    run: RunRow
    #: what History calls the comparison it was saved under: "Run 3", "#2"
    label: str = ""
    #: whether that is a Playground run, rather than a run of a comparison
    single: bool = True

    @property
    def run_id(self) -> int:
        return self.run.id


def open_stored_run(db_path: Path, run_id: int) -> StoredRun:
    """The run ``run_id`` of the database at ``db_path`` with everything that made it."""
    store = Store(db_path)
    try:
        run = store.run(run_id)
        if run.comparison_id is None:
            raise PlaygroundError(f"run {run_id} does not belong to a comparison")
        variants = store.variants(run.comparison_id)
        inputs = store.inputs(run.comparison_id)
        row = store.comparison(run.comparison_id)
        spec = row.to_spec()
    finally:
        store.close()
    variant = next((v for v in variants if v.id == run.variant_id), None)
    if variant is None:
        raise PlaygroundError(f"run {run_id} has no template stored with it")
    input_row = next((i for i in inputs if i.id == run.input_id), None)
    spec_variant = next((v for v in spec.variants if v.name == variant.name), None)
    try:
        template: PromptTemplate | None = parse_template(variant.template_source,
                                                         variant.template_id)
    except PlaygroundError:
        template = None
    setup = SingleRun(
        template_id=variant.template_id,
        template_source=variant.template_source,
        model=variant.model,
        params=SamplingParams.from_dict(run.params or variant.params),
        values={**(input_row.values if input_row else {}), **variant.values},
        references=input_row.references if input_row else (),
        library_sources=dict(spec_variant.library_sources) if spec_variant else {},
        chat=variant.chat,
        output=spec_variant.output if spec_variant else None,
    )
    return StoredRun(setup, template, run, row.label, row.kind == "run")
