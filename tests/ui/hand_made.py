"""A stored comparison made by hand (no generation), scored by the real scorer: for window
tests of how results are shown, whatever a model would say."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from playground.comparison import ComparisonSpec, Input, Variant
from playground.events import Result
from playground.runs.runner import make_scorer
from playground.runs.single_run import SingleRun, single_run_spec
from playground.sampling import SamplingParams
from playground.storage.store import Store

MODEL = "/models/hand.gguf"


def save_hand_comparison(
    db: Path,
    name: str,
    template: str,
    variants: Sequence[str],
    inputs: Sequence[Input],
    output: Callable[[str, Input], str],
    record: Callable[[str], Mapping[str, Any] | None] = lambda _: None,
) -> int:
    """Variants named ``variants`` of ``template``, each answering ``output(variant, input)``
    on every input (with ``record(variant)`` as its runs' record); the comparison's id."""
    made = tuple(Variant(v, "hand", template, SamplingParams(temperature=0.0), MODEL)
                 for v in variants)
    spec = ComparisonSpec(name, made, tuple(inputs))
    score = make_scorer(spec.metrics, spec.language)
    with Store(db) as store:
        cid = store.save_comparison(spec)
        variant_ids, input_ids = store.variant_ids(cid), store.input_ids(cid)
        for variant in made:
            for item in inputs:
                text = output(variant.name, item)
                kept = record(variant.name)
                result = Result(
                    text=text, finish_reason="stop", prompt_tokens=20, completion_tokens=9,
                    ttft_s=0.01, tokens_per_second=50.0, total_s=0.2, rendered_prompt=template,
                    params=SamplingParams(temperature=0.0),
                    model={"name": "Hand", "path": MODEL},
                    record=None if kept is None else dict(kept))
                store.save_run(comparison_id=cid, variant_id=variant_ids[variant.name],
                               input_id=input_ids[item.id], sample=0, seed=1,
                               run_key=f"{variant.name}-{item.id}", result=result, status="ok",
                               error=None, scores=score(text, list(item.references)))
        store.set_status(cid, "done")
    return cid


def save_answers(db_path: Path) -> int:
    """Two variants ("terse", "chatty") answering three questions, each output naming its
    variant and input: a comparison to judge."""
    inputs = [Input(f"row-{n}", {"question": q}) for n, q in
              enumerate(("Why is the sky blue?", "What is rain?", "Why do leaves fall?"), 1)]
    return save_hand_comparison(db_path, "Answers", "Q: {{ question }}", ("terse", "chatty"),
                                inputs, lambda variant, item: f"{variant} answer to {item.id}")


def save_greeting_run(db_path: Path, setup: SingleRun, model: Mapping[str, Any]) -> int:
    """A Playground run of ``setup`` stored as finished with the output "Hello, Ada." (seed
    77); its comparison id. ``model`` is the model record the run names."""
    spec = single_run_spec(setup, 77)
    with Store(db_path) as store:
        comparison_id = store.save_comparison(spec)
        store.save_run(
            comparison_id=comparison_id,
            variant_id=store.variant_ids(comparison_id)[setup.template_id],
            input_id=store.input_ids(comparison_id)["input"], sample=0, seed=77,
            run_key="k", status="ok", error=None,
            result=Result(text="Hello, Ada.", finish_reason="stop", prompt_tokens=9,
                          completion_tokens=4, ttft_s=0.01, tokens_per_second=40.0,
                          total_s=0.1, rendered_prompt="Say hello to Ada.",
                          params=spec.variants[0].params, model=dict(model)),
        )
    return comparison_id
