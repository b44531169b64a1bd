"""Constrained generation on the bundled model, locally, through the CLI and against a server.

What the model says is never asserted: only that a constrained output parses and follows its
schema or grammar, or was cut off by max_tokens and is then reported as truncated.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.engine.backends import LocalBackend
from playground.engine.endpoints import Endpoint
from playground.engine.remote import RemoteBackend
from playground.evaluation.structured import check_json
from playground.events import ChatMessage, Failed, Finished, GenerationRequest
from playground.output_constraint import OutputConstraint
from playground.sampling import SamplingParams
from tests.integration.conftest import collect
from tests.integration.llama_server import llama_server

#: Bounded: an enum and a short string, so a small model finishes it well within the budget.
SCHEMA = {
    "type": "object",
    "properties": {"label": {"enum": ["positive", "negative", "neutral"]},
                   "reason": {"type": "string", "maxLength": 24}},
    "required": ["label", "reason"],
    "additionalProperties": False,
}
CONSTRAINT = OutputConstraint("json_schema", json.dumps(SCHEMA))
QUESTION = (ChatMessage("user", "Is this review positive, negative or neutral? "
                                "'The battery died after a day.'"),)


def assert_parses_and_validates(text: str, finish: str) -> None:
    check = check_json(text, finish, SCHEMA)
    if finish == "length":
        assert check.status in ("valid", "truncated"), (text, check)
    else:
        assert check.status == "valid", (text, check)


@pytest.mark.model
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_schema_constrained_generation_parses_and_validates(backend: LocalBackend,
                                                              seed: int) -> None:
    params = SamplingParams(temperature=0.9, seed=seed, max_tokens=64)
    _, result = collect(backend, GenerationRequest(messages=QUESTION, params=params,
                                                   constraint=CONSTRAINT))
    assert result.error is None
    assert_parses_and_validates(result.text, result.finish_reason)
    record = result.record or {}
    assert record["output_constraint"]["kind"] == "json_schema"
    assert record["output_constraint"]["sha256"] == CONSTRAINT.digest()
    assert "grammar" in [step["name"] for step in record["sampler_chain"]]
    assert record["request"]["output"] == CONSTRAINT.to_dict()


@pytest.mark.model
def test_a_budget_too_small_for_the_object_is_truncated_not_invalid(backend: LocalBackend) -> None:
    params = SamplingParams(temperature=0, seed=1, max_tokens=3)
    _, result = collect(backend, GenerationRequest(messages=QUESTION, params=params,
                                                   constraint=CONSTRAINT))
    # Three tokens cannot hold both required keys: the grammar has not let the model finish.
    assert result.finish_reason == "length"
    assert check_json(result.text, result.finish_reason, SCHEMA).status == "truncated"


@pytest.mark.model
def test_a_grammar_decides_the_words(backend: LocalBackend) -> None:
    grammar = OutputConstraint("grammar", 'root ::= "yes" | "no"')
    for seed in (1, 2):
        params = SamplingParams(temperature=1.0, seed=seed, max_tokens=8)
        _, result = collect(backend, GenerationRequest(prompt="Is water wet? Answer:",
                                                       params=params, constraint=grammar))
        assert result.text in ("yes", "no")
        assert result.finish_reason == "stop"


@pytest.mark.model
def test_a_grammar_llama_cpp_cannot_parse_fails_with_a_message(backend: LocalBackend) -> None:
    bad = OutputConstraint("grammar", "root ::= missing-rule")
    events = list(backend.generate(GenerationRequest(prompt="Hi", constraint=bad)))
    assert isinstance(events[-1], Failed)
    assert "could not parse the grammar" in str(events[-1].error)
    unsupported = OutputConstraint("json_schema", json.dumps({"not": {"type": "string"}}))
    events = list(backend.generate(GenerationRequest(prompt="Hi", constraint=unsupported)))
    assert isinstance(events[-1], Failed)
    assert "cannot enforce this JSON Schema" in str(events[-1].error)
    # The worker is still there for the next request.
    _, result = collect(backend, GenerationRequest(prompt="Hi", params=SamplingParams(
        max_tokens=2, seed=1)))
    assert result.finish_reason in ("stop", "length")


# -- the command line -------------------------------------------------------------------------


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True,
                          text=True, timeout=300, check=False, env=env)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PLAYGROUND_DB": str(tmp_path / "playground.db"),
            "XDG_DATA_HOME": str(tmp_path / "data")}


@pytest.mark.model
def test_generate_with_a_schema_file_and_a_malformed_one(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    schema = tmp_path / "review.schema.json"
    schema.write_text(json.dumps(SCHEMA), encoding="utf-8")
    proc = run(env, "generate", "--chat", "--json-schema", str(schema), "--json", "-n", "64",
               "--seed", "4", QUESTION[0].content)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert_parses_and_validates(result["text"], result["finish_reason"])
    schema.write_text('{"type": "object", "properties": {"label": {"type": "lable"}}}',
                      encoding="utf-8")
    proc = run(env, "generate", "--json-schema", str(schema), "Hi")
    assert proc.returncode != 0
    assert "the JSON Schema is not valid at $.properties.label.type" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.model
def test_compare_a_json_schema_template_scores_validity(env: dict[str, str]) -> None:
    proc = run(env, "compare", "-T", "sentiment-json-schema", "-d", "sentiment", "--rows", "2",
               "--no-perplexity")
    assert proc.returncode == 0, proc.stderr
    db = sqlite3.connect(env["PLAYGROUND_DB"])
    rows = db.execute("SELECT r.finish_reason, r.output, s.metric, s.value FROM scores s "
                      "JOIN runs r ON r.id = s.run_id WHERE s.metric IN "
                      "('json_parses', 'schema_valid')").fetchall()
    assert len(rows) == 4
    for finish, output, _metric, value in rows:
        assert value == 1.0 or finish == "length", output
    assert "valid against the schema" in proc.stdout


# -- a server ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(default_model_path: Path) -> Iterator[RemoteBackend]:
    with llama_server(default_model_path) as url:
        yield RemoteBackend(Endpoint("test-server", url + "/v1", "model"))


@pytest.mark.model
def test_a_server_constrains_to_any_json(server: RemoteBackend) -> None:
    params = SamplingParams(temperature=0, seed=1, max_tokens=48)
    events = list(server.generate(GenerationRequest(messages=QUESTION, params=params,
                                                    constraint=OutputConstraint("json"))))
    assert isinstance(events[-1], Finished), events[-1]
    result = events[-1].result
    status = check_json(result.text, result.finish_reason, None).status
    assert status == "parses" or (result.finish_reason == "length" and status == "truncated")
    assert (result.record or {})["request"]["output"] == {"kind": "json", "text": ""}


@pytest.mark.model
def test_a_server_that_refuses_json_schema_or_grammar_is_named(server: RemoteBackend) -> None:
    # llama-cpp-python's server knows response_format json_object only, and has no /props.
    events = list(server.generate(GenerationRequest(messages=QUESTION, constraint=CONSTRAINT)))
    assert isinstance(events[-1], Failed)
    message = str(events[-1].error)
    assert message.startswith("test-server refused the output constraint "
                              "(response_format json_schema)")
    grammar = OutputConstraint("grammar", 'root ::= "yes"')
    events = list(server.generate(GenerationRequest(prompt="Hi", constraint=grammar)))
    assert isinstance(events[-1], Failed)
    assert "a GBNF grammar can be sent only to a llama.cpp server" in str(events[-1].error)
