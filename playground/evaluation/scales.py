"""How a metric's numbers are shown: its name for a reader, the scale it is shown on and the
label of a column that holds it.

The display rule is one scale per table: every reference metric is shown on 0–1. sacreBLEU
reports BLEU and chrF (and so Self-BLEU) on 0–100; beside ROUGE on 0–1 that reads as "BLEU is
far better", so they are divided by 100 *for display only*. Stored scores, CSV/JSONL exports and
the database keep sacreBLEU's values and their field names. Metrics on a scale of their own
(perplexity, log-probability) say so in their label.
"""

from __future__ import annotations

from typing import Final

from playground.evaluation.judge_scores import JUDGE_PREFIX
from playground.evaluation.stats import Estimate

#: Stored on 0–100 by sacreBLEU; shown divided by 100.
PERCENT_SCALE: Final = frozenset({"bleu", "chrf", "self_bleu", "corpus_bleu"})
#: Shown with their own scale named instead of 0–1.
OWN_SCALE: Final = {"ref_ppl": "lower is better", "mean_logprob": "≤ 0", "min_logprob": "≤ 0"}
#: Decimals of every shown mean: a thousandth of the 0–1 scale (sacreBLEU's one decimal on
#: 0–100 is the same resolution).
DIGITS: Final = 3
#: The scale of every reference metric in a table.
UNIT: Final = "0–1"
#: The scale of a judge's rubric score (``judge:<criterion>``): its expected score, 1 to 5.
RUBRIC_UNIT: Final = "1–5"

_LABELS: Final = {
    "rouge1_f": "ROUGE-1", "rouge2_f": "ROUGE-2", "rougeL_f": "ROUGE-L",
    "rouge1_p": "ROUGE-1 precision", "rouge2_p": "ROUGE-2 precision",
    "rougeL_p": "ROUGE-L precision", "rouge1_r": "ROUGE-1 recall", "rouge2_r": "ROUGE-2 recall",
    "rougeL_r": "ROUGE-L recall", "rougeLsum_f": "ROUGE-Lsum",
    "rougeLsum_p": "ROUGE-Lsum precision", "rougeLsum_r": "ROUGE-Lsum recall",
    "bleu": "BLEU", "chrf": "chrF", "self_bleu": "Self-BLEU",
    "corpus_bleu": "corpus BLEU", "accuracy": "accuracy", "exact_match": "exact match",
    "token_f1": "token F1", "entity_f1": "entity F1", "ref_ppl": "reference perplexity",
    "mean_logprob": "mean log-probability", "min_logprob": "lowest token log-probability",
    "distinct_1": "distinct-1", "distinct_2": "distinct-2",
    "json_parses": "parses as JSON", "schema_valid": "valid against the schema",
    "json_exact_match": "JSON exact match", "json_field_f1": "JSON field F1",
}
#: Short names the window's columns use, as stored score names.
_SHORT: Final = {"rouge1": "rouge1_f", "rouge2": "rouge2_f", "rougeL": "rougeL_f"}

SCALE_NOTE: Final = ("Every overlap metric is shown on 0–1: sacreBLEU's BLEU and chrF (0–100) "
                     "are divided by 100 for display; files keep sacreBLEU's values.")


def stored_name(metric: str) -> str:
    """The stored score name of a metric given by its stored or short name."""
    return _SHORT.get(metric, metric)


def metric_label(metric: str) -> str:
    """``ROUGE-L`` for ``rougeL_f`` (or ``rougeL``); ``judge: coherence`` for a judge's rubric
    score ``judge:coherence``; an unknown metric with its underscores as spaces."""
    name = stored_name(metric)
    if name.startswith(JUDGE_PREFIX):
        return f"judge: {name[len(JUDGE_PREFIX):]}"
    return _LABELS.get(name, name.replace("_", " "))


def unit(metric: str) -> str:
    """What a metric's shown numbers are on: ``0–1``, ``1–5`` for a judge's rubric score, or its
    own scale in words."""
    name = stored_name(metric)
    if name.startswith(JUDGE_PREFIX):
        return RUBRIC_UNIT
    return OWN_SCALE.get(name, UNIT)


def column_label(metric: str, what: str = "mean") -> str:
    """``ROUGE-L (mean, 0–1)``: the header of a column of ``metric``'s numbers."""
    return f"{metric_label(metric)} ({what}, {unit(metric)})"


def shown(metric: str, value: float) -> float:
    """A stored value on the scale it is shown on."""
    return value / 100.0 if stored_name(metric) in PERCENT_SCALE else value


def format_value(metric: str, value: float | None) -> str:
    """A stored value as shown: ``0.251`` for a BLEU of 25.1; ``N/A`` for None."""
    return "N/A" if value is None else f"{shown(metric, value):.{DIGITS}f}"


def format_interval(metric: str, estimate: Estimate | None) -> str:
    """The 95 % interval as shown: ``0.380–0.445``."""
    if estimate is None or estimate.n == 0:
        return "N/A"
    return f"{format_value(metric, estimate.low)}–{format_value(metric, estimate.high)}"


def describe(metric: str, estimate: Estimate | None) -> str:
    """``0.412 [0.380, 0.445]`` on the shown scale, for report tables headed "mean [95 %
    interval]"."""
    if estimate is None or estimate.n == 0:
        return "N/A"
    return (f"{format_value(metric, estimate.mean)} [{format_value(metric, estimate.low)}, "
            f"{format_value(metric, estimate.high)}]")
