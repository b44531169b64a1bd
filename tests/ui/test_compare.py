"""The Compare tab, driven as a person would, on the scripted model (tests/fakes.py): what is
tested is how the view shows, stores, exports and reopens runs, whatever the model says."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCharts import QBarSeries, QLineSeries
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from playground.comparison import Variant
from playground.engine.options import LoadOptions
from playground.evaluation.scales import metric_label, shown
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.fakes import FakeEngine, Script
from ui.context import AppContext
from ui.views.compare.compare_column import CompareColumn, score_value
from ui.views.compare.compare_view import CompareView

DIALOGUE = (
    "Maya: Did you book the train for Saturday?\n"
    "Leo: Not yet, the 9:10 was sold out.\n"
    "Maya: Take the 10:40 then, we can still make lunch with Grandma.\n"
    "Leo: Booked. Two seats, coach C."
)
REFERENCE = (
    "Leo booked two seats on the 10:40 train on Saturday so they can have lunch with Grandma."
)
SECOND_REFERENCE = "Leo booked the 10:40 train for Saturday."
TIMEOUT_MS = 180000  # generous: other work may share the cores


@pytest.fixture
def view(qtbot: QtBot, context: AppContext) -> Iterator[CompareView]:
    context.hub.set_options(context.hub.current, LoadOptions(n_ctx=2048))
    compare = CompareView(context)
    qtbot.addWidget(compare)
    compare.resize(1400, 900)
    compare.show()
    qtbot.waitUntil(lambda: context.tasks.running == 0)  # the model list
    yield compare
    compare.stop()


def set_up(view: CompareView, templates: tuple[str, ...], *, max_tokens: int = 24,
           temperatures: tuple[float, ...] = (0.0, 0.0)) -> None:
    for column, template, temperature in zip(view.columns, templates, temperatures,
                                             strict=True):
        assert column.set_template(template)
        column.params["temperature"].setValue(temperature)
        column.params["max_tokens"].setValue(max_tokens)


def run_all(qtbot: QtBot, view: CompareView) -> int | None:
    with qtbot.waitSignal(view.comparison_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result is None or isinstance(result, int)
    return result


def label_values(column: CompareColumn) -> dict[str, float | None]:
    return {metric: score_value(label.text()) for metric, label in column.score_labels.items()}


def assert_best_marked(columns: list[CompareColumn]) -> None:
    """Per metric: a starred column has the highest number shown, and some column is starred
    whenever any column has a number."""
    for metric in columns[0].score_labels:
        values = {id(c): label_values(c)[metric] for c in columns}
        present = [v for v in values.values() if v is not None]
        starred = [c for c in columns if c.is_best(metric)]
        if not present:
            assert not starred
            continue
        assert starred, f"nothing marked best on {metric}"
        for column in starred:
            label: QLabel = column.score_labels[metric]
            assert values[id(column)] == max(present), metric
            assert label.text().startswith("★") and label.font().bold()
            assert label.toolTip().startswith(f"best {metric_label(metric)}")
        for column in columns:
            if column not in starred:
                assert not column.score_labels[metric].text().startswith("★")


def fragments(document: QTextDocument) -> list[tuple[str, bool, bool]]:
    """(text, struck out, underlined) for every run of text of the document."""
    out: list[tuple[str, bool, bool]] = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            out.append((fragment.text(), fmt.fontStrikeOut(), fmt.fontUnderline()))
            it += 1
        block = block.next()
        if block.isValid():
            out.append(("\n", False, False))
    return out


def exported_outputs(suffix: str, text: str) -> set[str]:
    """The outputs a report file holds, read back the way its format is read."""
    if suffix == "csv":
        return {row["output"] for row in csv.DictReader(io.StringIO(text))}
    if suffix == "jsonl":
        return {json.loads(line)["output"] for line in text.splitlines()}
    if suffix == "md":
        blocks = re.findall(r"Output:\n\n((?:    .*\n?)+)", text)
        return {"\n".join(line[4:] for line in block.rstrip("\n").split("\n"))
                for block in blocks}
    assert text.startswith("<!DOCTYPE html>")
    return {html.unescape(m) for m in re.findall(r"<td><pre>(.*?)</pre></td>", text, re.S)}


def test_two_variants_run_score_diff_export_and_reopen(
    qtbot: QtBot, view: CompareView, context: AppContext, tmp_path: Path
) -> None:
    set_up(view, ("summarization-zero-shot", "summarization-few-shot"))
    view.columns[0].name_edit.setText("zero")
    view.columns[1].name_edit.setText("few")
    view.shared_input.setPlainText(DIALOGUE)
    view.references.setPlainText(f"{REFERENCE}\n---\n{SECOND_REFERENCE}")
    streamed: list[str] = []
    view.columns[0].output.textChanged.connect(
        lambda: streamed.append(view.columns[0].output.toPlainText()))

    comparison_id = run_all(qtbot, view)

    assert comparison_id is not None
    assert f"#{comparison_id}" in view.title_label.text()
    assert "done" in view.title_label.text()
    outputs = [c.output.toPlainText() for c in view.columns]
    assert all(outputs)
    # Tokens arrived one by one: part of the output was on screen before the whole of it.
    assert any(0 < len(text) < len(outputs[0]) for text in streamed)
    for column in view.columns:
        values = label_values(column)
        assert set(values) == {"rouge1", "rouge2", "rougeL", "bleu", "chrf"}
        assert all(v is not None for v in values.values())
        assert "±" not in column.score_labels["rouge1"].text()  # one sample: no interval
        assert not column.error_label.isVisible()
    assert_best_marked(view.columns)
    # The scores are the stored ones, and the references were split at the --- line.
    with Store(context.db_path) as store:
        (stored_input,) = store.inputs(comparison_id)
        runs = {r.output: r for r in store.runs(comparison_id)}
    # An output is flagged when its mean token log-probability is under the chosen threshold
    # (log-probabilities are at most 0, so 0 flags every output that had any doubt, -20 none).
    view.confidence_spin.setValue(0.0)
    for column in view.columns:
        mean = runs[column.output.toPlainText()].score("mean_logprob")
        assert mean is not None and mean.value is not None
        flagged = "low confidence (mean log-prob -" in column.status_label.text()
        assert flagged == (mean.value < 0)
    view.confidence_spin.setValue(-20.0)
    assert not any("low confidence" in c.status_label.text() for c in view.columns)
    assert stored_input.references == (REFERENCE, SECOND_REFERENCE)
    assert stored_input.values["dialogue"] == DIALOGUE
    for column in view.columns:
        rouge = runs[column.output.toPlainText()].score("rougeL_f")
        assert rouge is not None and rouge.value is not None
        assert score_value(column.score_labels["rougeL"].text()) == pytest.approx(
            rouge.value, abs=0.0006)

    # A word diff of the two outputs: the text without deletions is the second output, the
    # text without insertions is the first, and something is marked if they differ.
    dialog = view.open_diff(0, 1)
    parts = fragments(dialog.browser.document())
    marked = any(struck or ins for _, struck, ins in parts)
    assert marked == (outputs[0] != outputs[1])
    assert "".join(t for t, struck, _ in parts if not struck).strip() == outputs[1].strip()
    assert "".join(t for t, _, ins in parts if not ins).strip() == outputs[0].strip()
    dialog.close()

    # Export in every format.
    for suffix in ("csv", "jsonl", "md", "html"):
        path = tmp_path / f"report.{suffix}"
        with qtbot.waitSignal(view.export_finished, timeout=10000) as blocker:
            view.export_report(str(path))
        assert blocker.args == [str(path), ""]
        text = path.read_text(encoding="utf-8")
        assert exported_outputs(suffix, text) >= set(outputs)
    with qtbot.waitSignal(view.export_finished) as blocker:
        view.export_report(str(tmp_path / "report.pdf"))
    assert "choose a .csv" in blocker.args[1]
    assert view.message_label.isVisible()

    # Reopen the stored comparison in a fresh view: same setup, outputs and scores.
    fresh = CompareView(context)
    qtbot.addWidget(fresh)
    fresh.show()
    with qtbot.waitSignal(fresh.comparison_opened, timeout=10000):
        context.open_comparison.emit(comparison_id)
    assert [c.name_edit.text() for c in fresh.columns] == ["zero", "few"]
    assert [c.template_key() for c in fresh.columns] == [
        "Built-in/summarization-zero-shot", "Built-in/summarization-few-shot"]
    assert [c.output.toPlainText() for c in fresh.columns] == outputs
    assert [c.params["max_tokens"].value() for c in fresh.columns] == [24, 24]
    for old, new in zip(view.columns, fresh.columns, strict=True):
        assert label_values(new) == label_values(old)
        assert all(new.is_best(m) == old.is_best(m) for m in old.score_labels)
    assert fresh.shared_input.toPlainText() == DIALOGUE
    assert fresh.references.toPlainText() == f"{REFERENCE}\n---\n{SECOND_REFERENCE}"
    assert f"#{comparison_id}" in fresh.title_label.text()
    assert not fresh.resume_button.isEnabled()  # it finished: nothing to resume


def test_samples_show_mean_and_interval_and_a_sweep_chart(
    qtbot: QtBot, view: CompareView
) -> None:
    set_up(view, ("summarization-zero-shot", "summarization-zero-shot"), max_tokens=16,
           temperatures=(0.0, 1.0))
    view.columns[0].name_edit.setText("t0")
    view.columns[1].name_edit.setText("t1")
    view.shared_input.setPlainText(DIALOGUE)
    view.references.setPlainText(REFERENCE)
    view.samples_spin.setValue(2)

    assert run_all(qtbot, view) is not None

    report = view.score_model.report
    assert report is not None and report.sweep_param == "temperature"
    for column in view.columns:
        assert "±" in column.score_labels["rouge1"].text()
        assert "95 % interval" in column.score_labels["rouge1"].toolTip()
        assert column.sample_combo.isVisible()
        assert column.sample_combo.count() == 2
        name = column.name_edit.text()
        for sample in (0, 1):
            column.sample_combo.setCurrentIndex(sample)
            run = next(r for r in report.runs if r.variant == name and r.sample == sample)
            assert column.output.toPlainText() == run.output
    assert_best_marked(view.columns)
    chart = view.sweep_view.chart()
    assert "temperature" in chart.title()
    lines = [s for s in chart.series() if isinstance(s, QLineSeries)]
    assert [s.count() for s in lines] == [2, 2]  # quality and variety at both temperatures


def test_dataset_mode_stops_resumes_and_fills_the_table_and_chart(
    qtbot: QtBot, view: CompareView, qtmodeltester: object, fake_engine: FakeEngine
) -> None:
    # About half a second a run: Stop comes while the later runs are still to do.
    fake_engine.script(Script(token_delay_s=0.03))
    set_up(view, ("summarization-zero-shot", "summarization-few-shot"), max_tokens=16)
    assert view.select_dataset("summarization")
    assert not view.shared_input.isEnabled()
    view.rows_spin.setValue(3)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.progress.value() >= 1, timeout=TIMEOUT_MS)
    eta = view.eta_label.text()
    with qtbot.waitSignal(view.comparison_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    comparison_id = blocker.args[0]
    assert "of 6 runs" in eta
    assert comparison_id is not None
    assert "cancelled" in view.title_label.text()
    assert view.progress.maximum() == 6
    assert view.resume_button.isEnabled()

    with qtbot.waitSignal(view.comparison_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == comparison_id
    assert "done" in view.title_label.text()
    assert view.progress.value() == 6
    model = view.score_table.model()
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    headers = [" ".join(str(model.headerData(c, Qt.Orientation.Horizontal)).split())
               for c in range(model.columnCount())]
    assert headers[:5] == ["variant", "runs", "ROUGE-L (mean, 0–1)", "95 % interval",
                           "p vs best (paired, Holm)"]
    rows = {model.index(r, 0).data(): r for r in range(2)}
    assert list(rows) == [c.name_edit.text() for c in view.columns]
    runs_col = headers.index("runs")
    assert [model.index(r, runs_col).data() for r in range(2)] == ["3", "3"]
    p_col = headers.index("p vs best (paired, Holm)")
    p_cells = sorted((model.index(r, p_col).data() for r in range(2)), key=lambda c: c != "best")
    assert p_cells[0] == "best" and 0.0 <= float(p_cells[1].lstrip("< ")) <= 1.0
    low, high = model.index(0, headers.index("95 % interval")).data().split("–")
    assert float(low) <= float(high)
    assert "ROUGE-L" in view.winner_label.text()
    for column in view.columns:
        assert column.sample_combo.count() == 3  # one output per row
        assert "±" in column.score_labels["rougeL"].text()
    assert_best_marked(view.columns)
    chart = view.chart_view.chart()
    (bars,) = [s for s in chart.series() if isinstance(s, QBarSeries)]
    assert bars.barSets()[0].count() == 2
    report = view.score_model.report
    assert report is not None
    metric = view.chart_metric_combo.currentData()
    assert metric == report.primary
    assert view.chart_metric_combo.currentText() == metric_label(metric)
    for n, summary in enumerate(report.variants):
        estimate = summary.metrics[metric]
        assert estimate is not None
        assert bars.barSets()[0].at(n) == pytest.approx(shown(metric, estimate.mean))


def test_a_dataset_file_fills_each_templates_main_variable(
    qtbot: QtBot, view: CompareView, context: AppContext, tmp_path: Path
) -> None:
    """A CSV whose input column is named after neither template's variable: it fills the
    main text variable of each (dialogue, review); its reference column is scored against."""
    path = tmp_path / "chats.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["conversation", "expected"])
        writer.writerow([DIALOGUE, REFERENCE])
        writer.writerow(["Ana: Lunch at noon?\nBen: Yes, see you there.", "They meet at noon."])
    set_up(view, ("summarization-zero-shot", "sentiment-zero-shot"), max_tokens=8)
    assert view.select_dataset(str(path))
    assert view.dataset_mode()

    comparison_id = run_all(qtbot, view)

    assert comparison_id is not None
    with Store(context.db_path) as store:
        inputs = store.inputs(comparison_id)
        runs = store.runs(comparison_id)
    assert [i.values["dialogue"] for i in inputs] == [DIALOGUE, "Ana: Lunch at noon?\nBen: "
                                                      "Yes, see you there."]
    assert [i.values["review"] for i in inputs] == [i.values["conversation"] for i in inputs]
    assert [i.references for i in inputs] == [(REFERENCE,), ("They meet at noon.",)]
    assert len(runs) == 4 and all(r.status == "ok" for r in runs)
    assert all(r.rendered_prompt and DIALOGUE in r.rendered_prompt
               for r in runs if r.input_id == inputs[0].id)
    assert view.score_model.rowCount() == 2
    # sentiment's task metric (label accuracy) is shown beside the overlap metrics
    assert "accuracy" in view.columns[1].score_labels


def test_a_failing_variant_shows_its_error_while_the_other_completes(
    qtbot: QtBot, view: CompareView, tmp_path: Path
) -> None:
    set_up(view, ("summarization-zero-shot", "summarization-system-user"), max_tokens=12)
    view.columns[1].set_model(str(tmp_path / "gone.gguf"))
    # A stored template that no longer compiles, as a comparison saved by an older version
    # could hold: its column says why, the others still run.
    broken = view.add_column()
    assert broken is not None
    broken.load_variant(Variant(
        name="broken", template_id="old-summary",
        template_source="Summarize: {{ dialogue }\n{% if %}", params=SamplingParams(),
        model=view.context.hub.current))
    assert broken.template_combo.currentText() == "stored / old-summary"
    view.shared_input.setPlainText(DIALOGUE)
    view.references.setPlainText(REFERENCE)

    assert run_all(qtbot, view) is not None

    good, bad, _ = view.columns
    assert good.output.toPlainText().strip()
    assert not good.error_label.isVisible()
    assert all(v is not None for v in label_values(good).values())
    assert bad.error_label.isVisible()
    assert "gone.gguf" in bad.error_label.text()
    assert "old-summary" in broken.error_label.text()
    for column in (bad, broken):
        assert "Traceback" not in column.error_label.text()
        assert all(v is None for v in label_values(column).values())
    assert good.is_best("rouge1") and not bad.is_best("rouge1")
    report = view.score_model.report
    assert report is not None
    assert [v.name for v in report.variants] == [good.name_edit.text(), bad.name_edit.text()]


def test_columns_bounds_settings_and_actions(
    qtbot: QtBot, view: CompareView, context: AppContext, tmp_path: Path
) -> None:
    assert len(view.columns) == 2
    assert not view.remove_column(view.columns[0])
    while len(view.columns) < 6:
        assert view.add_column() is not None
    assert view.add_column() is None
    assert not view.add_button.isEnabled()
    names = [c.name_edit.text() for c in view.columns]
    assert len(set(names)) == 6
    assert view.remove_column(view.columns[-1])
    assert view.add_button.isEnabled()
    while len(view.columns) > 2:
        view.columns[-1].remove_button.click()
    assert not view.columns[0].remove_button.isEnabled()

    first, second = view.columns
    assert first.set_template("Built-in/translation-zero-shot")
    assert "text" not in first.variable_editors  # the shared input fills it
    first.variable_editors["target_language"].setCurrentText("German")
    first.params["temperature"].setValue(0.4)
    first.name_edit.setText("translate")
    assert second.set_template("qa-zero-shot")
    second.variable_editors["question"].setText("Who booked?")
    view.samples_spin.setValue(3)
    assert not second.set_template("no-such-template")
    view.save_settings(context.settings)

    restored = CompareView(context)
    qtbot.addWidget(restored)
    a, b = restored.columns
    assert a.name_edit.text() == "translate"
    assert a.template_key() == "Built-in/translation-zero-shot"
    assert a.values()["target_language"] == "German"
    assert a.params["temperature"].value() == pytest.approx(0.4)
    assert b.template_key() == "Built-in/qa-zero-shot"
    assert b.values()["question"] == "Who booked?"
    assert a.model() == context.hub.current
    assert restored.samples_spin.value() == 3

    run, stop = view.run_actions()
    assert run.shortcut().toString() == "Ctrl+Shift+R"
    assert run.isEnabled() and not stop.isEnabled()
    view.shared_input.clear()
    with qtbot.waitSignal(view.comparison_finished) as blocker:
        run.trigger()
    assert blocker.args == [None]
    assert "input text" in view.message_label.text()
    assert view.select_dataset("qa")  # the dataset fills the question of every row
    assert not second.variable_editors["question"].isEnabled()
    view.dataset_combo.setCurrentIndex(0)
    assert second.variable_editors["question"].isEnabled()
    assert not view.running
    with qtbot.waitSignal(view.export_finished) as blocker:
        view.export_report(str(tmp_path / "nothing.csv"))
    assert "no report" in blocker.args[1]
    assert not (tmp_path / "nothing.csv").exists()
    qtbot.waitUntil(lambda: context.tasks.running == 0)
