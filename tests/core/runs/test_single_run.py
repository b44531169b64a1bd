"""A Playground run: built from what the editor holds, saved, and opened back the same."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from playground.comparison import ComparisonError
from playground.engine.endpoints import Endpoint
from playground.engine.remote import RemoteBackend
from playground.errors import PlaygroundError
from playground.events import Result, TokenLogprob
from playground.output_constraint import OutputConstraint
from playground.prompts.template_errors import error_line
from playground.prompts.templates import TemplateError, parse_template, render_template
from playground.runs.opening import open_stored_run
from playground.runs.preview import preview_prompt
from playground.runs.single_run import (
    PLAYGROUND_PREFIX,
    SINGLE_RUN_METRICS,
    SingleRun,
    reseeded,
    single_run_spec,
)
from playground.sampling import SamplingParams
from playground.storage.store import Store

SOURCE = ("{#---\nname: Greeting\nvariables:\n  who: {type: text}\n---#}\n"
          "{% include 'sign-off' %}Say hello to {{ who }}.")
SETUP = SingleRun(
    template_id="greeting",
    template_source=SOURCE,
    model="/models/some-model.Q4_0.gguf",
    params=SamplingParams(temperature=0.3, max_tokens=12),
    values={"who": "Ada"},
    references=("Hello, Ada.", "Hi Ada."),
    library_sources={"sign-off": "Kind regards. "},
    alternatives=5,
)


def test_the_spec_runs_one_variant_on_one_input_with_the_seed_given() -> None:
    spec = single_run_spec(SETUP, 4242)
    assert spec.name == f"{PLAYGROUND_PREFIX}greeting"
    assert (len(spec.variants), len(spec.inputs), spec.samples) == (1, 1, 1)
    (variant,) = spec.variants
    assert variant.template_source == SOURCE
    assert variant.params == replace(SETUP.params, seed=4242)
    assert variant.model == SETUP.model
    assert dict(variant.values) == {"who": "Ada"}
    assert dict(variant.library_sources) == {"sign-off": "Kind regards. "}
    assert spec.inputs[0].references == SETUP.references
    assert spec.base_seed == 4242
    assert spec.metrics == SINGLE_RUN_METRICS and "confidence" in spec.metrics
    assert spec.logprobs == 5
    assert spec.kind == "run"


@pytest.mark.parametrize(("change", "message"), [
    ({"template_id": ""}, "choose a template first"),
    ({"template_source": "  \n"}, "choose a template first"),
    ({"model": ""}, "no model is chosen; add one in the Models tab"),
])
def test_what_is_missing_is_named(change: dict[str, str], message: str) -> None:
    with pytest.raises(ComparisonError, match=message):
        single_run_spec(replace(SETUP, **change), 1)  # type: ignore[arg-type]


def test_regenerate_keeps_the_prompt_and_changes_only_seed_and_alternatives() -> None:
    spec = single_run_spec(SETUP, 1)
    again = reseeded(spec, 99, None)
    assert again.base_seed == 99 and again.variants[0].params.seed == 99
    assert again.logprobs is None
    assert replace(again.variants[0], params=spec.variants[0].params) == spec.variants[0]
    assert (again.inputs, again.name, again.metrics) == (spec.inputs, spec.name, spec.metrics)


def save(store: Store, setup: SingleRun, seed: int, *, status: str = "ok",
          error: str | None = None) -> int:
    """Store a run of ``setup`` as the runner does, with an output made up by the test."""
    spec = single_run_spec(setup, seed)
    comparison_id = store.save_comparison(spec)
    variant_id = store.variant_ids(comparison_id)[spec.variants[0].name]
    input_id = store.input_ids(comparison_id)["input"]
    result = Result(
        text="Hello, Ada." if status == "ok" else "", finish_reason="stop",
        prompt_tokens=17, completion_tokens=4, ttft_s=0.02, tokens_per_second=50.0, total_s=0.1,
        rendered_prompt="Kind regards. Say hello to Ada.", params=spec.variants[0].params,
        model={"name": "Weird Header Name Ep2", "path": setup.model},
        logprobs=(TokenLogprob("Hello", -0.1, (("Hello", -0.1), ("Hi", -2.3))),),
    )
    return store.save_run(
        comparison_id=comparison_id, variant_id=variant_id, input_id=input_id, sample=0,
        seed=seed, run_key=f"key-{seed}", result=result, status=status,  # type: ignore[arg-type]
        error=error,
    )


def test_a_saved_run_opens_back_as_exactly_what_ran(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    with Store(db) as store:
        run_id = save(store, SETUP, 4242)

    stored = open_stored_run(db, run_id)

    assert stored.run_id == run_id
    assert stored.setup == replace(SETUP, params=replace(SETUP.params, seed=4242),
                                   alternatives=None)
    assert stored.template is not None and stored.template.meta.name == "Greeting"
    assert stored.run.output == "Hello, Ada."
    assert stored.run.logprobs is not None and stored.run.logprobs[0].token == "Hello"
    # Run again from what was opened, it is the same comparison.
    assert single_run_spec(replace(stored.setup, alternatives=5), 4242) == single_run_spec(
        SETUP, 4242)


def test_an_output_constraint_goes_with_the_variant_and_opens_back(tmp_path: Path) -> None:
    schema = OutputConstraint("json_schema", '{"type": "object"}', "shape.json")
    constrained = replace(SETUP, output=schema)
    assert single_run_spec(constrained, 7).variants[0].output == schema
    assert single_run_spec(SETUP, 7).variants[0].output is None
    db = tmp_path / "history.db"
    with Store(db) as store:
        run_id = save(store, constrained, 7)
    assert open_stored_run(db, run_id).setup.output == schema


def test_a_stored_source_that_no_longer_parses_still_opens(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    broken = replace(SETUP, template_source="{% if %}broken")
    with Store(db) as store:
        run_id = save(store, broken, 7)
    stored = open_stored_run(db, run_id)
    assert stored.template is None
    assert stored.setup.template_source == "{% if %}broken"


def test_a_run_that_is_not_there_or_not_from_a_comparison_says_so(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    with Store(db) as store:
        lone = store.save_run(comparison_id=None, variant_id=None, input_id=None, sample=0,
                              seed=1, run_key="lone", result=None, status="failed",
                              error="no model")
    with pytest.raises(PlaygroundError, match=f"run {lone} does not belong to a comparison"):
        open_stored_run(db, lone)
    with pytest.raises(PlaygroundError):
        open_stored_run(db, 99999)


def test_the_preview_renders_without_a_model_and_says_why_tokens_are_not_counted() -> None:
    lock = threading.Lock()
    args = (SOURCE, "greeting", {"who": "Ada"}, {"sign-off": "Kind regards. "},
            SamplingParams())
    shown = preview_prompt(*args, None, (), lock)
    assert shown.error is None and shown.tokens is None
    assert shown.text == "Kind regards. Say hello to Ada."
    assert shown.note == "token count: load the model to count the prompt's tokens"
    remote = RemoteBackend(Endpoint("lab", "http://127.0.0.1:9/v1", "m"))
    assert preview_prompt(*args, remote, (), lock).note == (
        "token count: not available for a remote model")
    assert not lock.locked()


def test_the_preview_keeps_a_parsed_template_when_only_rendering_fails() -> None:
    lock = threading.Lock()
    missing = preview_prompt(SOURCE, "greeting", {"who": "Ada"}, {}, SamplingParams(), None, (),
                             lock)
    assert missing.error is not None and missing.template is not None
    assert missing.template.meta.variables == parse_template(SOURCE, "greeting").meta.variables
    broken = preview_prompt("{% if %}", "t", {}, {}, SamplingParams(), None, (), lock)
    assert broken.error is not None and "syntax error" in broken.error
    assert broken.template is None


def test_an_error_marks_the_line_of_the_file_it_names() -> None:
    source = "{#---\nname: t\nvariables: {x: {type: text}}\n---#}\nfirst\n{{ y }}\n"
    with pytest.raises(TemplateError) as undefined:
        render_template(parse_template(source, "t"), {"x": "1"})
    assert error_line(str(undefined.value), source) == 6
    header = "\n\n{#---\nname: t\nvariables: [\n---#}\nbody"
    with pytest.raises(TemplateError) as bad_header:
        parse_template(header, "t")
    assert "metadata header" in str(bad_header.value)
    line = error_line(str(bad_header.value), header)
    assert line is not None and header.splitlines()[line - 1] in ("variables: [", "---#}")
    assert error_line("t: something is wrong", source) is None
