"""``playground score``: a text against its references, on its own module so that scoring one
pair imports the scorers and nothing of comparisons, the store or the models."""

from __future__ import annotations

import argparse
from typing import TextIO

from playground.terminal import json_text


def cmd_score(args: argparse.Namespace, out: TextIO) -> int:
    from playground.evaluation.scoring import score_pair

    scores = score_pair(args.hyp, args.ref, language=args.lang, stem=not args.no_stem)
    if args.json:
        out.write(json_text([{"metric": s.metric, "value": s.value, "reason": s.reason,
                    "signature": s.signature} for s in scores]))
        out.write("\n")
        return 0
    for s in scores:
        value = "N/A" if s.value is None else f"{s.value:.4f}"
        reason = f" ({s.reason})" if s.reason else ""
        out.write(f"{s.metric:<12} {value:>9}{reason}   {s.signature}\n")
    return 0
