"""What a comparison is made of: variants × inputs × samples.

A **variant** is a template with fixed values, sampling settings and a model. An **input** is one
row of variables with zero or more reference texts. A **run** is one generation of one variant on
one input with one seed. The runner executes runs, the store keeps them, the report reads them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from playground.errors import PlaygroundError
from playground.output_constraint import OutputConstraint
from playground.sampling import SamplingParams
from playground.wording import ComparisonKind

RunStatus = Literal["ok", "failed", "cancelled"]


class ComparisonError(PlaygroundError):
    """A comparison spec or dataset cannot be used as given."""


@dataclass(frozen=True)
class Variant:
    """One column of a comparison. ``template_source`` is kept whole so a stored comparison
    can be re-run exactly even after the library changes."""

    name: str
    template_id: str
    template_source: str
    params: SamplingParams
    model: str
    values: Mapping[str, Any] = field(default_factory=dict)
    chat: bool = False
    library_sources: Mapping[str, str] = field(default_factory=dict)
    #: What the output must be (any JSON, a JSON Schema, a grammar); None: free text.
    output: OutputConstraint | None = None

    def key(self) -> str:
        """Content hash: two variants with the same key produce the same runs."""
        data: dict[str, Any] = {
            "template": self.template_source,
            "params": self.params.to_dict(),
            "model": self.model,
            "values": dict(self.values),
            "chat": self.chat,
        }
        if self.output is not None:  # absent otherwise: older comparisons keep their keys
            data["output"] = {"kind": self.output.kind, "text": self.output.text}
        return content_hash(data)


@dataclass(frozen=True)
class Input:
    """One row of a dataset: template variables plus reference outputs."""

    id: str
    values: Mapping[str, Any]
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComparisonSpec:
    name: str
    variants: tuple[Variant, ...]
    inputs: tuple[Input, ...]
    samples: int = 1
    base_seed: int = 1234
    metrics: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf")
    language: str | None = None
    #: Required-content checks on every output: ``must_contain``, ``must_not_contain`` (lists of
    #: strings, or regular expressions when ``regex`` is true).
    checks: Mapping[str, Any] = field(default_factory=dict)
    #: For a sweep (one template, one sampling setting varied): the name of that setting.
    sweep_param: str | None = None
    #: Top-n alternatives to record for every generated token (the GUI's token view); ``None``
    #: records only what the metrics need.
    logprobs: int | None = None
    #: "run" for a Playground run saved as a comparison: History lists it apart, and runs are
    #: numbered apart from comparisons.
    kind: ComparisonKind = "comparison"

    def __post_init__(self) -> None:
        if not self.variants:
            raise ComparisonError("a comparison needs at least one variant")
        if not self.inputs:
            raise ComparisonError("a comparison needs at least one input")
        if not 1 <= self.samples <= 100:
            raise ComparisonError(f"samples must be between 1 and 100, got {self.samples}")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ComparisonError("variant names must be different from each other")
        ids = [i.id for i in self.inputs]
        if len(set(ids)) != len(ids):
            raise ComparisonError("input ids must be different from each other")
        unknown = sorted(set(self.checks) - {"must_contain", "must_not_contain", "regex"})
        if unknown:
            raise ComparisonError(f"unknown check(s): {', '.join(unknown)}; use must_contain, "
                                  "must_not_contain and regex")

    def sweep_values(self) -> dict[str, float]:
        """Variant name → the swept setting's value, for charts against the setting."""
        if self.sweep_param is None:
            return {}
        return {v.name: float(v.params.to_dict()[self.sweep_param]) for v in self.variants}

    def seed(self, sample: int) -> int:
        """Sample k of every variant on every input uses the same seed: paired comparisons then
        differ only by the variant."""
        return (self.base_seed + sample * 7919) % 0xFFFFFFFE

    def cells(self) -> list[tuple[Variant, Input, int]]:
        return [(v, i, k) for v in self.variants for i in self.inputs for k in range(self.samples)]


def content_hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def run_key(variant: Variant, input_: Input, sample: int, seed: int) -> str:
    """Identity of a run inside a comparison: what resume uses to skip finished work."""
    return content_hash([variant.key(), input_.id, dict(input_.values), sample, seed])


def inputs_from_rows(
    rows: Sequence[Mapping[str, Any]], *, prefix: str = "row"
) -> tuple[Input, ...]:
    """Dataset rows (variables + ``references``) as inputs with stable ids."""
    inputs = []
    for n, row in enumerate(rows, 1):
        refs = row.get("references", ())
        if isinstance(refs, str):
            refs = (refs,)
        values = {k: v for k, v in row.items() if k != "references"}
        inputs.append(Input(f"{prefix}-{n}", values, tuple(str(r) for r in refs)))
    return tuple(inputs)
