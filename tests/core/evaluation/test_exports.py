"""A report written as CSV, JSONL, Markdown and HTML: every run kept, the best marked, the page
self-contained, and a file's name telling its format."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from playground.evaluation.exports import EXPORT_FORMATS, export, export_format, word_diff_html
from playground.evaluation.report import build_report
from tests.core.evaluation.crafted import runs


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_every_format_exports(fmt: str) -> None:
    text = export(build_report("demo", runs(0.1, n_inputs=4)), fmt)  # type: ignore[arg-type]
    assert text


def test_csv_and_jsonl_hold_every_run_with_its_scores() -> None:
    report = build_report("demo", runs(0.1, n_inputs=4))
    rows = list(csv.DictReader(io.StringIO(export(report, "csv"))))
    assert len(rows) == 16
    assert rows[0]["variant"] == "base"
    assert float(rows[0]["rougeL_f"]) == pytest.approx(report.runs[0].scores["rougeL_f"])
    records = [json.loads(line) for line in export(report, "jsonl").splitlines()]
    assert len(records) == 16
    assert records[0]["references"] == ["ref 0"]
    assert records[0]["prompt"] == "Summarise <0> & co"


def test_markdown_marks_the_best_and_the_pairs() -> None:
    text = export(build_report("demo", runs(0.1, n_inputs=6)), "md")
    assert re.search(r"^good scored highest on ROUGE-L \(0\.\d{3} vs 0\.\d{3} for base\) and is "
                     r"significantly higher \(paired test over 6 inputs, p = ", text, re.M)
    assert "| ROUGE-L (mean [95 % interval], 0–1) |" in text
    assert re.search(r"\| good \| 12 \| 0 \| \*\*0\.\d+ \[", text)
    assert "## Paired comparisons on ROUGE-L" in text
    assert "| p (paired test) | Holm-adjusted p | significantly better |" in text
    assert "## Method" in text and "Guenther" in text


def test_html_is_self_contained_with_chart_and_diff() -> None:
    page = export(build_report("demo", runs(0.1, n_inputs=3)), "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    assert "Summarise" not in page or "&lt;" in page  # user text is escaped
    assert "<ins>" in page and "<del>" in page
    assert 'class="best"' in page


def test_word_diff_marks_added_and_missing_words() -> None:
    assert word_diff_html("the cat sat", "the dog sat") == "the <del>cat</del><ins>dog</ins> sat"
    assert word_diff_html("a <b>", "a <b>") == "a &lt;b&gt;"

def test_a_report_files_extension_names_its_format() -> None:
    assert [export_format(n) for n in ("a.csv", "b.JSONL", "c.markdown", "d.md", "e.htm",
                                       "/x/f.HTML")] == ["csv", "jsonl", "md", "md", "html",
                                                         "html"]
    assert export_format("report.pdf") is None
    assert export_format("report") is None
    assert export_format("archive.html.gz") is None


def test_pages_count_samples_from_one_while_the_files_keep_their_field() -> None:
    report = build_report("demo", runs(0.1, n_inputs=2, samples=2))
    markdown = export(report, "md")
    assert "### base · in-0 · sample 1 (ok)" in markdown
    assert "### base · in-0 · sample 2 (ok)" in markdown
    assert "sample 0" not in markdown
    page = export(report, "html")
    assert re.findall(r"<tr><td>base</td><td>(\d)</td><td><pre>", page)[:2] == ["1", "2"]
    records = [json.loads(line) for line in export(report, "jsonl").splitlines()]
    assert sorted({r["sample"] for r in records}) == [0, 1]
    assert sorted({row["sample"] for row in csv.DictReader(io.StringIO(export(report, "csv")))}
                  ) == ["0", "1"]
