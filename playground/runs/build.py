"""How a comparison is built from templates, a dataset (or one shared input) and settings.

Every face builds through here: ``playground compare --template ... --dataset ...``, a spec file
and the Compare tab. The rule for how a dataset's columns fill template variables lives only
here, so the same templates, dataset and settings give the same prompts and the same stored
runs whichever face ran them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Literal

from playground.comparison import ComparisonError, ComparisonSpec, Input, Variant
from playground.errors import PlaygroundError
from playground.output_constraint import OutputConstraint
from playground.prompts.collection import Collection, template_values
from playground.prompts.datasets import LoadedDataset, dataset_from_library, load_dataset
from playground.prompts.templates import PromptTemplate, parse_template
from playground.sampling import SamplingParams

#: Settings a sweep may vary (one at a time, everything else equal).
SWEEPABLE = ("temperature", "top_k", "top_p", "min_p", "repeat_penalty", "presence_penalty",
             "frequency_penalty")

#: A variant's output constraint left to its template's header.
FromTemplate = Literal["template"]
FROM_TEMPLATE: FromTemplate = "template"

_FLOAT_PARAMS = frozenset(f.name for f in fields(SamplingParams) if f.type == "float")


def input_variable(template: PromptTemplate) -> str | None:
    """The variable that carries the text under test: the template's first text variable
    (``dialogue``, ``review``, ``text``, ``context``, ``concept``). A shared input fills it, and
    so does a dataset's first column when no column is named after it."""
    return next((v.name for v in template.meta.variables if v.type == "text"), None)


def main_variable(variant: Variant) -> str | None:
    """A variant's input variable; None when its template does not parse (the runner then
    fails that variant's runs and says why, while the others run)."""
    try:
        return input_variable(parse_template(variant.template_source, variant.template_id))
    except PlaygroundError:
        return None


# -- variants -----------------------------------------------------------------------------------


def variant_from_template(
    template: PromptTemplate,
    *,
    name: str | None = None,
    model: str = "",
    params: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
    library_sources: Mapping[str, str] | None = None,
    chat: bool = False,
    base_params: Mapping[str, Any] | None = None,
    output: OutputConstraint | FromTemplate | None = FROM_TEMPLATE,
) -> Variant:
    """A variant of a parsed template.

    ``output`` is the variant's output constraint; by default the template header's.

    ``params`` change ``base_params`` (a reopened variant's own settings; by default the
    template's). The seed is left to the comparison, which gives sample k of every variant the
    same one. Whole-number settings that are fractions by nature are stored as fractions, and a
    value equal to the variable's declared default is left to the template, so the same choice
    typed in a form or left out on the command line gives the same variant.
    """
    base = dict(template.meta.params if base_params is None else base_params)
    merged: dict[str, Any] = {**base, **(params or {}), "seed": None}
    for key in _FLOAT_PARAMS & set(merged):
        value = merged[key]
        if isinstance(value, int) and not isinstance(value, bool):
            merged[key] = float(value)
    defaults = {v.name: v.default for v in template.meta.variables if v.default is not None}
    own = {k: v for k, v in (values or {}).items()
           if not (k in defaults and _same_value(v, defaults[k]))}
    return Variant(
        name=name or template.id,
        template_id=template.id,
        template_source=template.source,
        params=SamplingParams.from_dict(merged),
        model=model,
        values=own,
        chat=chat,
        library_sources=dict(library_sources or {}),
        output=template.meta.output if isinstance(output, str) else output,
    )


def _same_value(value: Any, default: Any) -> bool:
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default
    if isinstance(value, (int, float)) and isinstance(default, (int, float)):
        return value == default
    return type(value) is type(default) and bool(value == default)


def build_variant(
    collection: Collection,
    template_id: str,
    *,
    name: str | None = None,
    model: str = "",
    params: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
    chat: bool = False,
    examples: str | None = None,
    base_params: Mapping[str, Any] | None = None,
    output: OutputConstraint | FromTemplate | None = FROM_TEMPLATE,
) -> Variant:
    """A variant of a library template (``id`` or ``Library/id``), its example set filled in."""
    library, template = collection.find(template_id)
    fixed = template_values(library, template, example_set=examples, values=dict(values or {}))
    return variant_from_template(template, name=name, model=model, params=params, values=fixed,
                                 library_sources=library.sources(), chat=chat,
                                 base_params=base_params, output=output)


# -- inputs -------------------------------------------------------------------------------------


def resolve_dataset(collection: Collection, name_or_path: str) -> LoadedDataset:
    """A built-in dataset by name (``sentiment``) or a file path."""
    path = Path(name_or_path).expanduser()
    if path.suffix and (path.exists() or "/" in name_or_path or "\\" in name_or_path):
        return load_dataset(path)
    for library in collection.libraries:
        dataset = library.dataset(name_or_path)
        if dataset is not None:
            return dataset_from_library(dataset)
    known = sorted({d.name for lib in collection.libraries for d in lib.datasets})
    raise ComparisonError(
        f"no dataset named {name_or_path!r}; use a file path or one of: {', '.join(known)}"
    )


def library_dataset(collection: Collection, library: str, name: str) -> LoadedDataset:
    """The dataset ``name`` of one library (two libraries may both have a ``qa``)."""
    found = collection.library(library).dataset(name)
    if found is None:
        raise ComparisonError(f"no dataset named {name!r} in library {library!r}")
    return dataset_from_library(found)


def shared_input(variants: Sequence[Variant], text: str, references: Sequence[str] = ()) -> Input:
    """One input typed once for every variant: it fills each template's input variable."""
    if not text.strip():
        raise ComparisonError("type the input text first (or choose a dataset)")
    values = {var: text for v in variants if (var := main_variable(v)) is not None}
    return Input("input", values, tuple(references))


def fill_variables(
    variants: Sequence[Variant], inputs: Sequence[Input]
) -> tuple[tuple[Variant, ...], tuple[Input, ...]]:
    """The inputs' columns fill the template variables of the same name, row by row.

    A variant's own value for such a variable is dropped (it would override every row), and a
    template whose input variable is not a column gets the first column, so a dataset whose
    text column is named ``conversation`` still fills ``dialogue`` and ``review``.
    """
    provided = list(dict.fromkeys(k for i in inputs for k in i.values))
    aliases: dict[str, str] = {}
    for variant in variants:
        main = main_variable(variant)
        if main is not None and main not in provided and provided:
            aliases[main] = provided[0]
    own = tuple(replace(v, values={k: x for k, x in v.values.items() if k not in provided})
                for v in variants)
    rows = tuple(inputs)
    if aliases:
        rows = tuple(replace(i, values={**i.values, **{alias: i.values.get(column, "")
                                                       for alias, column in aliases.items()}})
                     for i in rows)
    return own, rows


# -- the comparison -----------------------------------------------------------------------------


def detect_sweep(variants: Sequence[Variant]) -> str | None:
    """The one sampling setting the variants differ in, when everything else is equal: the
    comparison is then a sweep and gets a chart against that setting."""
    if len(variants) < 2:
        return None
    first = variants[0]
    if any(v.template_source != first.template_source or v.model != first.model
           or dict(v.values) != dict(first.values) or v.chat != first.chat
           for v in variants[1:]):
        return None
    settings = [v.params.to_dict() for v in variants]
    differing = {k for k in settings[0] if any(s[k] != settings[0][k] for s in settings[1:])}
    if len(differing) != 1:
        return None
    (param,) = differing
    values = [s[param] for s in settings]
    if param not in SWEEPABLE or len(set(values)) != len(values):
        return None
    return param


def metrics_for(variants: Sequence[Variant]) -> tuple[str, ...]:
    """Overlap metrics and token-probability confidence always, plus the task metric that fits
    each variant's task (classification → accuracy, QA → token F1 and exact match, NER →
    entity F1)."""
    from playground.evaluation.scoring import DEFAULT_METRICS
    from playground.evaluation.taskmetrics import TASK_METRICS

    chosen = [*DEFAULT_METRICS, "confidence"]
    for variant in variants:
        try:
            task = parse_template(variant.template_source, variant.template_id).meta.task
        except PlaygroundError:
            continue
        for metric in TASK_METRICS.get(task, ()):
            if metric not in chosen:
                chosen.append(metric)
    if any(v.output is not None and v.output.kind != "grammar" for v in variants):
        from playground.evaluation.structured import JSON_METRICS

        chosen.extend(m for m in JSON_METRICS if m not in chosen)
    return tuple(chosen)


def _refuse_twins(variants: Sequence[Variant]) -> None:
    """Two variants alike in everything but their name would give the same runs (a run is
    known by what it ran), and the second one's could not be saved: say so before running."""
    seen: dict[str, str] = {}
    for variant in variants:
        twin = seen.setdefault(variant.key(), variant.name)
        if twin != variant.name:
            raise ComparisonError(
                f"{twin} and {variant.name} are the same variant (the same template, values, "
                "settings and model), so they would give the same outputs: change one of them "
                "or remove it")


def build_comparison(
    variants: Sequence[Variant],
    inputs: Sequence[Input],
    *,
    name: str,
    rows: int | None = None,
    samples: int = 1,
    seed: int = 1234,
    metrics: Sequence[str] | None = None,
    language: str | None = None,
    checks: Mapping[str, Any] | None = None,
    sweep_param: str | None = None,
) -> ComparisonSpec:
    """Variants over the first ``rows`` inputs (all without it), k ``samples`` each.

    The inputs fill the variables (:func:`fill_variables`); the metrics follow the templates'
    tasks unless given, and variants that differ in one sampling setting only form a sweep.
    """
    chosen = tuple(inputs)
    if rows is not None:
        if rows < 1:
            raise ComparisonError(f"rows must be at least 1, got {rows}")
        chosen = chosen[:rows]
    if not chosen:
        raise ComparisonError("the dataset has no rows")
    filled, chosen = fill_variables(variants, chosen)
    _refuse_twins(filled)
    return ComparisonSpec(
        name, filled, chosen, samples=samples, base_seed=seed,
        metrics=tuple(metrics) if metrics is not None else metrics_for(filled),
        language=language, checks=dict(checks or {}),
        sweep_param=sweep_param or detect_sweep(filled),
    )
