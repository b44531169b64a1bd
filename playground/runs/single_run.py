"""A Playground run: one template with its values on one model.

It is saved as a comparison of one variant on one input, so it is scored, stored and
reproducible like any other; :mod:`playground.runs.opening` reads it back into the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from playground.comparison import ComparisonError, ComparisonSpec, Input, Variant
from playground.evaluation.scoring import DEFAULT_METRICS
from playground.output_constraint import OutputConstraint
from playground.sampling import SamplingParams

#: How a Playground run is named when it is saved (its kind, "run", is what tells it apart).
PLAYGROUND_PREFIX = "Playground: "
#: What a Playground run is scored on: the reference metrics (when a reference is given) and the
#: model's own confidence.
SINGLE_RUN_METRICS: tuple[str, ...] = (*DEFAULT_METRICS, "confidence")
#: The id of a Playground run's one input.
INPUT_ID = "input"


@dataclass(frozen=True)
class SingleRun:
    """What the Playground holds when Run is pressed: the template as edited (not as saved in
    its library), the values, the settings, the model and the reference to score against."""

    template_id: str
    template_source: str
    model: str
    params: SamplingParams
    values: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[str, ...] = ()
    library_sources: Mapping[str, str] = field(default_factory=dict)
    chat: bool = False
    #: top alternatives recorded for every token (the token view), or None for none
    alternatives: int | None = None
    #: what the output must be (any JSON, a JSON Schema, a grammar); None: free text
    output: OutputConstraint | None = None


def single_run_spec(run: SingleRun, seed: int) -> ComparisonSpec:
    """The comparison of one variant on one input that runs ``run`` with ``seed`` (the
    settings' own seed, or a fresh one when they leave it random)."""
    if not run.template_id or not run.template_source.strip():
        raise ComparisonError("choose a template first")
    if not run.model:
        raise ComparisonError("no model is chosen; add one in the Models tab")
    variant = Variant(
        name=run.template_id,
        template_id=run.template_id,
        template_source=run.template_source,
        params=replace(run.params, seed=seed),
        model=run.model,
        values=dict(run.values),
        chat=run.chat,
        library_sources=dict(run.library_sources),
        output=run.output,
    )
    return ComparisonSpec(
        name=f"{PLAYGROUND_PREFIX}{run.template_id}",
        variants=(variant,),
        inputs=(Input(INPUT_ID, {}, tuple(run.references)),),
        samples=1,
        base_seed=seed,
        metrics=SINGLE_RUN_METRICS,
        logprobs=run.alternatives,
        kind="run",
    )


def reseeded(spec: ComparisonSpec, seed: int, alternatives: int | None) -> ComparisonSpec:
    """The same run again (Regenerate: not the edits made since) with another seed, and the
    token view's alternatives as they are asked for now."""
    variants = tuple(replace(v, params=replace(v.params, seed=seed)) for v in spec.variants)
    return replace(spec, variants=variants, base_seed=seed, logprobs=alternatives)
