"""The output format at 1366×768, as a person sets it: a JSON Schema typed into the Playground's
editor dialog (or loaded from a file) goes with the request and the scores say whether the
answer parses and follows it; a malformed schema is named next to the control and Run is
refused with the same words; the template's own constraint is shown as such; a Compare column
set to Any JSON says so in its header, runs with it, and reopens with it from History. The model
is the scripted one (tests/fakes.py), scripted to a known JSON or not-JSON answer, except in the
test marked ``model``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from playground.errors import ConstraintError
from playground.evaluation.structured import status
from playground.output_constraint import OutputConstraint, make_constraint
from playground.runs.runner import RunDone
from playground.storage.store import Store
from tests.fakes import FakeEngine, Script
from tests.ui.actions import (
    choose,
    click,
    click_tab,
    double_click_history_row,
    history_row,
    open_comparison_from_history,
    type_over,
)
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.views.playground.playground_view import PlaygroundView
from ui.widgets.constraint_dialog import ConstraintDialog
from ui.widgets.output_format import OutputFormat

TIMEOUT_MS = 60000
SCHEMA = ('{"type": "object", "properties": {"label": {"enum": ["positive", "negative"]}}, '
          '"required": ["label"], "additionalProperties": false}')
PROMPT = "Is 'The battery died after a day.' positive or negative? Reply in JSON."


# -- acting as a person ------------------------------------------------------------------------


def open_editor(qtbot: QtBot, control: OutputFormat, choice: str) -> ConstraintDialog:
    """Choose "JSON Schema…" or "Grammar…" in the box: its editor dialog opens."""
    control.dialog = None
    choose(qtbot, control.combo, choice)
    qtbot.waitUntil(lambda: control.dialog is not None and control.dialog.isVisible())
    assert control.dialog is not None
    return control.dialog


def type_schema(qtbot: QtBot, control: OutputFormat, text: str) -> ConstraintDialog:
    dialog = open_editor(qtbot, control, "JSON Schema…")
    type_over(qtbot, dialog.editor, text)
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    return dialog


def run(qtbot: QtBot, view: PlaygroundView) -> RunDone | None:
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        click(qtbot, view.run_button)
    done = blocker.args[0]
    assert done is None or isinstance(done, RunDone)
    return done


def scratch_prompt(qtbot: QtBot, view: PlaygroundView, text: str = PROMPT) -> None:
    assert view.modes.mode == "scratch"
    type_over(qtbot, view.modes.scratch_panel.prompt, text)


# -- the Playground ----------------------------------------------------------------------------


def test_a_typed_schema_goes_with_the_run_and_the_scores_say_how_the_answer_fared(
    qtbot: QtBot, laptop: MainWindow, fake_engine: FakeEngine, settings: QSettings
) -> None:
    view = laptop.playground
    control = view.output_format
    assert control.isVisible() and control.combo.currentText() == "Free text"
    scratch_prompt(qtbot, view)
    dialog = type_schema(qtbot, control, SCHEMA)
    assert dialog.message.text() == "A valid JSON Schema."
    assert control.combo.currentText() == "JSON Schema…"
    assert control.message.text() == "JSON Schema" and control.error is None

    fake_engine.script(Script(text='{"label": "positive"}'))
    done = run(qtbot, view)
    assert done is not None and done.result is not None
    assert fake_engine.requests[-1].constraint == OutputConstraint("json_schema", SCHEMA)
    assert view.scores_label.text().startswith("Scores: valid JSON")

    fake_engine.script(Script(text='{"label": "maybe"}'))
    run(qtbot, view)
    assert "⚠ invalid at $.label: 'maybe' is not one of" in view.scores_label.text()
    assert "schema_valid: 0.000 (invalid at $.label" in view.scores_label.toolTip()

    fake_engine.script(Script(text="It is negative."))
    last = run(qtbot, view)
    assert last is not None and last.run_id is not None
    assert "⚠ not JSON: Expecting value" in view.scores_label.text()

    # A stored run reopens with its constraint shown, whatever is chosen now...
    choose(qtbot, control.combo, "Any JSON")
    row = history_row(qtbot, laptop, comparison_of(laptop, last.run_id))
    double_click_history_row(qtbot, laptop, row)
    qtbot.waitUntil(lambda: control.combo.currentText() == "JSON Schema…", timeout=TIMEOUT_MS)
    assert control.constraint() == OutputConstraint("json_schema", SCHEMA)
    assert "⚠ not JSON" in view.scores_label.text()

    # ...and what is chosen is kept with the window's settings when the window closes.
    laptop.close()
    second_context = AppContext(settings)
    try:
        second = PlaygroundView(second_context)
        qtbot.addWidget(second)
        assert second.output_format.combo.currentText() == "JSON Schema…"
        assert second.output_format.constraint() == OutputConstraint("json_schema", SCHEMA)
    finally:
        second_context.close()


def comparison_of(window: MainWindow, run_id: int) -> int:
    """The comparison (a Playground run's own) a stored run belongs to."""
    with Store(window.context.db_path) as store:
        comparison_id = store.run(run_id).comparison_id
    assert comparison_id is not None
    return comparison_id


@pytest.mark.parametrize("typed", ['{"type": "object"', '{"type": "objekt"}'])
def test_a_malformed_schema_is_named_and_run_is_refused_until_it_is_fixed(
    qtbot: QtBot, laptop: MainWindow, fake_engine: FakeEngine, tmp_path: Path, typed: str
) -> None:
    view = laptop.playground
    control = view.output_format
    scratch_prompt(qtbot, view)
    with pytest.raises(ConstraintError) as refused:
        make_constraint("json_schema", typed)
    message = str(refused.value)

    dialog = type_schema(qtbot, control, typed)
    assert dialog.message.text() == message  # said while typing, too
    assert control.message.isVisible() and control.message.text() == message
    assert control.error == message
    asked = len(fake_engine.requests)
    assert run(qtbot, view) is None
    assert view.status_label.text() == message
    assert len(fake_engine.requests) == asked

    # Edit… opens the same editor again; a schema file loads into it.
    schema_file = tmp_path / "label.schema.json"
    schema_file.write_text(json.dumps(json.loads(SCHEMA), indent=2), encoding="utf-8")
    control.choose_path = lambda _kind: str(schema_file)
    click(qtbot, control.edit_button)
    qtbot.waitUntil(lambda: control.dialog is not dialog and control.dialog is not None
                    and control.dialog.isVisible())
    editor = control.dialog
    assert editor is not None and editor.editor.toPlainText() == typed
    click(qtbot, editor.load_button)
    assert editor.editor.toPlainText() == schema_file.read_text(encoding="utf-8")
    assert editor.message.text() == "A valid JSON Schema (from label.schema.json)."
    click(qtbot, editor.ok_button)
    assert control.error is None and control.message.text() == "JSON Schema (label.schema.json)"

    fake_engine.script(Script(text='{"label": "negative"}'))
    done = run(qtbot, view)
    assert done is not None and done.status == "ok"
    sent = fake_engine.requests[-1].constraint
    assert sent is not None and sent.kind == "json_schema"
    assert json.loads(sent.text) == json.loads(SCHEMA) and sent.source == "label.schema.json"
    assert view.scores_label.text().startswith("Scores: valid JSON")


def test_a_templates_own_schema_is_shown_as_such_and_free_text_lifts_it(
    qtbot: QtBot, laptop: MainWindow, fake_engine: FakeEngine
) -> None:
    view = laptop.playground
    control = view.output_format
    tree = view.picker.tree
    item = view.picker.item_for("Built-in", "sentiment-json-schema")
    assert item is not None
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualItemRect(item).center())
    qtbot.waitUntil(lambda: control.combo.currentText() == "Template's JSON Schema")
    assert control.message.text() == "as the template's header sets it"
    template = view.variables.template
    assert template is not None and template.meta.output is not None
    type_over(qtbot, view.variables.editors["review"], "The battery died after a day.")

    fake_engine.script(Script(text='{"label": "negative", "confidence": 2}'))
    run(qtbot, view)
    assert fake_engine.requests[-1].constraint == template.meta.output
    assert "⚠ invalid at $.confidence" in view.scores_label.text()

    choose(qtbot, control.combo, "Free text")
    run(qtbot, view)
    assert fake_engine.requests[-1].constraint is None
    # The scratch prompt has no template: its default is free text.
    click(qtbot, view.modes.buttons["scratch"])
    assert control.combo.currentText() == "Free text"


# -- Compare -------------------------------------------------------------------------------------


def test_a_compare_column_set_to_any_json_runs_with_it_and_reopens_with_it(
    qtbot: QtBot, laptop: MainWindow, fake_engine: FakeEngine
) -> None:
    compare = laptop.compare
    click_tab(qtbot, laptop, compare)
    first, second = compare.columns[:2]
    click(qtbot, second.edit_button)
    choose(qtbot, second.editor.output_format.combo, "Any JSON")
    click(qtbot, second.edit_button)
    assert "any JSON" in second.header.summary_label.full_text()
    assert "JSON" not in first.header.summary_label.full_text()
    type_over(qtbot, compare.shared_input, "Maya: Train at 10:40? Leo: Booked.")

    fake_engine.script(Script(text="Leo booked the train."))
    asked = len(fake_engine.requests)
    with qtbot.waitSignal(compare.comparison_finished, timeout=TIMEOUT_MS) as blocker:
        click(qtbot, compare.run_button)
    comparison_id = blocker.args[0]
    assert isinstance(comparison_id, int)
    constraints = [r.constraint for r in fake_engine.requests[asked:]]
    assert sorted(map(str, constraints)) == sorted(map(str, [None, OutputConstraint("json")]))
    assert "⚠ not JSON" in second.status_label.text()
    # Once one column asks for JSON, the comparison scores every column's answer as JSON.
    assert "⚠ not JSON" in first.status_label.text()

    click(qtbot, second.edit_button)
    choose(qtbot, second.editor.output_format.combo, "Free text")
    click(qtbot, second.edit_button)
    assert "any JSON" not in second.header.summary_label.full_text()

    open_comparison_from_history(qtbot, laptop, comparison_id)
    reopened = compare.columns[1]
    assert "any JSON" in reopened.header.summary_label.full_text()
    assert reopened.editor.output_format.combo.currentText() == "Any JSON"
    assert reopened.variant().output == OutputConstraint("json")


# -- the real model ------------------------------------------------------------------------------


@pytest.mark.model
def test_a_bounded_schema_on_the_real_model_parses_and_validates_or_is_truncated(
    qtbot: QtBot, laptop: MainWindow
) -> None:
    view = laptop.playground
    scratch_prompt(qtbot, view)
    type_schema(qtbot, view.output_format, SCHEMA)
    done = run(qtbot, view)
    assert done is not None and done.result is not None and done.status == "ok"
    record = done.result.record or {}
    assert record["output_constraint"]["kind"] == "json_schema"
    valid = next(s for s in done.scores if s.metric == "schema_valid")
    if done.result.finish_reason == "length":
        assert status(valid) in ("valid", "truncated"), done.result.text
    else:
        assert status(valid) == "valid", done.result.text
        assert view.scores_label.text().startswith("Scores: valid JSON")
