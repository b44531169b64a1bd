"""The Library tab: browsing, editing user libraries, importing with a per-item report,
exporting byte for byte and for promptfoo."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QTableWidgetItem
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from playground.prompts.collection import (
    BUILTIN,
    install,
    library_path,
    load_collection,
    save_library,
)
from playground.prompts.formats import ItemReport
from playground.prompts.library import (
    ExampleSet,
    Library,
    Preset,
    export_library,
    load_builtin_library,
)
from playground.prompts.templates import parse_template
from ui.context import AppContext
from ui.views.library.import_report import ImportReportDialog, ImportReportModel
from ui.views.library.library_view import DEFAULT_LIBRARY, LibraryView, PromptfooDialog

WAIT_MS = 20000


def make_view(qtbot: QtBot, context: AppContext) -> LibraryView:
    widget = LibraryView(context)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def view(qtbot: QtBot, context: AppContext) -> Iterator[LibraryView]:
    widget = make_view(qtbot, context)
    yield widget
    if widget.report_dialog is not None:
        widget.report_dialog.close()


def select(qtbot: QtBot, view: LibraryView, library: str, kind: str = "library",
           name: str = "") -> None:
    item = view.item_for((library, kind, name))
    assert item is not None, f"{library}/{kind}/{name} is not in the tree"
    view.tree.scrollToItem(item)
    rect = view.tree.visualItemRect(item)
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_key() == (library, kind, name)


def installed(context: AppContext, name: str) -> Library:
    return context.collection().library(name)


def type_at_end(qtbot: QtBot, view: LibraryView, text: str) -> None:
    view.editor.setFocus()
    view.editor.moveCursor(view.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(view.editor, text)


def declining(questions: list[str]) -> Callable[[str], bool]:
    """An answer of "no" that remembers the question."""

    def answer(question: str) -> bool:
        questions.append(question)
        return False

    return answer


def user_library(name: str = "Mine") -> Library:
    return Library(name, "for tests", templates=(parse_template("Hello {{ who }}\n", "greet"),),
                   presets=(Preset("cold", {"temperature": 0}),))


# -- browsing -----------------------------------------------------------------------------------


def test_builtin_templates_are_listed_and_read_only(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    builtin = context.collection().library(BUILTIN)
    assert len(builtin.templates) >= 30
    for template in builtin.templates:
        item = view.item_for((BUILTIN, "template", template.id))
        assert item is not None, template.id
        assert template.meta.name in item.text(1)
    select(qtbot, view, BUILTIN, "template", "sentiment-zero-shot")
    shown = builtin.template("sentiment-zero-shot")
    assert shown is not None
    assert view.editor.toPlainText() == shown.source
    assert view.editor.isReadOnly()
    assert shown.meta.name in view.template_info.text()
    assert not view.rename_action.isEnabled() and not view.delete_action.isEnabled()
    assert view.duplicate_action.isEnabled()


def test_example_sets_presets_and_datasets_show_as_tables(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    builtin = context.collection().library(BUILTIN)
    select(qtbot, view, BUILTIN, "example_set", "sentiment")
    examples = builtin.example_set("sentiment")
    assert examples is not None
    assert view.table.rowCount() == len(examples.examples)
    assert view.table.item(0, 0).text() == examples.examples[0]["input"]
    select(qtbot, view, BUILTIN, "preset", "balanced")
    assert {(view.table.item(r, 0).text(), view.table.item(r, 1).text())
            for r in range(view.table.rowCount())} == {("temperature", "0.7"), ("top_p", "0.9")}
    select(qtbot, view, BUILTIN, "dataset", "sentiment")
    dataset = builtin.dataset("sentiment")
    assert dataset is not None
    assert view.table.rowCount() == len(dataset.rows)
    headers = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert headers[-1] == "references"
    assert view.table.item(0, headers.index("review")).text() == dataset.rows[0]["review"]


def test_the_filter_hides_what_does_not_match(qtbot: QtBot, view: LibraryView) -> None:
    qtbot.keyClicks(view.filter, "translation-per")
    visible = view.item_for((BUILTIN, "template", "translation-persona"))
    hidden = view.item_for((BUILTIN, "template", "qa-zero-shot"))
    assert visible is not None and hidden is not None
    assert not visible.isHidden() and hidden.isHidden()
    view.filter.clear()
    assert not hidden.isHidden()


def test_damaged_library_files_are_shown(qtbot: QtBot, context: AppContext) -> None:
    folder = library_path("x").parent
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text('{"schema": "prompt-playground/library", "version": 1,'
                                        ' "name": "B", "presets": [{"name": "p", "params": '
                                        '{"temperature": NaN}}]}')
    widget = make_view(qtbot, context)
    assert widget.problems.isVisible()
    assert "broken.json" in widget.problems.text()
    assert "NaN" in widget.problems.text()


# -- editing --------------------------------------------------------------------------------------


def test_duplicate_rename_edit_and_delete_a_builtin_template(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    original = context.collection().library(BUILTIN).template("sentiment-few-shot")
    assert original is not None
    select(qtbot, view, BUILTIN, "template", "sentiment-few-shot")
    with qtbot.waitSignals([view.refreshed, context.library_changed], timeout=WAIT_MS):
        qtbot.mouseClick(view.duplicate_button, Qt.MouseButton.LeftButton)
    mine = installed(context, DEFAULT_LIBRARY)
    copy = mine.template("sentiment-few-shot")
    assert copy is not None and copy.source == original.source
    # what it needs to render the same way came along
    assert mine.example_set("sentiment") is not None
    assert mine.template("_chat-examples") is not None
    path = library_path(DEFAULT_LIBRARY)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert "sentiment-few-shot" in [t["id"] for t in stored["templates"]]
    assert view.selected_key() == (DEFAULT_LIBRARY, "template", "sentiment-few-shot")
    assert not view.editor.isReadOnly()

    view.ask_name = lambda title, label, suggestion: "my-sentiment"
    with qtbot.waitSignals([view.refreshed, context.library_changed], timeout=WAIT_MS):
        qtbot.mouseClick(view.rename_button, Qt.MouseButton.LeftButton)
    mine = installed(context, DEFAULT_LIBRARY)
    assert mine.template("sentiment-few-shot") is None
    renamed = mine.template("my-sentiment")
    assert renamed is not None and renamed.source == original.source
    assert json.loads(path.read_text())["templates"][0]["id"] == "my-sentiment"

    type_at_end(qtbot, view, "Answer in one word.")
    assert view.save_button.isEnabled()
    with qtbot.waitSignals([view.refreshed, context.library_changed], timeout=WAIT_MS):
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    edited = installed(context, DEFAULT_LIBRARY).template("my-sentiment")
    assert edited is not None
    assert edited.source == original.source + "Answer in one word."
    on_disk = {t["id"]: t["source"] for t in json.loads(path.read_text())["templates"]}
    assert on_disk["my-sentiment"] == edited.source
    assert not view.save_button.isEnabled()

    questions: list[str] = []
    view.confirm = declining(questions)
    before = path.read_bytes()
    qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    assert "my-sentiment" in questions[0]
    assert installed(context, DEFAULT_LIBRARY).template("my-sentiment") is not None
    assert path.read_bytes() == before

    view.confirm = lambda question: True
    with qtbot.waitSignals([view.refreshed, context.library_changed], timeout=WAIT_MS):
        qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    assert installed(context, DEFAULT_LIBRARY).template("my-sentiment") is None
    assert "my-sentiment" not in path.read_text()
    assert view.item_for((DEFAULT_LIBRARY, "template", "my-sentiment")) is None


def test_an_edit_with_a_syntax_error_is_refused_and_nothing_is_written(
    qtbot: QtBot, context: AppContext
) -> None:
    path = save_library(user_library())
    before = path.read_bytes()
    view = make_view(qtbot, context)
    select(qtbot, view, "Mine", "template", "greet")
    changes: list[None] = []
    context.library_changed.connect(lambda: changes.append(None))
    type_at_end(qtbot, view, "{% if %}")
    with qtbot.waitSignal(view.failed) as failure:
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert "syntax error on line 2" in failure.args[0]
    assert "syntax error" in view.message.text()
    assert context.tasks.running == 0
    assert path.read_bytes() == before
    assert changes == []
    assert installed(context, "Mine").templates[0].source == "Hello {{ who }}\n"
    qtbot.mouseClick(view.revert_button, Qt.MouseButton.LeftButton)
    assert view.editor.toPlainText() == "Hello {{ who }}\n"


def test_new_library_new_items_and_unique_names(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    answers = iter(["Work", "draft", "draft", "warm"])
    view.ask_name = lambda title, label, suggestion: next(answers)
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        view.new_library_action.trigger()
    assert installed(context, "Work").templates == ()
    assert view.selected_key() == ("Work", "library", "")

    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        view.new_actions["template"].trigger()
    draft = installed(context, "Work").template("draft")
    assert draft is not None and [v.name for v in draft.meta.variables] == ["text"]

    path = library_path("Work")
    before = path.read_bytes()
    with qtbot.waitSignal(view.failed) as failure:
        view.new_actions["template"].trigger()
    assert failure.args[0] == "'Work' already has a template named 'draft'; choose another name"
    assert path.read_bytes() == before

    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        view.new_actions["preset"].trigger()
    assert view.selected_key() == ("Work", "preset", "warm")
    qtbot.mouseClick(view.add_row_button, Qt.MouseButton.LeftButton)
    view.table.setItem(0, 0, QTableWidgetItem("temperature"))
    view.table.setItem(0, 1, QTableWidgetItem("9"))
    with qtbot.waitSignal(view.failed) as failure:
        qtbot.mouseClick(view.table_save_button, Qt.MouseButton.LeftButton)
    assert "temperature" in failure.args[0]
    view.table.item(0, 1).setText("0.9")
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        qtbot.mouseClick(view.table_save_button, Qt.MouseButton.LeftButton)
    assert installed(context, "Work").preset("warm") == Preset("warm", {"temperature": 0.9})

    view.ask_name = lambda title, label, suggestion: "Work"
    with qtbot.waitSignal(view.failed) as failure:
        view.new_library_action.trigger()
    assert "already exists" in failure.args[0]


def test_deleting_a_user_library_removes_its_file(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    path = save_library(user_library())
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        context.library_changed.emit()  # installed elsewhere: the tree catches up
    select(qtbot, view, "Mine")
    view.confirm = lambda question: False
    view.delete_action.trigger()
    assert path.exists()
    view.confirm = lambda question: True
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        view.delete_action.trigger()
    assert not path.exists()
    assert [lib.name for lib in context.collection().libraries] == [BUILTIN]
    assert view.item_for(("Mine", "library", "")) is None


# -- import and export ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_export_builtin_then_import_it_under_a_new_name(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path, fmt: str
) -> None:
    builtin = load_builtin_library()
    select(qtbot, view, BUILTIN)
    target = tmp_path / "exported"
    with qtbot.waitSignal(view.exported, timeout=WAIT_MS) as done:
        view.export_library(str(target), fmt)
    written = Path(done.args[0])
    assert written.name == f"exported.{fmt}"
    assert written.read_bytes() == export_library(builtin, fmt).encode("utf-8")  # type: ignore[arg-type]

    asked: list[str] = []

    def ask_name(title: str, label: str, suggestion: str) -> str:
        asked.append(label)
        return f"Copy ({fmt})"

    view.ask_name = ask_name
    with qtbot.waitSignal(view.import_finished, timeout=WAIT_MS) as finished:
        view.import_file(str(written))
    assert finished.args == [True]
    assert "reserved" in asked[0] or "shipped" in asked[0]
    report = view.report_dialog
    assert report is not None and report.accepted_import
    rows = report.model.rows()
    items = (len(builtin.templates) + len(builtin.example_sets) + len(builtin.presets)
             + len(builtin.datasets))
    assert len(rows) == items + 1
    assert all(row.status == "ok" for row in rows)
    copy = installed(context, f"Copy ({fmt})")
    assert copy.templates == builtin.templates
    assert copy.datasets == builtin.datasets
    assert library_path(f"Copy ({fmt})").is_file()
    assert view.selected_key() == (f"Copy ({fmt})", "library", "")


def test_import_under_a_given_name(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path
) -> None:
    source = tmp_path / "mine.yaml"
    source.write_text(export_library(user_library(), "yaml"), encoding="utf-8")
    with qtbot.waitSignals([view.import_finished, context.library_changed], timeout=WAIT_MS):
        view.import_file(str(source), name="Renamed")
    assert installed(context, "Renamed").templates == user_library().templates
    assert [r.name for r in view.report_dialog.model.rows()] == ["Renamed", "greet", "cold"]  # type: ignore[union-attr]


BROKEN = {
    "duplicate-key.yaml": (
        "schema: prompt-playground/library\nversion: 1\nname: Dup\nname: Again\n",
        "duplicate key 'name'",
    ),
    "nan.json": (
        '{"schema": "prompt-playground/library", "version": 1, "name": "N", '
        '"presets": [{"name": "p", "params": {"temperature": NaN}}]}',
        "NaN and infinite numbers are not allowed",
    ),
    "bad-template.json": (
        json.dumps({
            "schema": "prompt-playground/library", "version": 1, "name": "Bad",
            "templates": [{"id": "fine", "source": "Hi {{ name }}"},
                          {"id": "broken", "source": "{% if %}"}],
            "presets": [{"name": "cold", "params": {"temperature": 0}}],
        }),
        "syntax error on line 1",
    ),
}


@pytest.mark.parametrize("filename", list(BROKEN))
def test_a_broken_file_is_refused_with_a_per_item_report(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path, filename: str
) -> None:
    text, expected = BROKEN[filename]
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    with qtbot.waitSignal(view.import_finished, timeout=WAIT_MS) as finished:
        view.import_file(str(path))
    assert finished.args == [False]
    report = view.report_dialog
    assert report is not None and not report.accepted_import
    rows = report.model.rows()
    errors = [row for row in rows if row.status == "error"]
    assert len(errors) == 1 and expected in errors[0].message
    if filename == "bad-template.json":
        assert [(r.kind, r.name, r.status) for r in rows] == [
            ("library", "Bad", "ok"), ("template", "fine", "ok"),
            ("template", "broken", "error"), ("preset", "cold", "ok"),
        ]
        assert report.only_errors.isEnabled()
        report.only_errors.setChecked(True)
        assert report.proxy.rowCount() == 1
    else:
        assert errors[0].name == filename
    assert "Nothing was imported" in report.summary.text() or "nothing was imported" in (
        report.summary.text()
    )
    assert expected in view.message.text() or "nothing was imported" in view.message.text()
    assert [lib.name for lib in context.collection().libraries] == [BUILTIN]
    assert not library_path("x").parent.exists() or not any(library_path("x").parent.iterdir())


def test_a_name_clash_asks_before_replacing(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path
) -> None:
    path = install(user_library("Shared"))
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        context.library_changed.emit()
    before = path.read_bytes()
    newer = Library("Shared", "newer", presets=(Preset("hot", {"temperature": 1.2}),))
    source = tmp_path / "shared.json"
    source.write_text(export_library(newer, "json"), encoding="utf-8")

    questions: list[str] = []
    view.ask_replace = declining(questions)
    with qtbot.waitSignal(view.import_finished, timeout=WAIT_MS) as finished:
        view.import_file(str(source))
    assert finished.args == [False]
    assert "'Shared' is already installed" in questions[0]
    assert path.read_bytes() == before
    assert "you kept the installed 'Shared'" in view.message.text()

    view.ask_replace = lambda question: True
    with qtbot.waitSignal(view.import_finished, timeout=WAIT_MS) as finished:
        view.import_file(str(source))
    assert finished.args == [True]
    assert installed(context, "Shared") == newer
    assert load_collection().library("Shared") == newer


def test_an_llm_template_is_converted_into_the_users_library(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path
) -> None:
    source = tmp_path / "summarize.yaml"
    source.write_text("model: gpt-4o\nsystem: Be brief.\nprompt: 'Summarize: $input'\n",
                      encoding="utf-8")
    with qtbot.waitSignal(view.import_finished, timeout=WAIT_MS) as finished:
        view.import_file(str(source))
    assert finished.args == [True]
    template = installed(context, DEFAULT_LIBRARY).template("summarize")
    assert template is not None and template.meta.format == "chat"
    rows = view.report_dialog.model.rows()  # type: ignore[union-attr]
    assert rows[0][:3] == ("template", "summarize", "ok")
    assert any("gpt-4o" in row.message for row in rows[1:])
    assert view.selected_key() == (DEFAULT_LIBRARY, "template", "summarize")


def test_promptfoo_export_writes_the_template(
    qtbot: QtBot, view: LibraryView, tmp_path: Path
) -> None:
    select(qtbot, view, BUILTIN, "template", "sentiment-zero-shot")
    with qtbot.waitSignal(view.exported, timeout=WAIT_MS) as done:
        view.export_promptfoo(str(tmp_path / "promptfooconfig"), "sentiment-zero-shot",
                              "sentiment")
    path = Path(done.args[0])
    assert path.name == "promptfooconfig.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [p["label"] for p in config["prompts"]] == ["sentiment-zero-shot"]
    assert "{{ review }}" in config["prompts"][0]["raw"]
    assert len(config["tests"]) == len(load_builtin_library().dataset("sentiment").rows)  # type: ignore[union-attr]


def test_promptfoo_export_of_a_user_template_on_a_builtin_dataset(
    qtbot: QtBot, view: LibraryView, tmp_path: Path
) -> None:
    save_library(Library("Mine", "", templates=(parse_template("Mood of: {{ review }}", "mood"),)))
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        view.context.library_changed.emit()
    select(qtbot, view, "Mine", "template", "mood")
    with qtbot.waitSignal(view.exported, timeout=WAIT_MS) as done:
        view.export_promptfoo(str(tmp_path / "pf.yaml"), "mood", f"{BUILTIN}/sentiment")
    config = yaml.safe_load(Path(done.args[0]).read_text(encoding="utf-8"))
    assert config["prompts"] == [{"label": "mood", "raw": "Mood of: {{ review }}"}]

    with qtbot.waitSignal(view.failed) as failure:
        view.export_promptfoo(str(tmp_path / "none.yaml"), "mood", "no-such-dataset")
    assert "no dataset 'no-such-dataset'" in failure.args[0]
    assert not (tmp_path / "none.yaml").exists()


def test_file_actions_for_the_window_menu(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path
) -> None:
    actions = view.file_actions()
    assert [a.text().replace("&", "") for a in actions] == [
        "Import Library…", "Export Library…", "Export for promptfoo…", "New Library…"
    ]
    assert actions[0].shortcut() == QKeySequence("Ctrl+I")
    assert actions[1].shortcut() == QKeySequence("Ctrl+E")

    source = tmp_path / "mine.json"
    source.write_text(export_library(user_library(), "json"), encoding="utf-8")
    view.choose_open_path = lambda: str(source)
    with qtbot.waitSignal(view.import_finished, timeout=WAIT_MS):
        actions[0].trigger()
    assert installed(context, "Mine") == user_library()

    view.choose_save_path = lambda caption, suggested, filters: (
        str(tmp_path / "out"), "YAML library (*.yaml *.yml)")
    with qtbot.waitSignal(view.exported, timeout=WAIT_MS) as done:
        actions[1].trigger()
    assert Path(done.args[0]).read_text(encoding="utf-8") == export_library(user_library(), "yaml")


# -- the report model -----------------------------------------------------------------------------


def test_report_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = ImportReportModel([
        ItemReport("library", "L", "ok", ""),
        ItemReport("template", "a", "error", "a: syntax error on line 1"),
        ItemReport("example_set", "e", "ok", "3 examples"),
    ])
    qtmodeltester.check(model)
    assert model.data(model.index(1, 2)) == "Error"
    assert model.data(model.index(2, 0)) == "Example set"
    assert model.error_count() == 1
    model.set_rows([])
    qtmodeltester.check(model)


def test_report_dialog_copies_the_report_as_text(qtbot: QtBot) -> None:
    dialog = ImportReportDialog(
        "Import", "Nothing was imported.",
        [ItemReport("template", "a", "error", "bad")], accepted=False,
    )
    qtbot.addWidget(dialog)
    assert "[error] template a: bad" in dialog.as_text()


def test_unsaved_edits_are_not_dropped_silently(qtbot: QtBot, context: AppContext) -> None:
    save_library(user_library())
    view = make_view(qtbot, context)
    select(qtbot, view, "Mine", "template", "greet")
    type_at_end(qtbot, view, "and goodbye")
    questions: list[str] = []
    view.confirm = declining(questions)
    item = view.item_for(("Mine", "preset", "cold"))
    assert item is not None
    view.tree.scrollToItem(item)
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.tree.visualItemRect(item).center())
    assert questions == ["Discard the unsaved changes to 'greet'?"]
    assert view.selected_key() == ("Mine", "template", "greet")
    assert view.editor.toPlainText().endswith("and goodbye")
    view.confirm = lambda question: True
    select(qtbot, view, "Mine", "preset", "cold")
    select(qtbot, view, "Mine", "template", "greet")
    assert view.editor.toPlainText() == "Hello {{ who }}\n"


def test_an_example_set_is_edited_as_a_table(qtbot: QtBot, context: AppContext) -> None:
    save_library(Library("Mine", "", example_sets=(
        ExampleSet("shots", "qa", ({"input": "2+2?", "output": "4"},)),)))
    view = make_view(qtbot, context)
    select(qtbot, view, "Mine", "example_set", "shots")
    qtbot.mouseClick(view.add_row_button, Qt.MouseButton.LeftButton)
    for column, text in enumerate(["Capital of France?", "Paris", "It is well known."]):
        view.table.setItem(1, column, QTableWidgetItem(text))
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        qtbot.mouseClick(view.table_save_button, Qt.MouseButton.LeftButton)
    assert installed(context, "Mine").example_sets == (ExampleSet("shots", "qa", (
        {"input": "2+2?", "output": "4"},
        {"input": "Capital of France?", "output": "Paris", "rationale": "It is well known."},
    )),)


def test_promptfoo_dialog_starts_from_the_selected_template(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    builtin = context.collection().library(BUILTIN)
    dialog = PromptfooDialog(builtin, context.collection(), (BUILTIN, "template", "qa-zero-shot"),
                             view)
    qtbot.addWidget(dialog)
    assert dialog.template_ids() == ["qa-zero-shot"]
    assert dialog.dataset() == "qa"
    assert not any(i.startswith("_") for i in (
        dialog.templates.item(n).data(Qt.ItemDataRole.UserRole)
        for n in range(dialog.templates.count())))
