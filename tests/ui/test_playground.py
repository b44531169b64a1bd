"""The Playground tab, driven as a person would. Its widgets are tested on the scripted model
(tests/fakes.py); counting a prompt's tokens through the model's own tokenizer and chat template
needs the real default model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QSettings, Qt
from PySide6.QtGui import QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QStyle, QToolTip, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from playground.engine.endpoints import Endpoint, save_endpoint
from playground.engine.options import LoadOptions
from playground.errors import SamplingError
from playground.prompts.collection import install
from playground.prompts.library import Library
from playground.prompts.templates import parse_template
from playground.runs.runner import RunDone
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.fakes import FakeEngine, Script
from ui.context import AppContext
from ui.views.playground.params_panel import ParamsPanel, format_stop, parse_stop
from ui.views.playground.playground_view import PlaygroundView, split_references
from ui.views.playground.variables_form import ExamplesEditor, VariablesForm
from ui.widgets.highlighter import JinjaHighlighter
from ui.widgets.token_view import colour_for, probability

BUILTIN = "Built-in"
SUMMARY = "summarization-zero-shot"
DIALOGUE = (
    "Maya: Did you book the train for Saturday?\n"
    "Leo: Not yet, the 9:10 was sold out.\n"
    "Maya: Take the 10:40 then.\n"
    "Leo: Booked. Two seats, coach C."
)
REFERENCE = "Leo booked two seats on the 10:40 train on Saturday."
TIMEOUT_MS = 120000


def make_view(qtbot: QtBot, context: AppContext) -> PlaygroundView:
    view = PlaygroundView(context)
    qtbot.addWidget(view)
    view.resize(1500, 950)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: context.tasks.running == 0)  # the model list
    return view


@pytest.fixture
def view(qtbot: QtBot, context: AppContext) -> Iterator[PlaygroundView]:
    context.hub.set_options(context.hub.current, LoadOptions(n_ctx=2048))
    playground = make_view(qtbot, context)
    yield playground
    playground.stop()


# -- acting as a person ----------------------------------------------------------------------


def click_template(qtbot: QtBot, view: PlaygroundView, template_id: str, *,
                   library: str = BUILTIN) -> None:
    item = view.picker.item_for(library, template_id)
    assert item is not None
    tree = view.picker.tree
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.picker.current() == (library, template_id)


def type_into(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Select everything in the box and type over it (new lines with the Return key)."""
    widget.setFocus()
    QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(widget, Qt.Key.Key_Delete)
    for n, line in enumerate(text.split("\n")):
        if n:
            QTest.keyClick(widget, Qt.Key.Key_Return)
        qtbot.keyClicks(widget, line)


def set_slider(slider: object, value: float) -> None:
    """Type a value into the slider's own box, as a person does for an exact number."""
    label = slider._label  # type: ignore[attr-defined]
    label.setFocus()
    label.selectAll()
    QTest.keyClicks(label, str(value))
    QTest.keyClick(label, Qt.Key.Key_Return)


def drag_slider_to_minimum(qtbot: QtBot, slider: object) -> None:
    """Press the slider's handle and drag it past the left end."""
    inner = slider._slider  # type: ignore[attr-defined]
    handle = inner.style().subControlRect(QStyle.ComplexControl.CC_Slider, inner._styleOption,
                                          QStyle.SubControl.SC_SliderHandle, inner)
    qtbot.mousePress(inner, Qt.MouseButton.LeftButton, pos=handle.center())
    qtbot.mouseMove(inner, QPoint(-40, handle.center().y()))
    qtbot.mouseRelease(inner, Qt.MouseButton.LeftButton, pos=QPoint(-40, handle.center().y()))


def prepare(qtbot: QtBot, view: PlaygroundView, *, max_tokens: int = 16,
            dialogue: str = DIALOGUE) -> None:
    click_template(qtbot, view, SUMMARY)
    type_into(qtbot, view.variables.editors["dialogue"], dialogue)
    drag_slider_to_minimum(qtbot, view.params.temperature)
    set_slider(view.params.max_tokens, max_tokens)
    assert view.params.params().temperature == 0
    assert view.params.params().max_tokens == max_tokens


#: A template any model continues for a long time: stopping or replacing a run needs a run still
#: going. What the model writes is never asserted.
COUNTING = "1, 2, 3, 4, 5,"
#: The scripted model talking until its budget runs out, a token every 10 ms.
TALKATIVE = Script(length=None, token_delay_s=0.01)


def focus_editor(qtbot: QtBot, view: PlaygroundView) -> None:
    """Shortcuts reach the active window only: bring it forward and click into the editor."""
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.mouseClick(view.editor.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert view.editor.hasFocus()


def run_and_wait(qtbot: QtBot, view: PlaygroundView, *, keyboard: bool = False) -> object:
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        if keyboard:
            focus_editor(qtbot, view)
            QTest.keyClick(view.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        else:
            qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


# -- picking and previewing --------------------------------------------------------------------


def test_the_tree_lists_libraries_searches_and_keeps_partials_out_of_reach(
    qtbot: QtBot, view: PlaygroundView
) -> None:
    picker = view.picker
    library = picker.tree.topLevelItem(0)
    assert library is not None and library.text(0) == BUILTIN
    summary = picker.item_for(BUILTIN, SUMMARY)
    assert summary is not None
    assert (summary.text(1), summary.text(2)) == ("summarization", "zero-shot")

    partials = [library.child(i) for i in range(library.childCount())
                if "(partial)" in library.child(i).text(0)]  # type: ignore[union-attr]
    assert partials
    for partial in partials:
        assert partial is not None
        assert not partial.flags() & Qt.ItemFlag.ItemIsSelectable

    qtbot.keyClicks(picker.search, "dialogue zero-shot")
    visible = picker.visible_templates()
    assert (BUILTIN, SUMMARY) in visible
    assert all("summarization" in tid for _, tid in visible)
    picker.search.clear()
    assert len(picker.visible_templates()) == len(view.context.collection().templates())

    # A library installed elsewhere in the window shows up, and the choice is kept.
    click_template(qtbot, view, SUMMARY)
    source = "{#---\nname: Haiku\ntask: poetry\n---#}\nA haiku on {{ topic }}:"
    install(Library("Poems", "Short forms", (parse_template(source, "haiku"),)))
    with qtbot.assertNotEmitted(picker.template_chosen):
        view.context.library_changed.emit()
    assert picker.item_for("Poems", "haiku") is not None
    assert picker.current() == (BUILTIN, SUMMARY)
    qtbot.keyClicks(picker.search, "haiku")
    assert picker.visible_templates() == [("Poems", "haiku")]
    click_template(qtbot, view, "haiku", library="Poems")
    assert list(view.variables.editors) == ["topic"]


def test_picking_a_template_fills_editor_form_settings_and_preview(
    qtbot: QtBot, view: PlaygroundView
) -> None:
    click_template(qtbot, view, SUMMARY)
    assert view.editor.toPlainText().startswith("{#---\nname: Dialogue summary (zero-shot)")
    assert list(view.variables.editors) == ["dialogue"]
    params = view.params.params()
    assert (params.temperature, params.max_tokens, params.stop) == (0.2, 96, ("\n\n",))
    assert view.params.stop_edit.text() == "\\n\\n"

    type_into(qtbot, view.variables.editors["dialogue"], DIALOGUE)
    qtbot.waitUntil(lambda: "Leo: Booked. Two seats" in view.preview.toPlainText())
    assert view.preview.toPlainText().rstrip().endswith("Summary:")
    assert "load the model" in view.preview_tokens_label.text()

    # A few-shot template brings its example set, editable in a table.
    click_template(qtbot, view, "summarization-few-shot")
    examples = view.variables.editors["examples"]
    assert isinstance(examples, ExamplesEditor)
    assert examples.table.rowCount() >= 3
    assert examples.set_combo.currentText() == "summarization"
    first_input = examples.examples()[0]["input"]
    qtbot.waitUntil(lambda: first_input.splitlines()[0] in view.preview.toPlainText())


@pytest.mark.model
def test_the_preview_counts_tokens_once_the_model_is_loaded_and_warns_about_values(
    qtbot: QtBot, view: PlaygroundView
) -> None:
    click_template(qtbot, view, SUMMARY)
    with qtbot.waitSignal(view.context.hub.loaded, timeout=TIMEOUT_MS):
        qtbot.mouseClick(view.load_button, Qt.MouseButton.LeftButton)
    dialogue = view.variables.editors["dialogue"]
    assert isinstance(dialogue, QPlainTextEdit)
    dialogue.setFocus()
    dialogue.insertPlainText("Ann: hi<|im_end|>\u202eBob: hello")  # pasted text
    qtbot.waitUntil(lambda: "/ 2,048 tokens" in view.preview_tokens_label.text(),
                    timeout=TIMEOUT_MS)
    count = int(view.preview_tokens_label.text().split("/")[0].replace(",", ""))
    assert 20 < count < 200
    warnings = view.preview_warnings.text()
    assert "control token" in warnings
    assert "U+202E" in warnings
    assert view.model_state.text() == "ready"
    assert not view.load_button.isEnabled()

    # Too long for the context window: said before anything runs.
    dialogue.insertPlainText(" Ann: so, what do we do next?" * 400)
    qtbot.waitUntil(lambda: "does not fit" in view.preview_tokens_label.text(),
                    timeout=TIMEOUT_MS)
    assert "context window holds 2,048" in view.preview_tokens_label.text()

    # A chat template is previewed through the model's own chat template.
    click_template(qtbot, view, "sentiment-system-user")
    type_into(qtbot, view.variables.editors["review"], "Great battery, awful screen.")
    qtbot.waitUntil(lambda: "<|im_start|>system" in view.preview.toPlainText()
                    and "awful screen" in view.preview.toPlainText(), timeout=TIMEOUT_MS)
    assert "/ 2,048 tokens" in view.preview_tokens_label.text()


# -- running -----------------------------------------------------------------------------------


def test_a_run_streams_its_output_then_shows_scores_and_timing(
    qtbot: QtBot, view: PlaygroundView, fake_engine: FakeEngine
) -> None:
    answer = " Leo booked two seats on the 10:40 for Saturday, coach C."
    fake_engine.script(Script(text=answer, token_delay_s=0.005))
    prepare(qtbot, view, max_tokens=24)
    type_into(qtbot, view.reference, REFERENCE)
    seen: list[int] = []
    view.output.textChanged.connect(lambda: seen.append(len(view.output.toPlainText())))
    history: list[bool] = []
    view.context.history_changed.connect(lambda: history.append(True))

    done = run_and_wait(qtbot, view, keyboard=True)

    assert isinstance(done, RunDone)
    assert done.status == "ok" and done.result is not None
    result = done.result
    assert result.text == answer
    assert view.output.toPlainText() == result.text
    assert view.output.isReadOnly()
    streamed = [n for n in seen if 0 < n < len(result.text)]
    assert streamed, "the output only appeared at the end"
    assert result.params.temperature == 0
    assert result.completion_tokens <= 24
    status = view.status_label.text()
    assert "tokens/s" in status and "first token after" in status
    assert f"prompt {result.prompt_tokens} tokens" in status
    assert "finished:" in status
    # Confidence: the mean token log-probability, flagged only under the chosen threshold.
    mean = next(s.value for s in done.scores if s.metric == "mean_logprob")
    assert mean is not None and mean <= 0
    assert f"mean log-prob {mean:.2f}" in status
    threshold = float(view.context.settings.value("scoring/low_confidence_below", -1.0))
    assert ("low confidence" in status) == (mean < threshold)
    scores = view.scores_label.text()
    assert "rouge1" in scores and "bleu" in scores and "chrf" in scores
    assert {s.metric for s in done.scores} >= {"rouge1_f", "bleu", "chrf"}
    assert history
    with Store(view.context.db_path) as store:
        saved = store.run(done.run_id or 0)
        comparison = store.comparison(saved.comparison_id or 0)
    assert saved.output == result.text
    assert comparison.name == f"Playground: {SUMMARY}"


def test_a_fixed_seed_regenerates_the_same_output_and_random_seeds_differ(
    qtbot: QtBot, view: PlaygroundView
) -> None:
    prepare(qtbot, view, max_tokens=12)
    set_slider(view.params.temperature, 1.5)
    qtbot.mouseClick(view.params.random_seed, Qt.MouseButton.LeftButton)
    assert not view.params.random_seed.isChecked()
    view.params.seed_spin.setFocus()
    view.params.seed_spin.selectAll()
    QTest.keyClicks(view.params.seed_spin, "4242")
    QTest.keyClick(view.params.seed_spin, Qt.Key.Key_Return)

    first = run_and_wait(qtbot, view)
    assert isinstance(first, RunDone) and first.result is not None
    assert first.planned.seed == first.result.params.seed == 4242
    # The first generation after a load evaluates the whole prompt at once and later ones
    # reuse the cached prefix, which moves the logits by rounding; compare two later runs.
    texts = []
    for _ in range(2):
        with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
            qtbot.mouseClick(view.regenerate_button, Qt.MouseButton.LeftButton)
        again = blocker.args[0]
        assert isinstance(again, RunDone) and again.result is not None
        assert again.planned.seed == again.result.params.seed == 4242
        assert again.planned.prompt_text == first.planned.prompt_text
        texts.append(again.result.text)
    assert texts[0] == texts[1]
    assert "seed 4242" in view.status_label.text()

    # With "random" on, every regeneration draws a new seed (of the same prompt).
    qtbot.mouseClick(view.params.random_seed, Qt.MouseButton.LeftButton)
    seeds = {4242}
    for _ in range(2):
        with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
            view.regenerate_action.trigger()
        fresh = blocker.args[0]
        assert isinstance(fresh, RunDone)
        assert fresh.planned.seed not in seeds
        assert fresh.planned.prompt_text == first.planned.prompt_text
        seeds.add(fresh.planned.seed)


def test_stop_ends_the_run_and_keeps_the_partial_output(
    qtbot: QtBot, view: PlaygroundView, fake_engine: FakeEngine
) -> None:
    fake_engine.script(TALKATIVE)
    prepare(qtbot, view, max_tokens=600)
    type_into(qtbot, view.editor, COUNTING)
    view.params.stop_edit.clear()
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
        assert view.stop_action.isEnabled()
        qtbot.waitUntil(lambda: len(view.output.toPlainText()) > 0, timeout=TIMEOUT_MS)
        focus_editor(qtbot, view)
        QTest.keyClick(view.editor, Qt.Key.Key_Escape)
    assert blocker.args[0] is None
    assert view.output.toPlainText()
    assert view.status_label.text().startswith("Stopped")
    assert not view.stop_action.isEnabled()
    assert not view.running


def test_run_while_running_replaces_the_run_in_flight(
    qtbot: QtBot, view: PlaygroundView, fake_engine: FakeEngine
) -> None:
    fake_engine.script(TALKATIVE)
    prepare(qtbot, view, max_tokens=600)
    type_into(qtbot, view.editor, COUNTING)
    view.params.stop_edit.clear()
    finished: list[object] = []
    view.run_finished.connect(finished.append)
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(view.output.toPlainText()) > 0, timeout=TIMEOUT_MS)
    set_slider(view.params.max_tokens, 6)
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    done = blocker.args[0]
    assert isinstance(done, RunDone) and done.result is not None
    assert done.result.completion_tokens <= 6
    assert finished == [done]  # the replaced run is not reported


def test_a_template_error_is_marked_in_the_editor_and_run_reports_it(
    qtbot: QtBot, view: PlaygroundView
) -> None:
    click_template(qtbot, view, SUMMARY)
    source = view.editor.toPlainText()
    broken_line = source.splitlines().index("{{ dialogue }}") + 1
    # Put the cursor after "{{ dialogue }}" and delete the last brace.
    cursor = view.editor.textCursor()
    cursor.setPosition(source.index("{{ dialogue }}") + len("{{ dialogue }}"))
    view.editor.setTextCursor(cursor)
    view.editor.setFocus()
    QTest.keyClick(view.editor, Qt.Key.Key_Backspace)

    qtbot.waitUntil(lambda: view.editor_message.isVisible())
    assert f"line {broken_line}" in view.editor_message.text()
    assert view.error_line == broken_line
    wave = [s for s in view.editor.extraSelections()
            if s.format.underlineStyle() == QTextCharFormat.UnderlineStyle.WaveUnderline]
    assert len(wave) == 1
    assert wave[0].cursor.block().blockNumber() == broken_line - 1
    assert wave[0].cursor.selectedText() == "{{ dialogue }"

    done = run_and_wait(qtbot, view)
    assert isinstance(done, RunDone) and done.status == "failed" and done.result is None
    assert "syntax error" in view.status_label.text()
    assert f"line {broken_line}" in view.status_label.text()

    QTest.keyClick(view.editor, Qt.Key.Key_BraceRight)
    qtbot.waitUntil(lambda: not view.editor_message.isVisible())
    assert view.error_line is None
    assert view.editor.extraSelections() == []


def test_the_edited_source_is_what_runs(qtbot: QtBot, view: PlaygroundView) -> None:
    prepare(qtbot, view, max_tokens=4)
    source = view.editor.toPlainText()
    edited = source.replace("Summary:", "{{ tone }} summary:")
    view.editor.setPlainText(edited)
    qtbot.waitUntil(lambda: "tone" in view.variables.editors)
    assert view.variables.values()["dialogue"] == DIALOGUE  # what was typed is kept
    type_into(qtbot, view.variables.editors["tone"], "Cheerful")
    done = run_and_wait(qtbot, view)
    assert isinstance(done, RunDone) and done.result is not None
    assert done.planned.prompt_text.rstrip().endswith("Cheerful summary:")
    assert done.planned.variant.template_source == edited


def test_live_mode_runs_again_after_a_change(qtbot: QtBot, view: PlaygroundView) -> None:
    prepare(qtbot, view, max_tokens=6)
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(view.live_check, Qt.MouseButton.LeftButton)
    first = blocker.args[0]
    assert isinstance(first, RunDone)
    assert "Leo: Booked" in first.planned.prompt_text

    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        type_into(qtbot, view.variables.editors["dialogue"], "Ann: Coffee at ten?\nBob: Yes.")
    second = blocker.args[0]
    assert isinstance(second, RunDone)
    assert "Bob: Yes." in second.planned.prompt_text

    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        set_slider(view.params.max_tokens, 3)
    third = blocker.args[0]
    assert isinstance(third, RunDone)
    assert third.planned.variant.params.max_tokens == 3

    qtbot.mouseClick(view.live_check, Qt.MouseButton.LeftButton)
    with qtbot.assertNotEmitted(view.run_finished, wait=900):
        set_slider(view.params.max_tokens, 5)


def test_the_token_view_colours_tokens_and_lists_alternatives_on_hover(
    qtbot: QtBot, view: PlaygroundView
) -> None:
    prepare(qtbot, view, max_tokens=8)
    qtbot.mouseClick(view.token_check, Qt.MouseButton.LeftButton)
    assert view.token_view.isVisible()
    done = run_and_wait(qtbot, view)
    assert isinstance(done, RunDone) and done.result is not None
    logprobs = done.result.logprobs
    assert logprobs is not None and len(logprobs) == done.result.completion_tokens
    tokens = view.token_view.tokens
    assert [t.token for t in tokens] == [t.token for t in logprobs]

    for index, entry in enumerate(tokens):
        cursor = QTextCursor(view.token_view.text.document())
        cursor.setPosition(view.token_view._starts[index] + 1)
        colour = cursor.charFormat().background().color()
        assert colour == colour_for(probability(entry.logprob))

    index = max(range(len(tokens)), key=lambda i: len(tokens[i].top))
    viewport = view.token_view.text.viewport()
    point = view.token_view.token_rect(index).center()
    event = QHelpEvent(QEvent.Type.ToolTip, point, viewport.mapToGlobal(point))
    QApplication.sendEvent(viewport, event)
    qtbot.waitUntil(QToolTip.isVisible)
    tip = QToolTip.text()
    assert "Alternatives" in tip
    assert tip.count("%") >= 1 + len(tokens[index].top)
    best = max(tokens[index].top, key=lambda t: t[1])
    assert f"{probability(best[1]):.1%}" in tip

    outside = QPoint(viewport.width() - 2, viewport.height() - 2)
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, outside,
                                                viewport.mapToGlobal(outside)))
    qtbot.waitUntil(lambda: not QToolTip.isVisible())

    # Reopened from the history, the run brings its tokens and alternatives back.
    assert done.run_id is not None
    view.token_view.clear()
    view.context.open_run.emit(done.run_id)
    qtbot.waitUntil(lambda: len(view.token_view.tokens) == len(logprobs))
    assert tuple(view.token_view.tokens) == logprobs


def test_a_stored_run_opens_back_in_the_playground(qtbot: QtBot, view: PlaygroundView) -> None:
    prepare(qtbot, view, max_tokens=8)
    type_into(qtbot, view.reference, REFERENCE)
    done = run_and_wait(qtbot, view)
    assert isinstance(done, RunDone) and done.result is not None and done.run_id is not None
    output = done.result.text

    click_template(qtbot, view, "qa-zero-shot")
    set_slider(view.params.max_tokens, 50)
    view.reference.clear()
    view.output.clear()

    view.context.open_run.emit(done.run_id)
    qtbot.waitUntil(lambda: view.output.toPlainText() == output)
    assert view.picker.current() == (BUILTIN, SUMMARY)
    assert view.editor.toPlainText() == done.planned.variant.template_source
    assert view.variables.values()["dialogue"] == DIALOGUE
    params = view.params.params()
    assert (params.temperature, params.max_tokens, params.seed) == (0, 8, done.planned.seed)
    assert view.reference.toPlainText() == REFERENCE
    assert "rouge1" in view.scores_label.text()
    assert f"Run {done.run_id}" in view.status_label.text()

    view.context.open_run.emit(99999)
    qtbot.waitUntil(lambda: "cannot be opened" in view.status_label.text())


# -- settings and models -------------------------------------------------------------------------


def test_settings_survive_a_new_window(
    qtbot: QtBot, view: PlaygroundView, settings: QSettings, default_model_path: Path
) -> None:
    click_template(qtbot, view, "translation-zero-shot")
    set_slider(view.params.temperature, 0.7)
    set_slider(view.params.top_k, 25)
    qtbot.mouseClick(view.params.random_seed, Qt.MouseButton.LeftButton)
    view.params.seed_spin.setValue(77)
    view.params.stop_edit.setText("\\n\\n, END")
    qtbot.mouseClick(view.token_check, Qt.MouseButton.LeftButton)
    view.splitter.setSizes([300, 600, 600])
    sizes = view.splitter.sizes()
    view.save_settings(settings)
    assert settings.value("models/current") == str(default_model_path)

    second_context = AppContext(settings)
    try:
        second = make_view(qtbot, second_context)
        assert second.picker.current() == (BUILTIN, "translation-zero-shot")
        assert second.editor.toPlainText() == view.editor.toPlainText()
        restored = second.params.params()
        assert (restored.temperature, restored.top_k, restored.seed) == (0.7, 25, 77)
        assert restored.stop == ("\n\n", "END")
        assert second.token_check.isChecked() and not second.live_check.isChecked()
        assert second.splitter.sizes() == sizes
        assert second_context.hub.current == str(default_model_path)
    finally:
        second_context.close()

    settings.setValue("models/current", "/no/such/model.gguf")
    third_context = AppContext(settings)
    try:
        make_view(qtbot, third_context)
        assert third_context.hub.current == str(default_model_path)
    finally:
        third_context.close()


def test_the_model_chooser_follows_and_sets_the_current_model(
    qtbot: QtBot, context: AppContext, default_model_path: Path
) -> None:
    save_endpoint(Endpoint("lab-server", "http://127.0.0.1:9/v1", "some-model", None))
    view = make_view(qtbot, context)
    combo = view.model_combo
    keys = [combo.itemData(i) for i in range(combo.count())]
    assert keys == [str(default_model_path), "remote:lab-server"]
    assert combo.currentData() == str(default_model_path)

    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert context.hub.current == "remote:lab-server"
    assert view.model_state.text() == "remote"
    assert not view.load_button.isEnabled()

    context.hub.set_current(str(default_model_path))
    assert combo.currentData() == str(default_model_path)
    assert view.model_state.text() == "not loaded"
    assert view.load_button.isEnabled()


# -- the pieces on their own ---------------------------------------------------------------------


def test_params_panel_validates_resets_and_reads_back(qtbot: QtBot) -> None:
    panel = ParamsPanel()
    qtbot.addWidget(panel)
    panel.show()
    template_defaults = SamplingParams(temperature=0.2, max_tokens=96, stop=("\n\n",))
    panel.set_defaults(template_defaults)
    panel.set_params(template_defaults)
    assert not panel.reset_buttons["temperature"].isEnabled()

    with qtbot.waitSignal(panel.changed):
        set_slider(panel.temperature, 1.3)
    assert panel.params().temperature == 1.3
    assert panel.reset_buttons["temperature"].isEnabled()
    qtbot.mouseClick(panel.reset_buttons["temperature"], Qt.MouseButton.LeftButton)
    assert panel.params().temperature == 0.2

    panel.stop_edit.setText(", ".join(f"s{i}" for i in range(17)))
    assert panel.message.isVisible()
    assert "at most 16 stop sequences" in panel.message.text()
    with pytest.raises(SamplingError, match="at most 16"):
        panel.params()
    panel.stop_edit.setText("\\n\\n, User:")
    assert not panel.message.isVisible()

    wide = SamplingParams(top_k=5000, max_tokens=20000, seed=12, stop=(" A, B ", "\t"))
    panel.set_params(wide)
    assert panel.params() == wide


def test_stop_sequences_round_trip_through_the_line_edit() -> None:
    for stop in [("\n\n",), (" User:", "x,y"), ("a\\b",), ("END ", "\tq")]:
        assert parse_stop(format_stop(stop)) == stop
    assert parse_stop("a, ,b\nc") == ("a", "b", "c")
    assert split_references("one\n---\ntwo\nlines\n") == ("one", "two\nlines")


def test_examples_table_adds_removes_and_reorders(
    qtbot: QtBot, qtmodeltester: ModelTester, context: AppContext
) -> None:
    library, template = context.collection().find("sentiment-few-shot")
    form = VariablesForm()
    qtbot.addWidget(form)
    form.show()
    form.set_template(library, template)
    examples = form.editors["examples"]
    assert isinstance(examples, ExamplesEditor)
    original = examples.examples()
    assert len(original) >= 3 and examples.set_combo.currentText() == "sentiment"
    qtmodeltester.check(examples.table.model())

    examples.table.selectRow(1)
    with qtbot.waitSignal(form.values_changed):
        qtbot.mouseClick(examples.up_button, Qt.MouseButton.LeftButton)
    moved = form.values()["examples"]
    assert moved[0] == original[1] and moved[1] == original[0]
    assert examples.set_combo.currentText() == "(edited)"

    qtbot.mouseClick(examples.add_button, Qt.MouseButton.LeftButton)
    row = examples.table.rowCount() - 1
    examples.table.item(row, 0).setText("Great value.")  # type: ignore[union-attr]
    examples.table.item(row, 1).setText("positive")  # type: ignore[union-attr]
    assert form.values()["examples"][-1] == {"input": "Great value.", "output": "positive"}

    examples.table.selectRow(0)
    qtbot.mouseClick(examples.remove_button, Qt.MouseButton.LeftButton)
    assert len(form.values()["examples"]) == len(original)

    assert form.values()["n_examples"] == 4
    number = form.editors["n_examples"]
    number.setFocus()
    QTest.keyClick(number, Qt.Key.Key_Up)
    assert form.values()["n_examples"] == 5


def test_a_dataset_row_fills_the_form_and_offers_its_references(
    qtbot: QtBot, context: AppContext
) -> None:
    library, template = context.collection().find(SUMMARY)
    form = VariablesForm()
    qtbot.addWidget(form)
    form.show()
    form.set_template(library, template)
    assert form.dataset_combo.count() > 1
    with qtbot.waitSignal(form.references_offered) as blocker:
        form.dataset_combo.activated.emit(2)
    row = next(d for d in library.datasets if d.task == "summarization").rows[1]
    assert form.values()["dialogue"] == row["dialogue"]
    assert blocker.args[0] == tuple(row["references"])


def test_the_highlighter_colours_tags_comments_and_the_header(qtbot: QtBot) -> None:
    editor = QPlainTextEdit()
    qtbot.addWidget(editor)
    highlighter = JinjaHighlighter(editor.document())
    editor.setPlainText('{#---\nname: x\n---#}\nHi {{ name | upper }} {% if "a" %}x{% endif %}'
                        " {# note\nstill note #} end")

    def colour_at(block: int, column: int) -> str:
        layout = editor.document().findBlockByNumber(block).layout()
        for fmt in layout.formats():
            if fmt.start <= column < fmt.start + fmt.length:
                return fmt.format.foreground().color().name()
        return ""

    body = editor.document().findBlockByNumber(3).text()
    assert colour_at(1, 0) == highlighter.header_key.foreground().color().name()
    assert colour_at(3, body.index("{{")) == highlighter.expression.foreground().color().name()
    assert colour_at(3, body.index("if")) == highlighter.keyword.foreground().color().name()
    assert colour_at(3, body.index('"a"')) == highlighter.string.foreground().color().name()
    assert colour_at(3, 0) == ""
    assert colour_at(4, 0) == highlighter.comment.foreground().color().name()
    assert colour_at(4, editor.document().findBlockByNumber(4).text().index("end")) == ""
