"""What people say about outputs: ratings on named criteria, and pairwise judgements.

These are the rules the store checks before it saves a person's verdict and that the
evaluation reads back: which criteria a comparison rates on (:data:`DEFAULT_CRITERIA`,
:func:`check_criteria`), what a judgement is (:class:`Judgement`) and the text a judge reads for
an input (:func:`input_prompt`). The ranking fitted on judgements, its agreement with the
metrics and the preference export live in ``playground.evaluation.preferences``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from playground.errors import PlaygroundError

Choice = Literal["a", "b", "tie"]

#: The Likert criteria a comparison starts with; each comparison can change its own.
DEFAULT_CRITERIA: tuple[str, ...] = ("coherence", "fluency", "relevance", "factuality")
#: More criteria than this and rating one output becomes a form to fill in, not a judgement.
MAX_CRITERIA = 12
#: Criterion names are column headers in reports and exports; longer ones break the tables.
MAX_CRITERION_LENGTH = 40


class PreferenceError(PlaygroundError, ValueError):
    """A judgement, a judging key or a preference file is malformed."""


@dataclass(frozen=True)
class Judgement:
    """One person's verdict on two outputs of the same input: ``a``, ``b`` or a tie."""

    input_id: str
    prompt: str
    variant_a: str
    output_a: str
    variant_b: str
    output_b: str
    choice: Choice
    model_a: str = ""
    model_b: str = ""

    def __post_init__(self) -> None:
        if self.choice not in get_args(Choice):
            raise PreferenceError(f"choice must be 'a', 'b' or 'tie', got {self.choice!r}")
        if self.variant_a == self.variant_b:
            # A variant compared with itself carries no information about the ranking.
            raise PreferenceError(
                f"a judgement needs two different variants, got {self.variant_a!r} twice"
            )


def input_prompt(values: Mapping[str, Any]) -> str:
    """The task a judge reads above two outputs, and the ``prompt`` of an exported pair.

    It is the input's own values rather than either variant's rendered prompt: the variants
    being compared wrapped the same input in different prompts, and a preference between
    their outputs is a preference about answering that input. A single value is shown as it
    is; several as ``name: value`` lines.
    """
    if len(values) == 1:
        return str(next(iter(values.values())))
    return "\n".join(f"{name}: {value}" for name, value in values.items())


def check_criteria(names: Sequence[str]) -> tuple[str, ...]:
    """Criterion names cleaned of surrounding spaces, or an error naming what is wrong.

    Names are compared without regard to case, since "Fluency" and "fluency" would split one
    criterion's ratings across two columns.
    """
    if isinstance(names, str):
        raise PreferenceError("criteria must be a list of names, not one string")
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in names:
        if not isinstance(raw, str):
            raise PreferenceError(f"a criterion name must be text, got {raw!r}")
        name = raw.strip()
        if not name:
            raise PreferenceError("a criterion name cannot be empty")
        if len(name) > MAX_CRITERION_LENGTH or any(ch in name for ch in "\r\n\t"):
            raise PreferenceError(
                f"a criterion name must be one line of at most {MAX_CRITERION_LENGTH} "
                f"characters, got {name!r}"
            )
        if name.casefold() in seen:
            raise PreferenceError(f"the criterion {name!r} is listed twice")
        seen.add(name.casefold())
        cleaned.append(name)
    if not 1 <= len(cleaned) <= MAX_CRITERIA:
        raise PreferenceError(
            f"a comparison needs 1 to {MAX_CRITERIA} criteria, got {len(cleaned)}"
        )
    return tuple(cleaned)
