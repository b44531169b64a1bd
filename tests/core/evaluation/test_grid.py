"""The inputs × variants grid: cells with every sample, mean scores, failures and low
confidence, ★/tie within a row, disagreement, and rows sorted and filtered."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from playground.comparison import ComparisonSpec, Input, Variant
from playground.evaluation.grid import (
    Cell,
    Row,
    RowFilter,
    RowOrder,
    build_rows,
    disagreement,
    filter_rows,
    input_text,
    similarity,
    sort_rows,
)
from playground.evaluation.report import ReportRun
from playground.sampling import SamplingParams

NAMES = ("a", "b", "c")


def make_spec(n_inputs: int = 3, samples: int = 1, refs: bool = True) -> ComparisonSpec:
    inputs = tuple(Input(f"row-{i}", {"text": f"question {i}"}, (f"answer {i}",) if refs else ())
                   for i in range(1, n_inputs + 1))
    variants = tuple(Variant(n, n, "{{ text }}", SamplingParams(), "") for n in NAMES)
    return ComparisonSpec("grid", variants, inputs, samples=samples)


def run(variant: str, input_id: str, score: float | None, *, sample: int = 0,
        output: str | None = None, status: str = "ok", logprob: float | None = None,
        bleu: float | None = None, error: str | None = None) -> ReportRun:
    scores: dict[str, float | None] = {"rougeL_f": score, "bleu": bleu}
    if logprob is not None:
        scores["mean_logprob"] = logprob
    return ReportRun(variant, input_id, sample, 1234 + sample, status, "prompt",
                     output if output is not None else f"{variant} on {input_id} #{sample}",
                     (), scores, error=error)


def full(scores: dict[str, tuple[float, float, float]]) -> list[ReportRun]:
    """Every variant on every input, one sample: input id → scores of a, b, c."""
    return [run(name, input_id, value) for input_id, values in scores.items()
            for name, value in zip(NAMES, values, strict=True)]


def ids(rows: Sequence[Row]) -> list[str]:
    return [r.input_id for r in rows]


def cell_of(row: Row, variant: str) -> Cell:
    found = row.cell(variant)
    assert found is not None
    return found


# -- rows and cells ---------------------------------------------------------------------------


def test_a_row_per_input_and_a_cell_per_variant_in_the_specs_order() -> None:
    spec = make_spec()
    runs = full({"row-3": (0.1, 0.2, 0.3), "row-1": (0.3, 0.2, 0.1), "row-2": (0.0, 0.0, 0.0)})
    rows = build_rows(spec, list(reversed(runs)))
    assert ids(rows) == ["row-1", "row-2", "row-3"]
    assert rows[0].text == "question 1" and rows[0].references == ("answer 1",)
    assert [c.variant for c in rows[0].cells] == list(NAMES)
    assert cell_of(rows[0], "b").score("rougeL") == pytest.approx(0.2)
    assert cell_of(rows[0], "b").outputs() == ("b on row-1 #0",)


def test_a_cell_without_a_finished_run_is_waiting_and_never_starred() -> None:
    spec = make_spec(n_inputs=1)
    rows = build_rows(spec, [run("a", "row-1", 0.5)])
    a, b, c = rows[0].cells
    assert not a.waiting and a.finished
    assert b.waiting and c.waiting and not b.finished
    assert a.mark("rougeL") is None  # alone: no other finished cell to be better than
    assert rows[0].text_disagreement is None
    rows = build_rows(spec, [run("a", "row-1", 0.5), run("c", "row-1", 0.4)])
    assert cell_of(rows[0], "a").mark("rougeL") == "best"
    assert cell_of(rows[0], "b").mark("rougeL") is None


def test_samples_are_kept_in_order_and_scores_are_their_mean() -> None:
    spec = make_spec(n_inputs=1, samples=3)
    runs = [run("a", "row-1", 0.2, sample=2), run("a", "row-1", 0.6, sample=0),
            run("a", "row-1", None, sample=1)]
    cell = build_rows(spec, runs)[0].cells[0]
    assert [r.sample for r in cell.runs] == [0, 1, 2]
    assert cell.expected == 3 and cell.finished
    assert cell.score("rougeL") == pytest.approx(0.4)  # the unscored sample is left out
    assert cell.score("bleu") is None
    partial = build_rows(spec, runs[:2])[0].cells[0]
    assert not partial.finished and not partial.waiting


def test_a_later_run_of_a_sample_replaces_the_earlier_one() -> None:
    spec = make_spec(n_inputs=1)
    runs = [run("a", "row-1", None, status="failed", error="boom"), run("a", "row-1", 0.7)]
    cell = build_rows(spec, runs)[0].cells[0]
    assert len(cell.runs) == 1 and not cell.failed and cell.score("rougeL") == 0.7


def test_failures_are_flagged_with_their_errors_and_leave_the_mean_to_the_others() -> None:
    spec = make_spec(n_inputs=1, samples=2)
    runs = [run("a", "row-1", None, status="failed", error="the model crashed"),
            run("a", "row-1", 0.5, sample=1)]
    row = build_rows(spec, runs)[0]
    cell = row.cells[0]
    assert cell.failed and cell.failures == 1 and row.failures == 1
    assert cell.errors == ("the model crashed",)
    assert cell.score("rougeL") == 0.5


def test_low_confidence_follows_the_threshold() -> None:
    spec = make_spec(n_inputs=1, samples=2)
    runs = [run("a", "row-1", 0.5, logprob=-0.4), run("a", "row-1", 0.5, sample=1, logprob=-1.5),
            run("b", "row-1", 0.5)]
    row = build_rows(spec, runs)[0]
    assert row.cells[0].low_confidence_samples == frozenset({1})
    assert row.low_confidence and not row.cells[1].low_confidence
    stricter = build_rows(spec, runs, threshold=-2.0)[0]
    assert not stricter.low_confidence
    laxer = build_rows(spec, runs, threshold=-0.2)[0]
    assert laxer.cells[0].low_confidence_samples == frozenset({0, 1})


def test_best_and_ties_within_a_row_at_the_digits_shown() -> None:
    spec = make_spec(n_inputs=2)
    rows = build_rows(spec, full({"row-1": (0.30, 0.5, 0.1), "row-2": (0.4, 0.40001, 0.2)}))
    assert [c.mark("rougeL") for c in rows[0].cells] == [None, "best", None]
    assert [c.mark("rougeL") for c in rows[1].cells] == ["tie", "tie", None]
    assert all(c.mark("bleu") is None for c in rows[0].cells)  # nobody scored


def test_input_text_names_each_variable_when_there_are_several() -> None:
    assert input_text({"text": "hello"}) == "hello"
    assert input_text({"question": "why?", "context": "because"}) == (
        "question: why?\ncontext: because")


def test_runs_the_spec_does_not_name_are_left_out() -> None:
    spec = make_spec(n_inputs=1)
    rows = build_rows(spec, [run("zzz", "row-1", 0.9), run("a", "row-9", 0.9)])
    assert len(rows) == 1 and all(c.waiting for c in rows[0].cells)


# -- disagreement -----------------------------------------------------------------------------


def test_disagreement_is_the_spread_of_scores_on_a_zero_to_one_scale() -> None:
    spec = make_spec(n_inputs=1)
    runs = [run("a", "row-1", 0.2, bleu=10.0), run("b", "row-1", 0.7, bleu=40.0),
            run("c", "row-1", 0.5, bleu=None)]
    row = build_rows(spec, runs)[0]
    found = disagreement(row, "rougeL")
    assert found is not None and found.basis == "score"
    assert found.value == pytest.approx(0.5)
    bleu = disagreement(row, "bleu")
    assert bleu is not None and bleu.value == pytest.approx(0.3)


def test_without_scores_disagreement_is_how_different_the_outputs_read() -> None:
    spec = make_spec(n_inputs=2, refs=False)
    runs = [run("a", "row-1", None, output="the cat sat on the mat"),
            run("b", "row-1", None, output="the cat sat on the mat"),
            run("c", "row-1", None, output="the cat sat on the mat"),
            run("a", "row-2", None, output="yes"),
            run("b", "row-2", None, output="no, never, not at all"),
            run("c", "row-2", None, output="the cat sat on the mat")]
    same, different = build_rows(spec, runs)
    first, second = disagreement(same, "rougeL"), disagreement(different, "rougeL")
    assert first is not None and first.basis == "text" and first.value == pytest.approx(0.0)
    assert second is not None and second.value == pytest.approx(1.0)
    assert similarity("", "") == 1.0
    assert similarity("a b c d", "a b x d") == pytest.approx(0.75)
    assert similarity("b a", "a b") == 1.0  # shared words, whatever their order
    assert similarity("a a b", "a b b") == pytest.approx(2 / 3)  # repeats count


# -- sorting ----------------------------------------------------------------------------------

SCORES = {"row-1": (0.5, 0.5, 0.5), "row-2": (0.9, 0.1, 0.5), "row-3": (0.2, 0.4, 0.3)}


def test_input_order_either_way() -> None:
    rows = build_rows(make_spec(), full(SCORES))
    shuffled = [rows[2], rows[0], rows[1]]
    assert ids(sort_rows(shuffled, RowOrder("input", descending=False), "rougeL")) == [
        "row-1", "row-2", "row-3"]
    assert ids(sort_rows(shuffled, RowOrder("input", descending=True), "rougeL")) == [
        "row-3", "row-2", "row-1"]


def test_by_a_variants_score_with_missing_cells_last_either_way() -> None:
    spec = make_spec(n_inputs=4)
    runs = full(SCORES)  # row-4 has not run yet
    rows = build_rows(spec, runs)
    assert ids(sort_rows(rows, RowOrder("score", "b", descending=True), "rougeL")) == [
        "row-1", "row-3", "row-2", "row-4"]
    assert ids(sort_rows(rows, RowOrder("score", "b", descending=False), "rougeL")) == [
        "row-2", "row-3", "row-1", "row-4"]
    assert ids(sort_rows(rows, RowOrder("score", "a", descending=True), "rougeL")) == [
        "row-2", "row-1", "row-3", "row-4"]


def test_ties_in_a_sort_keep_input_order() -> None:
    rows = build_rows(make_spec(), full({"row-1": (0.5, 0.1, 0.1), "row-2": (0.5, 0.1, 0.1),
                                         "row-3": (0.7, 0.1, 0.1)}))
    assert ids(sort_rows(rows, RowOrder("score", "a", descending=True), "rougeL")) == [
        "row-3", "row-1", "row-2"]


def test_by_disagreement_most_first() -> None:
    rows = build_rows(make_spec(), full(SCORES))
    assert ids(sort_rows(rows, RowOrder("disagreement"), "rougeL")) == [
        "row-2", "row-3", "row-1"]
    assert ids(sort_rows(rows, RowOrder("disagreement", descending=False), "rougeL")) == [
        "row-1", "row-3", "row-2"]


def test_failures_first_most_failures_on_top() -> None:
    spec = make_spec(samples=2)
    runs = [run(n, f"row-{i}", 0.5, sample=k) for n in NAMES for i in (1, 2, 3) for k in (0, 1)]
    runs += [run("a", "row-3", None, status="failed", error="x"),
             run("b", "row-3", None, sample=1, status="failed", error="y"),
             run("c", "row-2", None, status="failed", error="z")]
    rows = build_rows(spec, runs)
    assert [r.failures for r in rows] == [0, 1, 2]
    assert ids(sort_rows(rows, RowOrder("failures"), "rougeL")) == ["row-3", "row-2", "row-1"]


# -- filtering --------------------------------------------------------------------------------


def test_filters() -> None:
    spec = make_spec(n_inputs=4)
    runs = [*full(SCORES), run("a", "row-4", None, status="failed", error="Out of memory"),
            run("b", "row-4", 0.3, logprob=-3.0, output="A Purple Whale")]
    rows = build_rows(spec, runs)
    assert ids(filter_rows(rows, RowFilter(), "rougeL")) == ["row-1", "row-2", "row-3", "row-4"]
    assert ids(filter_rows(rows, RowFilter(failures_only=True), "rougeL")) == ["row-4"]
    assert ids(filter_rows(rows, RowFilter(low_confidence_only=True), "rougeL")) == ["row-4"]
    assert ids(filter_rows(rows, RowFilter(min_disagreement=0.2), "rougeL")) == [
        "row-2", "row-3"]
    assert ids(filter_rows(rows, RowFilter(top_disagreement=1), "rougeL")) == ["row-2"]
    assert ids(filter_rows(rows, RowFilter(search="purple whale"), "rougeL")) == ["row-4"]
    assert ids(filter_rows(rows, RowFilter(search="out of MEMORY"), "rougeL")) == ["row-4"]
    assert ids(filter_rows(rows, RowFilter(search="question 2"), "rougeL")) == ["row-2"]
    assert ids(filter_rows(rows, RowFilter(search="answer 3"), "rougeL")) == ["row-3"]
    assert ids(filter_rows(rows, RowFilter(search="c on row-1"), "rougeL")) == ["row-1"]
    assert filter_rows(rows, RowFilter(search="nowhere"), "rougeL") == []
    both = RowFilter(failures_only=True, search="question 1")
    assert filter_rows(rows, both, "rougeL") == []


def test_a_filter_keeps_the_order_it_is_given() -> None:
    rows = build_rows(make_spec(), full(SCORES))
    ordered = sort_rows(rows, RowOrder("score", "b", descending=False), "rougeL")
    kept = filter_rows(ordered, RowFilter(min_disagreement=0.1), "rougeL")
    assert ids(kept) == ["row-2", "row-3"]
