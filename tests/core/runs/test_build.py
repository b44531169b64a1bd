"""Building a comparison from templates, a dataset or one shared input, and settings: the one
path the CLI, spec files and the Compare tab share."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from playground.comparison import ComparisonError, Input, Variant
from playground.prompts.collection import Collection, load_collection
from playground.prompts.library import Dataset, Library
from playground.prompts.templates import parse_template
from playground.runs.build import (
    SWEEPABLE,
    build_comparison,
    build_variant,
    detect_sweep,
    fill_variables,
    input_variable,
    library_dataset,
    metrics_for,
    resolve_dataset,
    shared_input,
    variant_from_template,
)
from playground.runs.runner import plan_runs
from playground.runs.spec import spec_from_mapping
from playground.sampling import SamplingParams

DIALOGUE = "Ana: Lunch at noon?\nBen: Yes, see you there."
GREET = """{#---
name: Greeting
variables:
  who: {type: text}
  tone: {type: choice, choices: [warm, dry], default: warm}
  times: {type: number, default: 2}
params: {temperature: 0, max_tokens: 8}
---#}
{{ tone }} hello to {{ who }} x{{ times }}"""
ECHO = """{#---
name: Echo
variables:
  line: {type: text}
---#}
Say: {{ line }}"""


@pytest.fixture(scope="module")
def builtin() -> Collection:
    return load_collection(Path("/nonexistent-folder"))


@pytest.fixture
def mine() -> Collection:
    library = Library("Mine", "", templates=(parse_template(GREET, "greet"),
                                             parse_template(ECHO, "echo")),
                      datasets=(Dataset("people", "misc", ({"who": "Ada", "references": ["hi"]},
                                                           {"who": "Bo", "references": ["yo"]})),))
    return Collection((library,))


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_input_variable_is_the_first_text_variable() -> None:
    assert input_variable(parse_template(GREET, "greet")) == "who"
    assert input_variable(parse_template("{#---\nname: n\nvariables:\n  k: {type: number}\n"
                                         "---#}\n{{ k }}", "numbers")) is None


def test_a_variant_leaves_the_seed_to_the_comparison_and_defaults_to_the_template(
    mine: Collection,
) -> None:
    typed = build_variant(mine, "greet", params={"temperature": 0, "seed": 7},
                          values={"tone": "warm", "times": 2.0})
    left_out = build_variant(mine, "Mine/greet")
    # A value equal to the declared default and 0 for 0.0 make no different variant.
    assert typed == left_out
    assert typed.key() == left_out.key()
    assert typed.params.seed is None
    assert isinstance(typed.params.temperature, float)
    assert typed.params.max_tokens == 8  # the template's own setting
    assert dict(typed.values) == {}
    changed = build_variant(mine, "greet", values={"tone": "dry", "times": 3})
    assert dict(changed.values) == {"tone": "dry", "times": 3}
    assert changed.key() != typed.key()


def test_a_reopened_variant_keeps_its_own_settings_under_the_edited_ones(mine: Collection) -> None:
    stored = {**SamplingParams().to_dict(), "stop": ["END"], "presence_penalty": 0.5}
    variant = build_variant(mine, "greet", params={"max_tokens": 5}, base_params=stored)
    assert variant.params.stop == ("END",)
    assert variant.params.presence_penalty == 0.5
    assert variant.params.max_tokens == 5
    template = parse_template(GREET, "old-greet")
    again = variant_from_template(template, name="old", params={"max_tokens": 5},
                                  base_params=stored)
    assert again.params == variant.params and again.template_id == "old-greet"


def test_a_few_shot_variant_gets_its_example_set(builtin: Collection) -> None:
    variant = build_variant(builtin, "summarization-few-shot")
    assert variant.values["examples"]
    assert "n_examples" not in variant.values  # the template's default applies


def test_dataset_columns_fill_variables_of_their_name_and_drop_a_variants_own(
    mine: Collection,
) -> None:
    greet = build_variant(mine, "greet", values={"tone": "dry", "times": 3})
    inputs = (Input("row-1", {"who": "Ada", "tone": "warm"}), Input("row-2", {"who": "Bo"}))
    (variant,), filled = fill_variables([greet], inputs)
    assert dict(variant.values) == {"times": 3}  # tone comes from the rows
    assert filled == inputs  # every input variable is a column: nothing added
    prompts = [p.prompt_text for p in plan_runs(build_comparison([greet], inputs, name="g"),
                                                  prefix_order=False)]
    assert prompts == ["warm hello to Ada x3", "warm hello to Bo x3"]


def test_an_input_variable_missing_from_the_dataset_takes_its_first_column(
    mine: Collection,
) -> None:
    variants = [build_variant(mine, "greet"), build_variant(mine, "echo")]
    inputs = (Input("row-1", {"conversation": DIALOGUE, "topic": "lunch"}),)
    spec = build_comparison(variants, inputs, name="alias")
    (row,) = spec.inputs
    assert row.values == {"conversation": DIALOGUE, "topic": "lunch", "who": DIALOGUE,
                          "line": DIALOGUE}
    by_variant = {p.variant.name: p.prompt_text for p in plan_runs(spec)}
    assert by_variant == {"greet": f"warm hello to {DIALOGUE} x2", "echo": f"Say: {DIALOGUE}"}


def test_rows_samples_seed_and_metrics(mine: Collection, builtin: Collection) -> None:
    inputs = tuple(Input(f"row-{n}", {"who": str(n)}) for n in range(1, 6))
    variant = build_variant(mine, "greet")
    spec = build_comparison([variant], inputs, name="n", rows=2, samples=3, seed=9)
    assert [i.id for i in spec.inputs] == ["row-1", "row-2"]
    assert (spec.samples, spec.base_seed) == (3, 9)
    assert spec.metrics == metrics_for([variant])
    assert build_comparison([variant], inputs, name="n").inputs == inputs
    with pytest.raises(ComparisonError, match="rows must be at least 1"):
        build_comparison([variant], inputs, name="n", rows=0)
    with pytest.raises(ComparisonError, match="no rows"):
        build_comparison([variant], (), name="n")
    sentiment = build_variant(builtin, "sentiment-zero-shot")
    assert "accuracy" in metrics_for([sentiment])
    assert "accuracy" not in metrics_for([build_variant(builtin, "summarization-zero-shot")])


def test_two_variants_alike_but_for_their_name_are_refused_before_running(
    mine: Collection
) -> None:
    """They would give the same runs, which a comparison can hold only once."""
    inputs = (Input("row-1", {"who": "Ada"}),)
    first = build_variant(mine, "greet", name="first")
    copy = build_variant(mine, "greet", name="copy")
    with pytest.raises(ComparisonError, match="first and copy are the same variant"):
        build_comparison([first, copy], inputs, name="twins")
    other = build_variant(mine, "greet", name="other", params={"max_tokens": 9})
    assert len(build_comparison([first, other], inputs, name="n").variants) == 2


def test_variants_differing_in_one_sampling_setting_form_a_sweep(mine: Collection) -> None:
    inputs = (Input("row-1", {"who": "Ada"}),)
    cold = build_variant(mine, "greet", name="cold", params={"temperature": 0})
    warm = build_variant(mine, "greet", name="warm", params={"temperature": 0.7})
    spec = build_comparison([cold, warm], inputs, name="sweep")
    assert spec.sweep_param == "temperature"
    assert spec.sweep_values() == {"cold": 0.0, "warm": 0.7}
    assert "temperature" in SWEEPABLE
    # Not a sweep: two settings differ, a non-sweepable one differs, values or templates differ.
    assert detect_sweep([cold, replace(warm, params=replace(warm.params, top_k=3))]) is None
    assert detect_sweep([cold, replace(cold, name="b", params=replace(cold.params,
                                                                      max_tokens=3))]) is None
    assert detect_sweep([cold, replace(warm, values={"times": 5})]) is None
    assert detect_sweep([cold, build_variant(mine, "echo")]) is None
    assert detect_sweep([cold]) is None
    same = replace(warm, params=cold.params, name="same")
    assert detect_sweep([cold, same]) is None
    assert build_comparison([cold, warm], inputs, name="s", sweep_param="top_p").sweep_param \
        == "top_p"


def test_one_shared_input_fills_each_templates_input_variable(mine: Collection) -> None:
    variants = [build_variant(mine, "greet"), build_variant(mine, "echo")]
    item = shared_input(variants, DIALOGUE, ["ref one", "ref two"])
    assert item.values == {"who": DIALOGUE, "line": DIALOGUE}
    assert item.references == ("ref one", "ref two")
    spec = build_comparison(variants, (item,), name="shared")
    assert spec.inputs == (item,)
    with pytest.raises(ComparisonError, match="type the input text"):
        shared_input(variants, "  \n", [])


def test_a_variant_whose_template_does_not_parse_builds_and_fails_only_its_runs(
    mine: Collection,
) -> None:
    broken = Variant("broken", "old", "Say {{ line }\n{% if %}", SamplingParams(), "")
    variants = [build_variant(mine, "echo"), broken]
    item = shared_input(variants, "hi")
    spec = build_comparison(variants, (item,), name="mixed")
    planned = {p.variant.name: p for p in plan_runs(spec)}
    assert planned["echo"].prompt_text == "Say: hi"
    assert planned["broken"].request is None and planned["broken"].error


def test_datasets_by_name_by_library_and_by_file(
    mine: Collection, builtin: Collection, tmp_path: Path
) -> None:
    assert [i.values["who"] for i in library_dataset(mine, "Mine", "people").inputs] == [
        "Ada", "Bo"]
    assert resolve_dataset(mine, "people").inputs == library_dataset(mine, "Mine",
                                                                     "people").inputs
    with pytest.raises(ComparisonError, match="no dataset named 'nope' in library 'Mine'"):
        library_dataset(mine, "Mine", "nope")
    with pytest.raises(ComparisonError, match="no dataset named 'nope'"):
        resolve_dataset(builtin, "nope")
    path = write_csv(tmp_path / "people.csv", ["who", "expected"], [["Cy", "hey"]])
    (row,) = resolve_dataset(mine, str(path)).inputs
    assert row.values == {"who": "Cy"} and row.references == ("hey",)


def test_a_spec_file_builds_the_same_comparison_as_the_pieces(
    builtin: Collection, tmp_path: Path
) -> None:
    """A spec file, the CLI's options and the Compare tab end in build_comparison: a file whose
    text column is named after no template variable fills each template's input variable."""
    path = write_csv(tmp_path / "chats.csv", ["conversation", "expected"],
                     [[DIALOGUE, "They meet at noon."], ["Cy: Hi\nDo: Hey", "Greetings."]])
    from_file = spec_from_mapping(
        {"name": "both", "dataset": "chats.csv", "params": {"max_tokens": 4},
         "variants": ["summarization-zero-shot", "sentiment-zero-shot"]},
        builtin, base_dir=tmp_path)
    variants = [build_variant(builtin, t, params={"max_tokens": 4})
                for t in ("summarization-zero-shot", "sentiment-zero-shot")]
    from_pieces = build_comparison(variants, resolve_dataset(builtin, str(path)).inputs,
                                   name="both")
    assert from_file == from_pieces
    assert [i.values["dialogue"] for i in from_file.inputs] == [DIALOGUE, "Cy: Hi\nDo: Hey"]
    assert [i.values["review"] for i in from_file.inputs] == [DIALOGUE, "Cy: Hi\nDo: Hey"]
    planned = plan_runs(from_file)
    assert len(planned) == 4
    assert all(p.input.values["conversation"] in p.prompt_text for p in planned)
