"""What a judge reads: whether its template scores one output (rubric) or compares two
(pairwise), and the judge's runs over a stored comparison as a spec of their own.

A judge is a comparison like any other (:func:`judge_spec`): one variant per criterion (the
judge template, the judge model, the criterion as a value) and one input per judged output
(rubric, id ``r<run id>``) or per pair of outputs and order (pairwise, ``p<run a>-<run b>-ab``
and ``-ba``), so the ids say which runs each judge run was about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from playground.comparison import ComparisonSpec, Input, Variant
from playground.engine.models import model_display_name
from playground.errors import PlaygroundError
from playground.prompts.collection import Collection
from playground.prompts.templates import PromptTemplate, parse_template
from playground.ratings import input_prompt
from playground.sampling import SamplingParams
from playground.storage.store import ComparisonRow, RunRow, Store

__all__ = [
    "JUDGE_LOGPROBS",
    "JudgeError",
    "JudgeMode",
    "default_criterion",
    "judge_criteria",
    "judge_mode",
    "judge_spec",
    "judge_template",
    "judge_templates",
    "judged_run_id",
    "pair_input_id",
    "parse_pair_input",
    "stored_judge_model",
    "stored_mode",
]

JudgeMode = Literal["rubric", "pairwise"]
#: Alternatives asked for at every judge token: the most any backend gives (OpenAI caps at 20),
#: so the scale's labels are seen even when the judge spreads its probability.
JUDGE_LOGPROBS = 20


class JudgeError(PlaygroundError):
    """A judge cannot be run as asked: not a judge template, nothing to judge, no criterion."""


def judge_mode(template: PromptTemplate) -> JudgeMode:
    """Pairwise for a template with ``output_a`` and ``output_b``, rubric for one with
    ``output``; anything else is not a judge template."""
    names = {v.name for v in template.meta.variables}
    if {"output_a", "output_b"} <= names:
        return "pairwise"
    if "output" in names:
        return "rubric"
    raise JudgeError(f"{template.id} is not a judge template: a rubric judge reads the output "
                     "as 'output', a pairwise one reads 'output_a' and 'output_b' (see "
                     "judge-rubric and judge-pairwise)")


def stored_mode(judge: ComparisonRow) -> JudgeMode | None:
    """Whether a stored judge scored outputs or compared pairs, from its saved template; None
    when that template no longer reads as a judge template."""
    variants = judge.spec.get("variants") or []
    if not variants:
        return None
    try:
        return judge_mode(parse_template(variants[0]["template_source"],
                                         variants[0]["template_id"]))
    except (PlaygroundError, KeyError, TypeError):
        return None


def judge_criteria(judge: ComparisonRow) -> tuple[str, ...]:
    """The criteria a stored judge was asked to judge, one per variant."""
    return tuple(str(v.get("name", "")) for v in judge.spec.get("variants") or [])


def pair_input_id(run_a: int, run_b: int, order: Literal["ab", "ba"]) -> str:
    return f"p{run_a}-{run_b}-{order}"


def parse_pair_input(input_id: str) -> tuple[int, int, str] | None:
    """``(run_a, run_b, "ab"|"ba")`` from a pairwise judge input's id; None for another id."""
    head, _, order = input_id.rpartition("-")
    a, _, b = head[1:].partition("-")
    if not input_id.startswith("p") or order not in ("ab", "ba") or not (a + b).isdigit():
        return None
    return int(a), int(b), order


def _judged_inputs(store: Store, row: ComparisonRow, mode: JudgeMode) -> tuple[Input, ...]:
    inputs = {i.id: i for i in store.inputs(row.id)}
    runs = [r for r in store.runs(row.id)
            if r.status == "ok" and r.input_id in inputs and r.variant_id is not None]

    def shared(run: RunRow) -> dict[str, str]:
        judged_input = inputs[run.input_id]  # type: ignore[index]
        refs = judged_input.references
        return {"input": input_prompt(judged_input.values), "reference": refs[0] if refs else ""}

    if mode == "rubric":
        return tuple(Input(f"r{r.id}", {**shared(r), "output": r.output or ""}) for r in runs)
    position = {v.id: v.position for v in store.variants(row.id)}
    groups: dict[tuple[int | None, int], list[RunRow]] = {}
    for run in runs:
        groups.setdefault((run.input_id, run.sample), []).append(run)
    out: list[Input] = []
    for group in groups.values():
        group.sort(key=lambda r: position.get(r.variant_id or 0, 0))
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                base = shared(a)
                out.append(Input(pair_input_id(a.id, b.id, "ab"),
                                 {**base, "output_a": a.output or "", "output_b": b.output or ""}))
                out.append(Input(pair_input_id(a.id, b.id, "ba"),
                                 {**base, "output_a": b.output or "", "output_b": a.output or ""}))
    return tuple(out)


def judge_spec(
    store: Store,
    comparison_id: int,
    template: PromptTemplate,
    model: str,
    criteria: Sequence[str] = (),
    params: SamplingParams | None = None,
) -> ComparisonSpec:
    """The judge's runs over a stored comparison: one variant per criterion (the template's
    default criterion when none is given), one input per finished output (rubric) or per pair
    of variants' outputs of one input and sample, in both orders (pairwise)."""
    mode = judge_mode(template)
    row = store.comparison(comparison_id)
    if row.judged_id is not None:
        raise JudgeError(f"{row.label} is a judge's runs; judge the comparison itself")
    default = default_criterion(template)
    names = [c.strip() for c in criteria if c.strip()] or ([default] if default else [])
    if not names:
        raise JudgeError(f"{template.id} has no default criterion: name one with --criterion")
    if len(set(names)) != len(names):
        raise JudgeError("each criterion can be judged once per judge run")
    inputs = _judged_inputs(store, row, mode)
    if not inputs:
        what = ("finished outputs" if mode == "rubric"
                else "inputs with finished outputs from two variants or more")
        raise JudgeError(f"{row.label} has no {what} to judge")
    settings = params or SamplingParams.from_dict(dict(template.meta.params))
    variants = tuple(
        Variant(name=c, template_id=template.id, template_source=template.source,
                params=settings, model=model, values={"criterion": c})
        for c in names
    )
    by = model_display_name(model) if model else "the default model"
    return ComparisonSpec(
        name=f"Judge of {row.label} ({mode}: {', '.join(names)}) by {by}",
        variants=variants, inputs=inputs, samples=1, metrics=(), logprobs=JUDGE_LOGPROBS,
    )


def judge_template(collection: Collection, template_id: str) -> PromptTemplate:
    """A judge template from the library, by id."""
    _, template = collection.find(template_id)
    judge_mode(template)
    return template


def judge_model_name(record: Mapping[str, Any] | None, asked: str) -> str:
    """A judge model by the one name every list uses (:func:`model_display_name`): the file
    its run loaded (``record``, the run's model record), else the model it asked for."""
    path = (record or {}).get("path")
    return model_display_name(str(path) if path else asked)


def stored_judge_model(judge: ComparisonRow, runs: Sequence[RunRow]) -> str:
    """A stored judge's model by :func:`judge_model_name`: the file its runs (``runs``)
    loaded, else the model its spec asked for."""
    record = next((r.model for r in runs if r.model and r.model.get("path")), None)
    variants = judge.spec.get("variants") or [{}]
    return judge_model_name(record, str(variants[0].get("model") or ""))


def judged_run_id(input_id: str) -> int | None:
    """The judged run a rubric judge input is about (``r12`` → 12)."""
    return int(input_id[1:]) if input_id.startswith("r") and input_id[1:].isdigit() else None


def judge_templates(collection: Collection) -> list[tuple[PromptTemplate, JudgeMode]]:
    """The library's judge templates with what each does, as a chooser lists them: rubric
    ones first (one output at a time, the common case)."""
    out: list[tuple[PromptTemplate, JudgeMode]] = []
    for _, template in collection.templates():
        try:
            out.append((template, judge_mode(template)))
        except JudgeError:
            continue
    return sorted(out, key=lambda item: item[1] != "rubric")


def default_criterion(template: PromptTemplate) -> str:
    """The criterion a judge template judges when none is named."""
    return next((str(v.default) for v in template.meta.variables
                 if v.name == "criterion" and v.default), "")
