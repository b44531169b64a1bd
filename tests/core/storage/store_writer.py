"""Saves runs one at a time, printing each run id only once ``save_run`` has returned.

``python tests/core/storage/store_writer.py DB N`` writes N runs. The durability test kills this
process with SIGKILL at a random moment; every id it printed must then be in the database,
with all of its scores. Outputs are a few kilobytes so a kill can land while a transaction is
writing several pages.
"""

from __future__ import annotations

import sys

from playground.events import Result
from playground.sampling import SamplingParams
from playground.scores import Score
from playground.storage.store import Store

SCORES_PER_RUN = 3


def result(n: int) -> Result:
    return Result(
        text=f"answer {n} " + "lorem ipsum dolor sit amet " * 120,
        finish_reason="stop",
        prompt_tokens=12,
        completion_tokens=700,
        ttft_s=0.01,
        tokens_per_second=80.0,
        total_s=1.5,
        rendered_prompt=f"question {n}",
        params=SamplingParams(seed=n),
        model={"name": "writer-model", "path": "/models/writer.gguf", "file_size": 1},
    )


def main(argv: list[str]) -> int:
    path, count = argv[1], int(argv[2])
    with Store(path) as store:
        for n in range(count):
            run_id = store.save_run(
                comparison_id=None,
                variant_id=None,
                input_id=None,
                sample=0,
                seed=n,
                run_key=f"writer-{n}",
                result=result(n),
                status="ok",
                error=None,
                scores=[
                    Score("rouge1_f", 0.5, "rouge1|test"),
                    Score("bleu", 12.5, "bleu|test"),
                    Score("chrf", None, "chrf|test", "no reference"),
                ][:SCORES_PER_RUN],
            )
            print(run_id, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
