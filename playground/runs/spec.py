"""Comparison specs written by hand (YAML or JSON), with command-line overrides.

A spec names templates from the known libraries and a dataset (a built-in demo dataset by
task name, or a CSV/JSONL/JSON file); this module checks the file's fields and builds the
comparison the way every face does (:mod:`playground.runs.build`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from playground.comparison import ComparisonError, ComparisonSpec
from playground.errors import PlaygroundError
from playground.output_constraint import OutputConstraint, constraint_from_header
from playground.prompts.collection import Collection
from playground.runs.build import (
    FROM_TEMPLATE,
    SWEEPABLE,
    FromTemplate,
    build_comparison,
    build_variant,
    resolve_dataset,
)

_SPEC_KEYS = {"name", "samples", "seed", "dataset", "rows", "variants", "metrics", "language",
              "model", "params", "checks", "sweep"}
_VARIANT_KEYS = {"name", "template", "model", "params", "values", "chat", "examples", "output"}


def _sweep_variants(sweep: Any, variants: Any) -> tuple[list[Any], str]:
    """``sweep: {template, param, values}`` as one variant per value, named ``param=value``."""
    if variants is not None:
        raise ComparisonError("a spec has either 'sweep' or 'variants', not both")
    if not isinstance(sweep, Mapping):
        raise ComparisonError("'sweep' must be a mapping: template, param, values")
    bad = sorted(set(sweep) - {"template", "param", "values", "model", "params", "values_of"})
    if bad:
        raise ComparisonError(f"sweep: unknown field(s): {', '.join(bad)}")
    param = sweep.get("param")
    if param not in SWEEPABLE:
        raise ComparisonError(f"sweep: 'param' must be one of {', '.join(SWEEPABLE)}")
    values = sweep.get("values")
    if not isinstance(values, list) or len(values) < 2:
        raise ComparisonError("sweep: 'values' must list at least two settings")
    if not isinstance(sweep.get("template"), str):
        raise ComparisonError("sweep: needs 'template', a template id")
    return [
        {"template": sweep["template"], "name": f"{param}={value}", "model": sweep.get("model"),
         "params": {**(sweep.get("params") or {}), param: value},
         "values": sweep.get("values_of") or {}}
        for value in values
    ], str(param)


def _variant_output(raw: Mapping[str, Any], where: str) -> OutputConstraint | FromTemplate | None:
    """``output`` as in a template's header; ``none`` lifts the template's constraint."""
    if "output" not in raw:
        return FROM_TEMPLATE
    if raw["output"] in (None, "none"):
        return None
    return constraint_from_header(raw["output"], where)


def spec_from_mapping(
    data: Mapping[str, Any], collection: Collection, *, base_dir: Path | None = None
) -> ComparisonSpec:
    """A spec file's content, checked field by field with messages that name the field."""
    if not isinstance(data, Mapping):
        raise ComparisonError("a comparison spec must be a mapping of fields")
    unknown = sorted(set(data) - _SPEC_KEYS)
    if unknown:
        raise ComparisonError(f"unknown field(s) in the spec: {', '.join(unknown)}")
    sweep = data.get("sweep")
    sweep_param = None
    raw_variants: Any
    if sweep is not None:
        raw_variants, sweep_param = _sweep_variants(sweep, data.get("variants"))
    else:
        raw_variants = data.get("variants")
    if not isinstance(raw_variants, list) or not raw_variants:
        raise ComparisonError("the spec needs 'variants': a list with at least one variant")
    dataset_name = data.get("dataset")
    if not isinstance(dataset_name, str):
        raise ComparisonError("the spec needs 'dataset': a built-in dataset name or a file path")
    if base_dir is not None and Path(dataset_name).suffix and not Path(dataset_name).is_absolute():
        candidate = base_dir / dataset_name
        if candidate.exists():
            dataset_name = str(candidate)
    checks = data.get("checks")
    if checks is not None and not isinstance(checks, Mapping):
        raise ComparisonError("'checks' must be a mapping: must_contain, must_not_contain, regex")
    default_model = str(data.get("model") or "")
    default_params = data.get("params") or {}
    variants = []
    for n, raw in enumerate(raw_variants, 1):
        where = f"variants[{n}]"
        if isinstance(raw, str):
            raw = {"template": raw}
        if not isinstance(raw, Mapping):
            raise ComparisonError(f"{where}: a template id or a mapping with 'template'")
        bad = sorted(set(raw) - _VARIANT_KEYS)
        if bad:
            raise ComparisonError(f"{where}: unknown field(s): {', '.join(bad)}")
        if not isinstance(raw.get("template"), str):
            raise ComparisonError(f"{where}: needs 'template', a template id")
        try:
            variants.append(build_variant(
                collection,
                raw["template"],
                name=raw.get("name"),
                model=str(raw.get("model") or default_model),
                params={**default_params, **(raw.get("params") or {})},
                values=raw.get("values") or {},
                chat=bool(raw.get("chat", False)),
                examples=raw.get("examples"),
                output=_variant_output(raw, where),
            ))
        except PlaygroundError as exc:
            raise ComparisonError(f"{where}: {exc}") from exc
    return build_comparison(
        variants,
        resolve_dataset(collection, dataset_name).inputs,
        name=str(data.get("name") or "comparison"),
        rows=data.get("rows"),
        samples=int(data.get("samples", 1)),
        seed=int(data.get("seed", 1234)),
        metrics=data.get("metrics"),
        language=data.get("language"),
        checks=checks,
        sweep_param=sweep_param,
    )
