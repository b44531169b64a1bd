"""JSON scores on hand-made outputs: parses, valid, invalid at a known path, not JSON, truncated;
field-level exact match and F1 over leaf values."""

from __future__ import annotations

import json

import pytest

from playground.evaluation.structured import (
    check_json,
    field_scores,
    json_note,
    status,
    structured_scores,
)

SENTIMENT = {
    "type": "object",
    "properties": {
        "label": {"enum": ["positive", "negative", "neutral"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["label", "confidence"],
    "additionalProperties": False,
}
ENTITIES = {
    "type": "object",
    "properties": {"entities": {"type": "array", "items": {
        "type": "object", "properties": {"text": {"type": "string"},
                                         "type": {"enum": ["PERSON", "ORG"]}},
        "required": ["text", "type"]}}},
    "required": ["entities"],
}


def by_metric(text: str, finish: str, schema: object, refs: tuple[str, ...] = ()
              ) -> dict[str, tuple[float | None, str | None]]:
    return {s.metric: (s.value, s.reason)
            for s in structured_scores(text, finish, schema, refs)}  # type: ignore[arg-type]


def test_a_valid_output_parses_and_validates() -> None:
    scores = by_metric('{"label": "positive", "confidence": 0.9}', "stop", SENTIMENT)
    assert scores["json_parses"] == (1.0, None)
    assert scores["schema_valid"] == (1.0, None)


def test_an_invalid_output_names_the_first_error_path() -> None:
    text = json.dumps({"entities": [{"text": "Ada", "type": "PERSON"},
                                    {"text": "ACME", "type": "COMPANY"}]})
    check = check_json(text, "stop", ENTITIES)
    assert check.status == "invalid"
    assert check.path == "$.entities[1].type"
    scores = structured_scores(text, "stop", ENTITIES)
    valid = next(s for s in scores if s.metric == "schema_valid")
    assert valid.value == 0.0
    assert valid.reason is not None and valid.reason.startswith("invalid at $.entities[1].type:")
    assert "COMPANY" in valid.reason
    assert status(valid) == "invalid"
    assert by_metric(text, "stop", ENTITIES)["json_parses"] == (1.0, None)


def test_a_missing_required_field_is_invalid_at_the_object() -> None:
    check = check_json('{"label": "neutral"}', "stop", SENTIMENT)
    assert (check.status, check.path) == ("invalid", "$")
    assert "confidence" in (check.message or "")


def test_text_that_is_not_json_is_not_json_not_truncated() -> None:
    scores = structured_scores("The answer is positive.", "stop", SENTIMENT)
    parses = next(s for s in scores if s.metric == "json_parses")
    assert parses.value == 0.0 and status(parses) == "not JSON"
    assert status(next(s for s in scores if s.metric == "schema_valid")) == "not JSON"


def test_an_output_cut_off_by_max_tokens_is_truncated_not_invalid() -> None:
    text = '{"label": "positive", "confid'
    scores = structured_scores(text, "length", SENTIMENT)
    assert {s.metric: status(s) for s in scores} == {"json_parses": "truncated",
                                                     "schema_valid": "truncated"}
    # The same text ended by the model itself is simply not JSON.
    assert check_json(text, "stop", SENTIMENT).status == "not JSON"


def test_a_fenced_block_is_read_as_its_json() -> None:
    assert check_json('```json\n{"label": "negative", "confidence": 0}\n```', "stop",
                      SENTIMENT).status == "valid"


def test_without_a_schema_validity_is_not_applicable() -> None:
    scores = by_metric("[1, 2]", "stop", None)
    assert scores["json_parses"] == (1.0, None)
    assert scores["schema_valid"][0] is None


def test_field_f1_over_leaf_values() -> None:
    reference = json.dumps({"PERSON": ["Ada", "Alan"], "ORG": ["ACME"], "DATE": []})
    # 2 of 3 output leaves are right (Ada, ACME); the reference has 3 leaves: P = R = 2/3.
    output = {"PERSON": ["Alan Turing", "Ada"], "ORG": ["ACME"]}
    em, f1 = field_scores(output, [reference])
    assert em.value == 0.0
    assert f1.value == pytest.approx(2 / 3)
    # The order of a list does not count; all leaves equal is an exact match.
    same = {"ORG": ["ACME"], "PERSON": ["Alan", "Ada"]}
    em, f1 = field_scores(same, [reference])
    assert (em.value, f1.value) == (1.0, 1.0)


def test_field_f1_unequal_precision_and_recall() -> None:
    reference = json.dumps({"a": 1, "b": "x", "c": True, "d": None})
    output = {"a": 1, "b": "x"}  # P = 2/2, R = 2/4 → F1 = 2/3
    assert field_scores(output, [reference])[1].value == pytest.approx(2 / 3)
    # Values compare as JSON: 1 and "1" differ.
    assert field_scores({"a": "1"}, [json.dumps({"a": 1})])[1].value == 0.0


def test_the_best_json_reference_counts_and_text_references_are_not_applicable() -> None:
    refs = ("not json at all", json.dumps({"label": "negative"}), json.dumps({"label": "positive"}))
    em, f1 = field_scores({"label": "positive"}, refs)
    assert (em.value, f1.value) == (1.0, 1.0)
    em, f1 = field_scores({"label": "positive"}, ("plain text",))
    assert em.value is None and f1.value is None and f1.reason == "no JSON reference"


def test_field_scores_of_an_output_that_does_not_parse_are_zero() -> None:
    scores = by_metric("{", "length", None, (json.dumps({"a": 1}),))
    assert scores["json_field_f1"][0] == 0.0
    assert (scores["json_field_f1"][1] or "").startswith("truncated")


def note(text: str, finish: str, schema: object) -> str | None:
    scores = structured_scores(text, finish, schema)  # type: ignore[arg-type]
    return json_note({s.metric: s.value for s in scores},
                     {s.metric: s.reason for s in scores if s.reason})


def test_a_note_says_in_a_line_how_an_outputs_json_fared() -> None:
    assert note('{"label": "positive", "confidence": 0.9}', "stop", SENTIMENT) == "valid JSON"
    assert note('{"anything": 1}', "stop", None) == "parses as JSON"
    invalid = note('{"label": "maybe", "confidence": 0.9}', "stop", SENTIMENT)
    assert invalid is not None and invalid.startswith("⚠ invalid at $.label: 'maybe'")
    assert len(invalid) <= 2 + 72 and invalid.endswith("…")  # the whole reason is elsewhere
    truncated = note('{"label": "pos', "length", SENTIMENT)
    assert truncated is not None and truncated.startswith("⚠ truncated: max_tokens reached")
    assert note("positive", "stop", None) == (
        "⚠ not JSON: Expecting value at line 1, column 1")
    assert json_note({"rougeL": 0.4}, {}) is None  # not scored as JSON
