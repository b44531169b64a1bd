"""Scores of structured (JSON) outputs: does it parse, does it follow the schema, do its fields
match a JSON reference.

* ``json_parses``: 1 when the output, stripped of surrounding whitespace and of one enclosing
  Markdown code fence, is one JSON value; else 0.
* ``schema_valid``: 1 when it parses and the variant's JSON Schema accepts it; else 0, and the
  reason names the first error's place as a JSON path (``$.entities[0]``), kept for display.
  Not applicable without a schema.
* ``json_exact_match`` and ``json_field_f1``: when a reference is JSON, the output's leaf values
  against the reference's, each leaf known by its path (list positions left out, so the order of
  a list does not count). Exact match is 1 when both hold the same leaves; F1 is over the leaves
  in common. Several references: the best one counts.

**Truncated is not invalid.** An output cut off by ``max_tokens`` that does not parse scores 0
with the reason ``truncated``: a prompt or budget problem, not a format one. Every reason begins
with its status word (``truncated``, ``not JSON``, ``invalid at``), which :func:`status` reads.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from playground.output_constraint import json_path
from playground.scores import Score

__all__ = ["JSON_METRICS", "JsonCheck", "check_json", "field_scores", "json_note", "leaves",
           "parse_json", "status", "structured_scores"]

VERSION = "1"
JSON_METRICS = ("json_parses", "schema_valid", "json_exact_match", "json_field_f1")
JsonStatus = Literal["valid", "parses", "invalid", "not JSON", "truncated"]
TRUNCATED = "truncated"
NO_SCHEMA = "no schema"
NO_JSON_REFERENCE = "no JSON reference"
#: How much of a problem a one-line note shows (the whole reason is in the tooltip).
NOTE_CHARS = 72
_FENCE = re.compile(r"\A```[A-Za-z0-9_-]*[ \t]*\n(?P<body>.*?)\n?```\Z", re.DOTALL)


@dataclass(frozen=True)
class JsonCheck:
    """One output read as JSON: its status, the value when it parsed, and the first problem
    (with its JSON path when the schema refused the value)."""

    status: JsonStatus
    value: Any = None
    path: str | None = None
    message: str | None = None

    @property
    def reason(self) -> str | None:
        if self.status == "invalid":
            return f"invalid at {self.path}: {self.message}"
        if self.status in ("not JSON", "truncated"):
            return f"{self.status}: {self.message}"
        return None


def parse_json(text: str) -> tuple[bool, Any, str | None]:
    """(parsed, value, why not): the whole output as one JSON value."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group("body").strip()
    try:
        return True, json.loads(body), None
    except json.JSONDecodeError as exc:
        return False, None, f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    except RecursionError:
        return False, None, "nested too deeply"


def check_json(text: str, finish_reason: str | None, schema: dict[str, Any] | bool | None
               ) -> JsonCheck:
    """Parse the output and validate it against ``schema`` (None: parse only)."""
    parsed, value, why = parse_json(text)
    if not parsed:
        if finish_reason == "length":
            return JsonCheck("truncated",
                             message=f"max_tokens reached before the JSON ended ({why})")
        return JsonCheck("not JSON", message=why)
    if schema is None:
        return JsonCheck("parses", value)
    import jsonschema

    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return JsonCheck("valid", value)
    return JsonCheck("invalid", value, json_path(error.absolute_path), error.message[:300])


def status(score: Score) -> JsonStatus | None:
    """The status a ``json_parses`` or ``schema_valid`` score was given, read from its reason."""
    if score.value is None:
        return None
    if score.reason is None:
        return "valid" if score.metric == "schema_valid" else "parses"
    words: tuple[JsonStatus, ...] = ("truncated", "not JSON", "invalid")
    return next((word for word in words if score.reason.startswith(word)), None)


_JSON_CHECKS = (("schema_valid", "valid JSON"), ("json_parses", "parses as JSON"))


def _json_check(values: Mapping[str, float | None]) -> tuple[str, str, float] | None:
    """The strictest JSON check an output was scored by: (metric, its pass wording, value)."""
    for metric, good in _JSON_CHECKS:
        value = values.get(metric)
        if value is not None:
            return metric, good, value
    return None


def json_problem(values: Mapping[str, float | None], reasons: Mapping[str, str]) -> str | None:
    """An output's first JSON problem ("⚠ invalid at $.label: …", "⚠ truncated: …", "⚠ not
    JSON: …"); None when it was not scored as JSON or its JSON is fine."""
    check = _json_check(values)
    if check is None or check[2] == 1.0:
        return None
    reason = reasons.get(check[0]) or "not JSON"
    if len(reason) > NOTE_CHARS:
        reason = reason[:NOTE_CHARS - 1].rstrip() + "…"
    return f"⚠ {reason}"


def json_note(values: Mapping[str, float | None], reasons: Mapping[str, str]) -> str | None:
    """An output's JSON in a few words, for a score line or a tooltip: "valid JSON", "parses as
    JSON", or its first problem (:func:`json_problem`); None when the output was not scored as
    JSON."""
    check = _json_check(values)
    if check is None:
        return None
    return check[1] if check[2] == 1.0 else json_problem(values, reasons)


def leaves(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Every leaf of a JSON value as (path, canonical JSON text); list positions become ``[]``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item, f"{path}[]")
    else:
        yield path, json.dumps(value, sort_keys=True, ensure_ascii=False)


def _signature(metric: str) -> str:
    return f"{metric}|json|v{VERSION}"


def field_scores(value: Any, references: Sequence[str]) -> list[Score]:
    """Exact match and F1 over leaf values against the best JSON reference."""
    gold: list[Counter[tuple[str, str]]] = []
    for ref in references:
        ok, parsed, _ = parse_json(ref)
        if ok:
            gold.append(Counter(leaves(parsed)))
    em_sig, f1_sig = _signature("json_exact_match"), _signature("json_field_f1")
    if not gold:
        return [Score("json_exact_match", None, em_sig, NO_JSON_REFERENCE),
                Score("json_field_f1", None, f1_sig, NO_JSON_REFERENCE)]
    mine = Counter(leaves(value))
    best_em, best_f1 = 0.0, 0.0
    for counts in gold:
        common = sum((mine & counts).values())
        f1 = 0.0
        if common:
            precision, recall = common / sum(mine.values()), common / sum(counts.values())
            f1 = 2 * precision * recall / (precision + recall)
        elif not mine and not counts:
            f1 = 1.0
        best_f1 = max(best_f1, f1)
        best_em = max(best_em, 1.0 if mine == counts else 0.0)
    return [Score("json_exact_match", best_em, em_sig), Score("json_field_f1", best_f1, f1_sig)]


def structured_scores(text: str, finish_reason: str | None,
                      schema: dict[str, Any] | bool | None,
                      references: Sequence[str] = ()) -> list[Score]:
    """Every JSON score of one output (see the module's description)."""
    check = check_json(text, finish_reason, schema)
    parses = check.status in ("valid", "parses", "invalid")
    scores = [Score("json_parses", 1.0 if parses else 0.0, _signature("json_parses"),
                    None if parses else check.reason)]
    if schema is None:
        scores.append(Score("schema_valid", None, _signature("schema_valid"), NO_SCHEMA))
    else:
        scores.append(Score("schema_valid", 1.0 if check.status == "valid" else 0.0,
                            _signature("schema_valid"), check.reason))
    if references:
        if parses:
            scores.extend(field_scores(check.value, references))
        else:
            fields = field_scores({}, references)
            scores.extend(Score(s.metric, None if s.value is None else 0.0, s.signature,
                                s.reason or check.reason) for s in fields)
    return scores
