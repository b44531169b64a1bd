"""What the storage tests save: a small comparison, results of a plausible local run, and the
runs of every cell with a failure among them."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from playground.comparison import ComparisonSpec, Input, Variant, run_key
from playground.events import Result
from playground.sampling import SamplingParams
from playground.scores import Score
from playground.storage.store import Store

TEMPLATE = (
    "{#---\nname: Short summary\ntechnique: zero-shot\ntask: summarization\n---#}\n"
    "Summarize in one sentence: {{ text }}"
)
OTHER_TEMPLATE = "Tell me about {{ text }} in {{ style }} style."


def make_result(text: str, prompt: str = "Summarize: the cat sat") -> Result:
    return Result(
        text=text,
        finish_reason="stop",
        prompt_tokens=9,
        completion_tokens=5,
        ttft_s=0.02,
        tokens_per_second=41.5,
        total_s=0.3,
        rendered_prompt=prompt,
        params=SamplingParams(temperature=0.0, seed=7),
        model={
            "name": "SmolLM2-135M",
            "path": "/models/smol.gguf",
            "architecture": "llama",
            "file_type": "Q4_1",
            "parameter_count": 134_515_008,
            "file_size": 100_000_000,
            "backend": "local",
        },
    )


def make_spec(name: str = "summaries") -> ComparisonSpec:
    params = SamplingParams(temperature=0.0, max_tokens=64)
    return ComparisonSpec(
        name=name,
        variants=(
            Variant("plain", "summary", TEMPLATE, params, "smol"),
            Variant(
                "styled", "adhoc", OTHER_TEMPLATE, params, "smol", values={"style": "terse"},
                chat=True, library_sources={"macros.j2": "{% macro x() %}x{% endmacro %}"},
            ),
        ),
        inputs=(
            Input("row-1", {"text": "The cat sat on the mat."}, ("A cat sat.",)),
            Input("row-2", {"text": "Rain fell all day."}, ("It rained.", "Rainy day.")),
        ),
        samples=1,
        metrics=("rouge1", "bleu"),
        language="en",
    )


def save_ok_run(store: Store, comparison_id: int | None, key: str, text: str) -> int:
    return store.save_run(
        comparison_id=comparison_id,
        variant_id=None,
        input_id=None,
        sample=0,
        seed=1,
        run_key=key,
        result=make_result(text),
        status="ok",
        error=None,
        scores=[Score("bleu", 10.0, "bleu|13a")],
    )


def save_cells(store: Store, spec: ComparisonSpec) -> tuple[int, dict[str, int]]:
    """The comparison saved with a run in every cell: ``styled`` on ``row-2`` failed, every
    other run says ``"<variant> says <input>"`` and carries a ROUGE score and a not-applicable
    BLEU. Returns the comparison id and run key → run id."""
    cid = store.save_comparison(spec)
    variant_ids = store.variant_ids(cid)
    input_ids = store.input_ids(cid)
    saved: dict[str, int] = {}
    for variant, input_, sample in spec.cells():
        seed = spec.seed(sample)
        key = run_key(variant, input_, sample, seed)
        failed = variant.name == "styled" and input_.id == "row-2"
        saved[key] = store.save_run(
            comparison_id=cid,
            variant_id=variant_ids[variant.name],
            input_id=input_ids[input_.id],
            sample=sample,
            seed=seed,
            run_key=key,
            result=None if failed else make_result(f"{variant.name} says {input_.id}"),
            status="failed" if failed else "ok",
            error="the model worker crashed" if failed else None,
            scores=()
            if failed
            else [
                Score("rouge1_f", 0.75, "rouge1|script-aware-v1"),
                Score("bleu", None, "bleu|13a", "empty hypothesis"),
            ],
        )
    return cid, saved


def run_count(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
