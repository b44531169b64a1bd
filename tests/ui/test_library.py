"""The Library tab: browsing, editing user libraries, importing with a per-item report,
exporting byte for byte and for promptfoo; driven as a person does, with clicks and keys.

File and name dialogs are the platform's own; the tests answer them through the view's
``questions`` (the one place the tab asks anything)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QLineEdit,
    QTableWidget,
    QWidget,
)
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from playground.prompts.collection import (
    BUILTIN,
    DEFAULT_LIBRARY,
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
from playground.prompts.template_fields import join_template, split_template
from playground.prompts.templates import parse_template
from tests.ui.actions import type_over
from ui.context import AppContext
from ui.views.library.import_report import ImportReportDialog, ImportReportModel
from ui.views.library.library_view import LibraryView
from ui.views.library.promptfoo_dialog import PromptfooDialog

WAIT_MS = 20000
LEFT = Qt.MouseButton.LeftButton


def make_view(qtbot: QtBot, context: AppContext) -> LibraryView:
    widget = LibraryView(context)
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    widget.show()
    qtbot.waitExposed(widget)
    with qtbot.waitActive(widget):  # keys go where a click put the focus, as on a desktop
        widget.activateWindow()
    return widget


@pytest.fixture
def view(qtbot: QtBot, context: AppContext) -> Iterator[LibraryView]:
    widget = make_view(qtbot, context)
    yield widget
    if widget.transfers.report_dialog is not None:
        widget.transfers.report_dialog.close()


def click(qtbot: QtBot, widget: QWidget) -> None:
    assert widget.isVisible() and widget.isEnabled(), widget
    qtbot.mouseClick(widget, LEFT)


def press(
    qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    """A key pressed on the keyboard: it goes to whatever has the focus."""
    focused = QApplication.focusWidget()
    assert focused is not None
    qtbot.keyClick(focused, key, modifier)


def select(qtbot: QtBot, view: LibraryView, library: str, kind: str = "library",
           name: str = "") -> None:
    tree = view.browser.tree
    item = view.item_for((library, kind, name))
    assert item is not None, f"{library}/{kind}/{name} is not in the tree"
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), LEFT, pos=tree.visualItemRect(item).center())
    assert view.selected_key() == (library, kind, name)


def choose_new(qtbot: QtBot, view: LibraryView, action: QAction) -> None:
    """Open the New menu and click one of its entries."""
    menu = view.new_menu

    def pick() -> None:
        if not menu.isVisible():
            QTimer.singleShot(10, pick)
            return
        qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())

    QTimer.singleShot(0, pick)
    click(qtbot, view.new_button)  # the menu runs its own loop until an entry is chosen


def edit_cell(qtbot: QtBot, table: QTableWidget, row: int, column: int, text: str) -> None:
    """Click a cell (twice when that does not open its editor), replace what it holds by
    typing, and press Enter."""
    index = table.model().index(row, column)
    table.scrollTo(index)
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualRect(index).center())

    def editors() -> list[QLineEdit]:
        return [e for e in table.findChildren(QLineEdit) if e.isVisible()]

    if not editors():  # the cell was current already: a double click opens its editor
        qtbot.mouseDClick(table.viewport(), LEFT, pos=table.visualRect(index).center())
    assert table.currentIndex() == index and len(editors()) == 1
    editor = editors()[0]
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: (cell := table.item(row, column)) is not None and cell.text() == text)


def installed(context: AppContext, name: str) -> Library:
    return context.collection().library(name)


def type_at_end(qtbot: QtBot, view: LibraryView, text: str) -> None:
    editor = view.item.editor
    qtbot.mouseClick(editor.viewport(), LEFT)
    qtbot.keyClick(editor, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, text)


def declining(questions: list[str]) -> Callable[[str], bool]:
    """An answer of "no" that remembers the question."""

    def answer(question: str) -> bool:
        questions.append(question)
        return False

    return answer


def saving_to(path: Path, chosen: str = "") -> Callable[[str, str, str], tuple[str, str]]:
    """A save dialog answered with ``path`` and the filter ``chosen``."""
    return lambda caption, suggested, filters: (str(path), chosen)


def import_by_button(qtbot: QtBot, view: LibraryView, path: Path) -> list[bool]:
    """Import a file through the Import button; the outcome of the import."""
    view.questions.choose_open_path = lambda: str(path)
    with qtbot.waitSignal(view.import_finished, timeout=WAIT_MS) as finished:
        click(qtbot, view.import_button)
    return list(finished.args or [])


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
    # The body alone in the editor; the header's keys in the form beside it.
    assert view.item.editor.toPlainText() == shown.body
    assert not view.item.editor.toPlainText().startswith("{#---")
    assert view.item.editor.isReadOnly()
    form = view.item.form
    assert form.name_edit.text() == shown.meta.name and form.name_edit.isReadOnly()
    assert form.task_edit.text() == "sentiment"
    assert form.variables.item(0, 0).text() == "review"
    assert not form.add_variable_button.isVisible()
    assert not view.rename_button.isEnabled() and not view.delete_button.isEnabled()
    assert view.duplicate_button.isEnabled()
    assert not view.item.save_button.isVisible()


def test_example_sets_presets_and_datasets_show_as_tables(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    builtin = context.collection().library(BUILTIN)
    table = view.item.table
    select(qtbot, view, BUILTIN, "example_set", "sentiment")
    examples = builtin.example_set("sentiment")
    assert examples is not None
    assert table.rowCount() == len(examples.examples)
    assert table.item(0, 0).text() == examples.examples[0]["input"]
    assert not view.item.add_row_button.isVisible()  # read-only
    select(qtbot, view, BUILTIN, "preset", "balanced")
    assert {(table.item(r, 0).text(), table.item(r, 1).text())
            for r in range(table.rowCount())} == {("temperature", "0.7"), ("top_p", "0.9")}
    select(qtbot, view, BUILTIN, "dataset", "sentiment")
    dataset = builtin.dataset("sentiment")
    assert dataset is not None
    assert table.rowCount() == len(dataset.rows)
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers[-1] == "references"
    assert table.item(0, headers.index("review")).text() == dataset.rows[0]["review"]


def test_the_filter_hides_what_does_not_match(qtbot: QtBot, view: LibraryView) -> None:
    field = view.browser.filter
    qtbot.keyClicks(field, "translation-per")
    visible = view.item_for((BUILTIN, "template", "translation-persona"))
    hidden = view.item_for((BUILTIN, "template", "qa-zero-shot"))
    assert visible is not None and hidden is not None
    assert not visible.isHidden() and hidden.isHidden()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(field, Qt.Key.Key_Backspace)
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
        click(qtbot, view.duplicate_button)
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
    assert not view.item.editor.isReadOnly()

    view.questions.ask_name = lambda title, label, suggestion: "my-sentiment"
    with qtbot.waitSignals([view.refreshed, context.library_changed], timeout=WAIT_MS):
        click(qtbot, view.rename_button)
    mine = installed(context, DEFAULT_LIBRARY)
    assert mine.template("sentiment-few-shot") is None
    renamed = mine.template("my-sentiment")
    assert renamed is not None and renamed.source == original.source
    assert json.loads(path.read_text())["templates"][0]["id"] == "my-sentiment"

    type_at_end(qtbot, view, "Answer in one word.")
    assert view.item.save_button.isEnabled()
    with qtbot.waitSignals([view.refreshed, context.library_changed], timeout=WAIT_MS):
        click(qtbot, view.item.save_button)
    edited = installed(context, DEFAULT_LIBRARY).template("my-sentiment")
    assert edited is not None
    assert edited.source == original.source + "Answer in one word."
    on_disk = {t["id"]: t["source"] for t in json.loads(path.read_text())["templates"]}
    assert on_disk["my-sentiment"] == edited.source
    assert not view.item.save_button.isEnabled()

    questions: list[str] = []
    view.questions.confirm = declining(questions)
    before = path.read_bytes()
    click(qtbot, view.delete_button)
    assert "my-sentiment" in questions[0]
    assert installed(context, DEFAULT_LIBRARY).template("my-sentiment") is not None
    assert path.read_bytes() == before

    view.questions.confirm = lambda question: True
    with qtbot.waitSignals([view.refreshed, context.library_changed], timeout=WAIT_MS):
        click(qtbot, view.delete_button)
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
        click(qtbot, view.item.save_button)
    assert "syntax error on line 2" in failure.args[0]
    assert "syntax error" in view.message.text()
    assert context.tasks.running == 0
    assert path.read_bytes() == before
    assert changes == []
    assert installed(context, "Mine").templates[0].source == "Hello {{ who }}\n"
    click(qtbot, view.item.revert_button)
    assert view.item.editor.toPlainText() == "Hello {{ who }}\n"
    assert not view.item.revert_button.isEnabled()


def test_new_library_new_items_and_unique_names(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    answers = iter(["Work", "draft", "draft", "warm"])
    view.questions.ask_name = lambda title, label, suggestion: next(answers)
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        choose_new(qtbot, view, view.new_library_action)
    assert installed(context, "Work").templates == ()
    assert view.selected_key() == ("Work", "library", "")

    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        choose_new(qtbot, view, view.new_actions["template"])
    draft = installed(context, "Work").template("draft")
    assert draft is not None and [v.name for v in draft.meta.variables] == ["text"]

    path = library_path("Work")
    before = path.read_bytes()
    with qtbot.waitSignal(view.failed) as failure:
        choose_new(qtbot, view, view.new_actions["template"])
    assert failure.args[0] == "'Work' already has a template named 'draft'; choose another name"
    assert path.read_bytes() == before

    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        choose_new(qtbot, view, view.new_actions["preset"])
    assert view.selected_key() == ("Work", "preset", "warm")
    table = view.item.table
    click(qtbot, view.item.add_row_button)
    edit_cell(qtbot, table, 0, 0, "temperature")
    edit_cell(qtbot, table, 0, 1, "9")
    with qtbot.waitSignal(view.failed) as failure:
        click(qtbot, view.item.table_save_button)
    assert "temperature" in failure.args[0]
    edit_cell(qtbot, table, 0, 1, "0.9")
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        click(qtbot, view.item.table_save_button)
    assert installed(context, "Work").preset("warm") == Preset("warm", {"temperature": 0.9})

    view.questions.ask_name = lambda title, label, suggestion: "Work"
    with qtbot.waitSignal(view.failed, timeout=WAIT_MS) as failure:
        choose_new(qtbot, view, view.new_library_action)
    assert "a library named 'Work' is already installed" in failure.args[0]
    view.questions.ask_name = lambda title, label, suggestion: "built-in"
    with qtbot.waitSignal(view.failed, timeout=WAIT_MS) as failure:
        choose_new(qtbot, view, view.new_library_action)
    assert "reserved for the built-in library" in failure.args[0]


def test_keys_act_where_the_focus_is(qtbot: QtBot, context: AppContext) -> None:
    """F2 renames in the tree but edits a cell in a table; Ctrl+S saves the table."""
    path = save_library(user_library())
    view = make_view(qtbot, context)
    asked: list[str] = []

    def ask_name(title: str, label: str, suggestion: str) -> None:
        asked.append(label)

    view.questions.ask_name = ask_name
    select(qtbot, view, "Mine", "preset", "cold")
    qtbot.keyClick(view.browser.tree, Qt.Key.Key_F2)
    assert asked == ["New name for the preset 'cold':"]

    table = view.item.table
    index = table.model().index(0, 1)
    qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualRect(index).center())
    press(qtbot, Qt.Key.Key_Escape)  # the click opened the cell's editor; leave it
    qtbot.waitUntil(lambda: not [e for e in table.findChildren(QLineEdit) if e.isVisible()])
    assert QApplication.focusWidget() is table
    press(qtbot, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.parent() is table.viewport()
    assert len(asked) == 1  # not a rename
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, "0.5")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.item(0, 1).text() == "0.5")
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert installed(context, "Mine").preset("cold") == Preset("cold", {"temperature": 0.5})
    assert json.loads(path.read_text())["presets"] == [
        {"name": "cold", "params": {"temperature": 0.5}}]


def test_deleting_a_user_library_removes_its_file(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    path = save_library(user_library())
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        context.library_changed.emit()  # installed elsewhere: the tree catches up
    select(qtbot, view, "Mine")
    view.questions.confirm = lambda question: False
    click(qtbot, view.delete_button)
    assert path.exists()
    view.questions.confirm = lambda question: True
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        click(qtbot, view.delete_button)
    assert not path.exists()
    assert [lib.name for lib in context.collection().libraries] == [BUILTIN]
    assert view.item_for(("Mine", "library", "")) is None


# -- import and export ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "chosen"), [("json", "JSON library (*.json)"),
                                             ("yaml", "YAML library (*.yaml *.yml)")])
def test_export_builtin_then_import_it_under_a_new_name(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path, fmt: str, chosen: str
) -> None:
    builtin = load_builtin_library()
    select(qtbot, view, BUILTIN)
    view.questions.choose_save_path = saving_to(tmp_path / "exported", chosen)
    with qtbot.waitSignal(view.exported, timeout=WAIT_MS) as done:
        click(qtbot, view.export_button)
    written = Path(done.args[0])
    assert written.name == f"exported.{fmt}"
    assert written.read_bytes() == export_library(builtin, fmt).encode("utf-8")  # type: ignore[arg-type]

    asked: list[str] = []

    def ask_name(title: str, label: str, suggestion: str) -> str:
        asked.append(label)
        return f"Copy ({fmt})"

    view.questions.ask_name = ask_name
    assert import_by_button(qtbot, view, written) == [True]
    assert "reserved" in asked[0] or "shipped" in asked[0]
    report = view.transfers.report_dialog
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


def test_an_export_named_for_the_other_format_is_refused(
    qtbot: QtBot, view: LibraryView, tmp_path: Path
) -> None:
    select(qtbot, view, BUILTIN)
    view.questions.choose_save_path = saving_to(tmp_path / "lib.json", "YAML library (*.yaml)")
    with qtbot.waitSignal(view.failed) as failure:
        click(qtbot, view.export_button)
    assert "lib.json ends in .json but YAML was chosen" in failure.args[0]
    assert "lib.json ends in .json" in view.message.text()
    assert not list(tmp_path.glob("lib.*"))


def test_a_library_named_like_the_builtin_one_is_imported_under_the_name_given(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path
) -> None:
    source = tmp_path / "mine.yaml"
    source.write_text(export_library(user_library("BUILT-IN"), "yaml"), encoding="utf-8")
    view.questions.ask_name = lambda title, label, suggestion: "Renamed"
    assert import_by_button(qtbot, view, source) == [True]
    assert installed(context, "Renamed").templates == user_library().templates
    report = view.transfers.report_dialog
    assert report is not None
    assert [r.name for r in report.model.rows()] == ["Renamed", "greet", "cold"]


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
    assert import_by_button(qtbot, view, path) == [False]
    report = view.transfers.report_dialog
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
        box = report.only_errors  # a click on its box, at the left end of a wide row
        qtbot.mouseClick(box, LEFT, pos=QPoint(8, box.height() // 2))
        assert box.isChecked()
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
    view.questions.ask_replace = declining(questions)
    assert import_by_button(qtbot, view, source) == [False]
    assert "'Shared' is already installed" in questions[0]
    assert path.read_bytes() == before
    assert "you kept the installed 'Shared'" in view.message.text()

    view.questions.ask_replace = lambda question: True
    assert import_by_button(qtbot, view, source) == [True]
    assert installed(context, "Shared") == newer
    assert load_collection().library("Shared") == newer


def test_an_llm_template_is_converted_into_the_users_library(
    qtbot: QtBot, view: LibraryView, context: AppContext, tmp_path: Path
) -> None:
    source = tmp_path / "summarize.yaml"
    source.write_text("model: gpt-4o\nsystem: Be brief.\nprompt: 'Summarize: $input'\n",
                      encoding="utf-8")
    assert import_by_button(qtbot, view, source) == [True]
    template = installed(context, DEFAULT_LIBRARY).template("summarize")
    assert template is not None and template.meta.format == "chat"
    report = view.transfers.report_dialog
    assert report is not None
    rows = report.model.rows()
    assert rows[0][:3] == ("template", "summarize", "ok")
    assert any("gpt-4o" in row.message for row in rows[1:])
    assert view.selected_key() == (DEFAULT_LIBRARY, "template", "summarize")


def open_promptfoo(qtbot: QtBot, view: LibraryView) -> PromptfooDialog:
    click(qtbot, view.promptfoo_button)
    dialog = view.transfers.promptfoo_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def test_promptfoo_export_writes_the_template(
    qtbot: QtBot, view: LibraryView, tmp_path: Path
) -> None:
    select(qtbot, view, BUILTIN, "template", "sentiment-zero-shot")
    dialog = open_promptfoo(qtbot, view)
    assert dialog.template_ids() == ["sentiment-zero-shot"]
    assert dialog.dataset() == "sentiment"
    view.questions.choose_save_path = saving_to(tmp_path / "promptfooconfig")
    with qtbot.waitSignal(view.exported, timeout=WAIT_MS) as done:
        click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok))
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
    dialog = open_promptfoo(qtbot, view)
    qtbot.keyClicks(dialog.datasets, f"{BUILTIN}/sentiment")
    assert dialog.dataset() == f"{BUILTIN}/sentiment"
    view.questions.choose_save_path = saving_to(tmp_path / "pf.yaml")
    with qtbot.waitSignal(view.exported, timeout=WAIT_MS) as done:
        click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok))
    config = yaml.safe_load(Path(done.args[0]).read_text(encoding="utf-8"))
    assert config["prompts"] == [{"label": "mood", "raw": "Mood of: {{ review }}"}]
    assert config["tests"][0]["vars"]["review"] == load_builtin_library().dataset(  # type: ignore[union-attr]
        "sentiment").rows[0]["review"]


def test_promptfoo_export_without_a_template_writes_nothing(
    qtbot: QtBot, view: LibraryView, tmp_path: Path
) -> None:
    select(qtbot, view, BUILTIN, "template", "qa-zero-shot")
    dialog = open_promptfoo(qtbot, view)
    item = next(dialog.templates.item(i) for i in range(dialog.templates.count())
                if dialog.templates.item(i).data(Qt.ItemDataRole.UserRole) == "qa-zero-shot")
    dialog.templates.scrollToItem(item)
    rect = dialog.templates.visualItemRect(item)
    qtbot.mouseClick(dialog.templates.viewport(), LEFT, pos=rect.center())
    qtbot.keyClick(dialog.templates, Qt.Key.Key_Space)  # unticks it
    assert dialog.template_ids() == []
    view.questions.choose_save_path = saving_to(tmp_path / "none.yaml")
    with qtbot.waitSignal(view.failed) as failure:
        click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert failure.args[0] == "Choose at least one template for promptfoo."
    assert not (tmp_path / "none.yaml").exists()


def test_promptfoo_dialog_starts_from_the_selected_template(
    qtbot: QtBot, view: LibraryView
) -> None:
    select(qtbot, view, BUILTIN, "template", "qa-zero-shot")
    dialog = open_promptfoo(qtbot, view)
    assert dialog.template_ids() == ["qa-zero-shot"]
    assert dialog.dataset() == "qa"
    assert not any(i.startswith("_") for i in (
        dialog.templates.item(n).data(Qt.ItemDataRole.UserRole)
        for n in range(dialog.templates.count())))
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel))
    assert view.transfers.promptfoo_dialog is None


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
    view.questions.choose_open_path = lambda: str(source)
    with qtbot.waitSignal(view.import_finished, timeout=WAIT_MS):
        actions[0].trigger()  # what the File menu entry does
    assert installed(context, "Mine") == user_library()

    view.questions.choose_save_path = saving_to(tmp_path / "out", "YAML library (*.yaml *.yml)")
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
    view.questions.confirm = declining(questions)
    tree = view.browser.tree
    item = view.item_for(("Mine", "preset", "cold"))
    assert item is not None
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), LEFT, pos=tree.visualItemRect(item).center())
    assert questions == ["Discard the unsaved changes to 'greet'?"]
    assert view.selected_key() == ("Mine", "template", "greet")
    assert view.item.editor.toPlainText().endswith("and goodbye")
    view.questions.confirm = lambda question: True
    select(qtbot, view, "Mine", "preset", "cold")
    select(qtbot, view, "Mine", "template", "greet")
    assert view.item.editor.toPlainText() == "Hello {{ who }}\n"


def test_an_example_set_is_edited_as_a_table(qtbot: QtBot, context: AppContext) -> None:
    save_library(Library("Mine", "", example_sets=(
        ExampleSet("shots", "qa", ({"input": "2+2?", "output": "4"},)),)))
    view = make_view(qtbot, context)
    select(qtbot, view, "Mine", "example_set", "shots")
    click(qtbot, view.item.add_row_button)
    for column, text in enumerate(["Capital of France?", "Paris", "It is well known."]):
        edit_cell(qtbot, view.item.table, 1, column, text)
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        click(qtbot, view.item.table_save_button)
    assert installed(context, "Mine").example_sets == (ExampleSet("shots", "qa", (
        {"input": "2+2?", "output": "4"},
        {"input": "Capital of France?", "output": "Paris", "rationale": "It is well known."},
    )),)


# -- the template form ------------------------------------------------------------------------

GREETER = (
    "{#---\n"
    "name: Greeter   # what the list shows\n"
    "format: text\n"
    "variables:\n"
    "  who: {type: text, help: Whom to greet}\n"
    "---#}\n"
    "Hello {{ who }}\n"
)


def stored_source(context: AppContext, library: str, template_id: str) -> str:
    """The template's source as the library file on disk holds it."""
    stored = json.loads(library_path(library).read_text(encoding="utf-8"))
    return str(next(t["source"] for t in stored["templates"] if t["id"] == template_id))


def test_template_metadata_is_edited_in_the_form_beside_the_body(
    qtbot: QtBot, context: AppContext
) -> None:
    save_library(Library("Mine", "", templates=(parse_template(GREETER, "greet"),)))
    view = make_view(qtbot, context)
    select(qtbot, view, "Mine", "template", "greet")
    form = view.item.form
    assert view.item.editor.toPlainText() == "Hello {{ who }}\n"
    assert form.name_edit.text() == "Greeter"
    assert form.variables.item(0, 3).text() == "Whom to greet"
    assert not view.item.save_button.isEnabled()  # nothing changed yet

    type_over(qtbot, form.name_edit, "Friendly greeter")
    type_over(qtbot, form.task_edit, "greeting")
    type_over(qtbot, form.params_edit, "temperature: 0.2, max_tokens: 32")
    click(qtbot, form.add_variable_button)
    edit_cell(qtbot, form.variables, 1, 0, "times")
    edit_cell(qtbot, form.variables, 1, 2, "2")
    edit_cell(qtbot, form.variables, 1, 3, "How often")
    type_box = form.variables.cellWidget(1, 1)
    assert isinstance(type_box, QComboBox)
    click(qtbot, type_box)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)  # text -> number
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert type_box.currentText() == "number"
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        click(qtbot, view.item.save_button)

    source = stored_source(context, "Mine", "greet")
    assert source.startswith("{#---\n") and source.endswith("---#}\nHello {{ who }}\n")
    saved = parse_template(source, "greet")
    assert saved.body == "Hello {{ who }}\n"
    assert (saved.meta.name, saved.meta.task) == ("Friendly greeter", "greeting")
    assert dict(saved.meta.params) == {"temperature": 0.2, "max_tokens": 32}
    times = saved.variable("times")
    assert times is not None and (times.type, times.default, times.help) == (
        "number", 2, "How often")
    # Shown again as saved, with nothing left to save.
    assert form.name_edit.text() == "Friendly greeter"
    assert not view.item.save_button.isEnabled()


def test_editing_only_the_body_keeps_the_header_byte_for_byte(
    qtbot: QtBot, context: AppContext
) -> None:
    save_library(Library("Mine", "", templates=(parse_template(GREETER, "greet"),)))
    view = make_view(qtbot, context)
    select(qtbot, view, "Mine", "template", "greet")
    type_at_end(qtbot, view, "Goodbye.")
    with qtbot.waitSignal(view.refreshed, timeout=WAIT_MS):
        click(qtbot, view.item.save_button)
    assert stored_source(context, "Mine", "greet") == GREETER + "Goodbye."  # the comment too


def test_a_bad_field_is_named_beside_it_and_nothing_is_written(
    qtbot: QtBot, context: AppContext
) -> None:
    path = save_library(Library("Mine", "", templates=(parse_template(GREETER, "greet"),)))
    before = path.read_bytes()
    view = make_view(qtbot, context)
    select(qtbot, view, "Mine", "template", "greet")
    form = view.item.form
    type_over(qtbot, form.name_edit, "Renamed")
    type_over(qtbot, form.params_edit, "temperature: hot")
    with qtbot.waitSignal(view.failed):
        click(qtbot, view.item.save_button)
    assert form.errors["params"].isVisible()
    assert "temperature" in form.errors["params"].text()
    assert not form.errors["name"].isVisible()
    assert path.read_bytes() == before

    type_over(qtbot, form.params_edit, "")
    edit_cell(qtbot, form.variables, 0, 0, "two words")
    with qtbot.waitSignal(view.failed):
        click(qtbot, view.item.save_button)
    assert not form.errors["params"].isVisible()
    assert form.errors["variables"].isVisible()
    assert "variable 1" in form.errors["variables"].text()
    assert path.read_bytes() == before


def test_every_builtin_template_fills_the_form_and_body_without_loss(
    qtbot: QtBot, view: LibraryView, context: AppContext
) -> None:
    """What the form and editor hold after opening a template writes back the same bytes."""
    for template in context.collection().library(BUILTIN).templates:
        select(qtbot, view, BUILTIN, "template", template.id)
        parts = split_template(template.source, template.id)
        assert view.item.editor.toPlainText() == parts.body, template.id
        assert view.item.form.fields() == parts.fields, template.id
        assert join_template(parts, view.item.form.fields(), view.item.editor.toPlainText(),
                             template.id) == template.source


def test_the_template_page_fits_a_laptop_screen(qtbot: QtBot, context: AppContext) -> None:
    save_library(Library("Mine", "", templates=(parse_template(GREETER, "greet"),)))
    view = make_view(qtbot, context)
    select(qtbot, view, "Mine", "template", "greet")
    item = view.item
    for widget in (item.form.name_edit, item.form.params_edit, item.form.variables,
                   item.editor, item.save_button):
        assert widget.isVisible() and widget.visibleRegion().boundingRect().height() >= 16
    assert item.editor.width() >= 360 and item.editor.height() >= 300
    assert item.form.variables.height() >= 90
