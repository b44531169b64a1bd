"""Aggregates, winner, ties and what every format says of them, on crafted runs."""

from __future__ import annotations

import pytest

from playground.evaluation.exports import export
from playground.evaluation.report import (
    ReportRun,
    build_report,
    format_mean,
    leaders,
    mean_digits,
)
from playground.evaluation.scoring import DEFAULT_METRICS
from playground.runs.runner import make_scorer
from tests.core.evaluation.crafted import runs


def test_a_real_difference_names_a_winner_with_intervals() -> None:
    report = build_report("demo", runs(0.1))
    assert report.primary == "rougeL_f"
    assert report.metrics == ("rougeL_f",)  # bleu was N/A everywhere: no column of nothing
    assert report.winner == "good"
    assert report.best("rougeL_f") == ("good",)
    good = next(v for v in report.variants if v.name == "good")
    base = next(v for v in report.variants if v.name == "base")
    g, b = good.metrics["rougeL_f"], base.metrics["rougeL_f"]
    assert g is not None and b is not None
    assert g.low <= g.mean <= g.high
    assert g.mean - b.mean == pytest.approx(0.1, abs=0.02)
    assert g.n == 30  # inputs, not runs, are the unit
    (a_name, b_name, pair), = report.pairs
    assert {a_name, b_name} == {"base", "good"}
    assert pair.p_value < 0.01
    assert good.tokens_per_second["mean"] == pytest.approx(100.5)


def test_no_difference_names_no_winner() -> None:
    report = build_report("demo", runs(0.0))
    assert report.winner is None
    assert report.pairs[0][2].p_value > 0.05


def test_lower_is_better_for_perplexity() -> None:
    data = [
        ReportRun(v, f"in-{i}", 0, 1, "ok", "p", "o", ("r",),
                  {"ref_ppl": base + (0 if v == "sharp" else 5) + i * 0.01})
        for i, base in enumerate([3.0, 4.0, 5.0, 6.0, 3.5, 4.5, 5.5, 6.5, 3.2, 4.2] * 2)
        for v in ("sharp", "vague")
    ]
    report = build_report("ppl", data)
    assert report.best("ref_ppl") == ("sharp",)
    assert report.winner == "sharp"


def twins(scores_a: dict[str, float | None], scores_b: dict[str, float | None],
          n_inputs: int = 3) -> list[ReportRun]:
    return [ReportRun(name, f"in-{i}", 0, 1, "ok", "p", "same words", ("ref",), scores)
            for i in range(n_inputs) for name, scores in (("a", scores_a), ("b", scores_b))]


def test_identical_variants_tie_and_every_face_says_so() -> None:
    same = {"rougeL_f": 0.5, "bleu": 31.0, "ref_ppl": 4.0}
    report = build_report("twins", twins(same, dict(same)))
    for metric in report.table_metrics:
        assert report.best(metric) == ("a", "b")  # not the name that sorts last
        assert report.marked(metric, "a") == report.marked(metric, "b") == "tie"
    md = export(report, "md")
    for name in ("a", "b"):
        row = next(line for line in md.splitlines() if line.startswith(f"| {name} |"))
        cells = row.split(" | ")[3:3 + len(report.table_metrics)]
        # BLEU's 31.0 shown on 0–1, like ROUGE
        assert cells == ["**0.310 [0.310, 0.310]** (tie)", "**4.000 [4.000, 4.000]** (tie)",
                         "**0.500 [0.500, 0.500]** (tie)"]
    assert "a and b tie for the highest ROUGE-L (0.500 each" in md
    assert "(tie): several variants share it" in md
    page = export(report, "html")
    assert page.count(" (tie)</td>") == 2 * len(report.table_metrics)


@pytest.mark.parametrize(("metric", "a", "b", "tied"), [
    ("rougeL_f", 0.4121, 0.4124, True),   # both shown as 0.412
    ("rougeL_f", 0.4121, 0.4126, False),  # 0.412 against 0.413
    ("bleu", 25.12, 25.14, True),         # BLEU and chrF are shown with one decimal
    ("bleu", 25.12, 25.18, False),
    ("ref_ppl", 4.0001, 4.0002, True),
    ("ref_ppl", 4.001, 4.002, False),
])
def test_means_tie_when_equal_at_the_digits_shown(
    metric: str, a: float, b: float, tied: bool
) -> None:
    report = build_report("close", twins({metric: a}, {metric: b}))
    shown = {v.name: _cell(export(report, "md"), v.name) for v in report.variants}
    assert (shown["a"] == shown["b"]) == tied
    assert report.best(metric) == (("a", "b") if tied else ("b",) if metric != "ref_ppl"
                                   else ("a",))
    assert ("(tie)" in shown["a"]) == tied


def _cell(markdown: str, variant: str) -> str:
    """The first metric cell of a variant's row in the Markdown score table."""
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {variant} |"))
    return row.split(" | ")[3]


def test_ties_use_rounding_so_they_do_not_depend_on_the_other_variants() -> None:
    assert leaders({"a": 0.4121, "b": 0.4124, "c": 0.4126}, "rougeL_f") == ("c",)
    assert leaders({"a": 0.4121, "b": 0.4124}, "rougeL_f") == ("a", "b")
    assert leaders({"a": 3.0, "b": 3.0, "c": 2.0}, "ref_ppl") == ("c",)
    assert leaders({}, "bleu") == ()
    # one scale per table: chrF's 0–100 is shown on 0–1, at the same thousandths as ROUGE
    assert mean_digits("chrf") == mean_digits("rouge1_f") == 3
    assert format_mean("chrf", 25.14) == "0.251" and format_mean("rouge1_f", 0.2514) == "0.251"


EASY = [("The cat sat on the mat.", "The cat sat on the mat."),
        ("Paris is the capital of France.", "Paris is the capital of France."),
        ("The meeting moved to Tuesday.", "The meeting moved to Tuesday."),
        ("Sales rose by ten percent.", "Sales rose by ten percent.")]
HARD = [("The treaty ended the war after four years of talks.", "The war ended with a treaty."),
        ("Rain is expected over the weekend in the north.", "Rain is expected this weekend."),
        ("The committee rejected the budget by a narrow vote.", "The budget was rejected."),
        ("Engineers found the bridge unsafe after the storm.", "The bridge is unsafe.")]


def test_a_silent_variant_cannot_win_by_saying_nothing_on_hard_inputs() -> None:
    """"silent" copies the easy answers and says nothing on the hard ones; "talker" copies the
    easy ones too and gives a partial answer on the hard ones."""
    score = make_scorer(DEFAULT_METRICS)
    data: list[ReportRun] = []
    for i, (reference, partial) in enumerate(EASY + HARD):
        hard = i >= len(EASY)
        for variant, output in (("talker", partial), ("silent", "" if hard else partial)):
            scores = {s.metric: s.value for s in score(output, [reference])}
            data.append(ReportRun(variant, f"in-{i}", 0, 1, "ok", "p", output, (reference,),
                                  scores))
    report = build_report("silence", data)
    by_name = {v.name: v for v in report.variants}
    for metric in report.table_metrics:
        talker, silent = by_name["talker"].metrics[metric], by_name["silent"].metrics[metric]
        assert talker is not None and silent is not None
        assert silent.n == talker.n == len(EASY + HARD)  # the empty outputs count
        assert silent.mean < talker.mean, metric
        assert report.best(metric) == ("talker",)
    silent_bleu, talker_bleu = by_name["silent"].corpus_bleu, by_name["talker"].corpus_bleu
    assert silent_bleu is not None and talker_bleu is not None and silent_bleu < talker_bleu
    # Leaving the empty outputs out, as N/A, is what let the silent variant win.
    said = [r for r in data if r.output]
    assert build_report("silence", said).best(report.primary or "") == ("silent",)


def test_failed_runs_are_counted_not_scored() -> None:
    data = runs(0.1, n_inputs=3)
    data.append(ReportRun("good", "in-9", 0, 1, "failed", "p", "", ("r",), {}, error="boom"))
    report = build_report("demo", data)
    good = next(v for v in report.variants if v.name == "good")
    assert good.failed == 1
    assert good.runs == 7
    assert "boom" in export(report, "html")


def test_corpus_bleu_pools_ngrams_over_the_variant() -> None:
    from sacrebleu import corpus_bleu

    data = [
        ReportRun("v", f"in-{i}", 0, 1, "ok", "p", out, (ref,), {})
        for i, (out, ref) in enumerate([
            ("the cat sat on the mat", "the cat sat on the mat"),
            ("a dog barked loudly", "the dog barked"),
            ("it rained all day long", "it was sunny"),
        ])
    ]
    report = build_report("bleu", data)
    expected = corpus_bleu([r.output for r in data], [[r.references[0] for r in data]]).score
    assert report.variants[0].corpus_bleu == pytest.approx(expected)
    assert "corpus BLEU" in export(report, "md")


def test_diversity_across_samples_is_reported_per_variant() -> None:
    def run(variant: str, i: int, k: int, out: str) -> ReportRun:
        return ReportRun(variant, f"in-{i}", k, k, "ok", "p", out, ("ref",), {"rougeL_f": 0.5})

    same = [run("greedy", i, k, "the cat sat on the mat") for i in range(3) for k in range(3)]
    varied = [run("hot", i, k, f"word{i}{k} other{k} thing{i} x{k}") for i in range(3)
              for k in range(3)]
    report = build_report("div", same + varied)
    greedy = next(v for v in report.variants if v.name == "greedy")
    hot = next(v for v in report.variants if v.name == "hot")
    assert greedy.diversity["self_bleu"] == pytest.approx(100)
    assert greedy.diversity["distinct_1"] == pytest.approx(5 / 18)  # 5 unique words of 18
    assert hot.diversity["distinct_2"] > greedy.diversity["distinct_2"]
    assert hot.diversity["self_bleu"] < 50
    assert "## Diversity across samples" in export(report, "md")
    single = build_report("one", [run("v", 0, 0, "a b c")])
    assert single.variants[0].diversity == {}


def test_low_confidence_outputs_are_counted() -> None:
    data = [
        ReportRun("v", f"in-{i}", 0, 1, "ok", "p", "o", ("r",),
                  {"rougeL_f": 0.5, "mean_logprob": lp})
        for i, lp in enumerate([-0.2, -1.5, -0.9, -3.0])
    ]
    report = build_report("conf", data)
    assert report.variants[0].low_confidence == 2
    assert build_report("strict", data, low_confidence_below=-0.5).variants[0].low_confidence == 3
    assert build_report("lax", data, low_confidence_below=-5.0).variants[0].low_confidence == 0
    markdown = export(report, "md")
    assert "| low-confidence outputs |" in markdown
    assert "| 2/4 |" in markdown
    plain = build_report("plain", [ReportRun("v", "a", 0, 1, "ok", "p", "o", ("r",), {"x": 1.0})])
    assert plain.variants[0].low_confidence is None
    assert "low-confidence" not in export(plain, "md")
