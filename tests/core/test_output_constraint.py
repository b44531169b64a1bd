"""Output constraints: what a schema or grammar may be, a template header's ``output``, storage
round trips and run keys, the remote request fields, and the local converter's refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from playground.comparison import ComparisonSpec, Input, Variant, content_hash
from playground.engine.constraints import check_local, gbnf_for
from playground.engine.endpoints import Endpoint
from playground.engine.remote import RemoteBackend, constraint_fields
from playground.events import GenerationRequest
from playground.output_constraint import (
    ConstraintError,
    OutputConstraint,
    constraint_from_file,
    make_constraint,
)
from playground.prompts.templates import parse_template
from playground.runs.build import variant_from_template
from playground.sampling import SamplingParams
from playground.storage.comparisons import spec_from_dict, spec_to_dict

SCHEMA = json.dumps({"type": "object", "properties": {"label": {"enum": ["yes", "no"]}},
                     "required": ["label"]})


def test_a_malformed_schema_is_refused_with_its_place() -> None:
    with pytest.raises(ConstraintError, match=r"not valid at \$\.properties\.label\.type"):
        OutputConstraint("json_schema", json.dumps(
            {"type": "object", "properties": {"label": {"type": "strng"}}}))
    with pytest.raises(ConstraintError, match=r"is not JSON: .* line 1"):
        OutputConstraint("json_schema", "{type: object}")
    with pytest.raises(ConstraintError, match="must be an object"):
        OutputConstraint("json_schema", "[1, 2]")
    with pytest.raises(ConstraintError, match="grammar is empty"):
        OutputConstraint("grammar", "  ")
    with pytest.raises(ConstraintError, match="unknown output format 'xml'"):
        make_constraint("xml")


def test_a_schema_feature_the_local_converter_cannot_enforce_is_a_message() -> None:
    refused = OutputConstraint("json_schema", json.dumps({"not": {"type": "string"}}))
    with pytest.raises(ConstraintError, match="local generation cannot enforce this JSON Schema"):
        check_local(refused)
    remote_ref = OutputConstraint("json_schema", json.dumps({"$ref": "https://example.com/s"}))
    with pytest.raises(ConstraintError, match="Fetching remote schemas"):
        check_local(remote_ref)
    check_local(OutputConstraint("json_schema", SCHEMA))
    assert re.search(r"^root\s+::= object", gbnf_for(OutputConstraint("json")), re.MULTILINE)


def test_a_constraint_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "answer.schema.json"
    path.write_text(SCHEMA, encoding="utf-8")
    constraint = constraint_from_file("json_schema", path)
    assert constraint.schema() == json.loads(SCHEMA)
    assert constraint.label == "JSON Schema (answer.schema.json)"
    with pytest.raises(ConstraintError, match="no such file"):
        constraint_from_file("grammar", tmp_path / "missing.gbnf")


HEADER = """{#---
name: Yes or no
output: {json_schema: {type: object, properties: {label: {enum: [yes, no]}}}}
---#}
Answer: {{ question }}"""


def test_a_template_header_carries_a_constraint_and_old_headers_carry_none() -> None:
    template = parse_template(HEADER, "yes-no")
    assert template.meta.output is not None and template.meta.output.kind == "json_schema"
    assert template.meta.output.schema() == {
        "type": "object", "properties": {"label": {"enum": ["yes", "no"]}}}
    assert parse_template("{#---\nname: plain\n---#}\n{{ x }}", "plain").meta.output is None
    assert parse_template("{#---\noutput: json\n---#}\n{{ x }}", "j").meta.output == \
        OutputConstraint("json")
    with pytest.raises(ConstraintError, match="'output' must be json"):
        parse_template("{#---\noutput: yaml\n---#}\n{{ x }}", "bad")
    with pytest.raises(ConstraintError, match="bad: 'output': the JSON Schema is not valid"):
        parse_template("{#---\noutput: {json_schema: {type: 3}}\n---#}\n{{ x }}", "bad")


def test_variants_take_the_header_constraint_unless_given() -> None:
    template = parse_template(HEADER, "yes-no")
    assert variant_from_template(template).output == template.meta.output
    assert variant_from_template(template, output=None).output is None
    grammar = OutputConstraint("grammar", 'root ::= "yes" | "no"')
    assert variant_from_template(template, output=grammar).output == grammar


def _variant(output: OutputConstraint | None) -> Variant:
    return Variant("v", "t", "{{ x }}", SamplingParams(), "model.gguf", output=output)


def test_the_constraint_is_stored_and_read_back_and_part_of_the_key() -> None:
    constraint = OutputConstraint("json_schema", SCHEMA, "answer.schema.json")
    spec = ComparisonSpec("c", (_variant(constraint),), (Input("i", {"x": "1"}),))
    back = spec_from_dict(json.loads(json.dumps(spec_to_dict(spec))))
    assert back.variants[0].output == constraint
    assert _variant(constraint).key() != _variant(None).key()
    assert _variant(OutputConstraint("json")).key() != _variant(constraint).key()


def test_a_comparison_stored_before_constraints_reads_as_no_constraint() -> None:
    spec = ComparisonSpec("c", (_variant(None),), (Input("i", {"x": "1"}),))
    data = spec_to_dict(spec)
    assert "output" not in data["variants"][0]
    assert spec_from_dict(data).variants[0].output is None
    # The key of an unconstrained variant is what it was before constraints existed, so an
    # older comparison resumes where it stopped.
    v = _variant(None)
    assert v.key() == content_hash({"template": v.template_source, "params": v.params.to_dict(),
                                    "model": v.model, "values": {}, "chat": False})


def test_remote_fields_for_each_kind() -> None:
    assert constraint_fields(OutputConstraint("json")) == {
        "response_format": {"type": "json_object"}}
    fields = constraint_fields(OutputConstraint("json_schema", SCHEMA))
    assert fields["response_format"]["type"] == "json_schema"
    assert fields["response_format"]["json_schema"]["schema"] == json.loads(SCHEMA)
    assert constraint_fields(OutputConstraint("grammar", 'root ::= "a"')) == {
        "grammar": 'root ::= "a"'}
    backend = RemoteBackend(Endpoint("srv", "http://127.0.0.1:9/v1", "m"))
    body = backend.build_body(GenerationRequest(prompt="p", constraint=OutputConstraint("json")),
                              SamplingParams(seed=1))
    assert body["response_format"] == {"type": "json_object"}
    assert "response_format" not in backend.build_body(GenerationRequest(prompt="p"),
                                                       SamplingParams(seed=1))
