"""What constraining the output costs: decode tokens/s with and without a grammar on the same
prompts and the same loaded model, in turns, several rounds.

llama.cpp's grammar sampler checks candidate tokens against the grammar's stacks at every step,
so a constrained run decodes slower; how much depends on the grammar (any JSON, a schema with
enums and bounded strings) and on how many candidates reach it. The table reports the median
speed of each and its ratio to the unconstrained speed, all measured in this one run.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions
from playground.events import ChatMessage, Finished, GenerationRequest
from playground.output_constraint import OutputConstraint
from playground.sampling import SamplingParams

PROMPTS = (
    "Describe a lighthouse keeper as a JSON object with name, age, habits and a short story.",
    "List three books about the sea as JSON, with title, author, year and a one-line summary.",
    "Give the weather for five cities as JSON: city, temperature, sky and wind.",
)
SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 40},
        "items": {"type": "array", "maxItems": 6, "items": {
            "type": "object",
            "properties": {"title": {"type": "string", "maxLength": 60},
                           "kind": {"enum": ["book", "city", "person", "other"]},
                           "score": {"type": "integer", "minimum": 0, "maximum": 10}},
            "required": ["title", "kind", "score"]}},
    },
    "required": ["name", "items"],
}
CONSTRAINTS: tuple[tuple[str, OutputConstraint | None], ...] = (
    ("no grammar", None),
    ("any JSON", OutputConstraint("json")),
    ("JSON Schema", OutputConstraint("json_schema", json.dumps(SCHEMA))),
)


def grammar_cost(model: Path, rounds: int = 3, max_tokens: int = 96) -> list[tuple[str, str]]:
    speeds: dict[str, list[float]] = {name: [] for name, _ in CONSTRAINTS}
    tokens: dict[str, int] = dict.fromkeys(speeds, 0)
    with LocalBackend(model, LoadOptions(n_ctx=2048)) as backend:
        for _ in range(rounds):
            for prompt in PROMPTS:
                for name, constraint in CONSTRAINTS:  # in turns: drift hits every setting alike
                    request = GenerationRequest(
                        messages=(ChatMessage("user", prompt),),
                        params=SamplingParams(temperature=0, seed=1, max_tokens=max_tokens),
                        constraint=constraint)
                    final = list(backend.generate(request))[-1]
                    if not isinstance(final, Finished):
                        raise RuntimeError(f"{name}: {final}")
                    if final.result.tokens_per_second:
                        speeds[name].append(final.result.tokens_per_second)
                        tokens[name] += final.result.completion_tokens
    base = statistics.median(speeds["no grammar"])
    rows = []
    for name, values in speeds.items():
        median = statistics.median(values)
        rows.append((f"{name}: decode tokens/s (median of {len(values)})", f"{median:.1f}"))
        if name != "no grammar":
            rows.append((f"{name} / no grammar", f"{median / base:.2f}×"))
        rows.append((f"{name}: tokens generated", str(tokens[name])))
    return rows


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.run import print_table
    from playground.engine.models import resolve_model

    print_table("Grammar cost", grammar_cost(resolve_model(None)))
