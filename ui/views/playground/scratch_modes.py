"""The Playground's centre column in three modes: a prompt typed straight in (scratch), a chat,
or a library template (the editor, variables and preview). The switch sits above them, with
"Save as template…" for what was typed.

Scratch prompts and chat turns run through the view's Run like a template does (the view asks
:meth:`ScratchModes.single_run` for what to run); a chat's answer streams into its transcript
as well as into the output. The rules of both live in :mod:`playground.runs.scratch`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from playground.comparison import ComparisonSpec
from playground.events import Token
from playground.prompts.collection import Collection, load_collection, save_library
from playground.prompts.library import Library
from playground.runs.opening import StoredRun
from playground.runs.runner import RunDone
from playground.runs.scratch import (
    Scratch,
    ScratchChat,
    ScratchPrompt,
    chat_run,
    prompt_run,
    scratch_of,
    stored_scratch,
)
from playground.runs.single_run import SingleRun
from playground.sampling import SamplingParams
from ui.context import AppContext
from ui.views.playground.chat_panel import ChatPanel
from ui.views.playground.run_session import RunSession
from ui.views.playground.save_template_dialog import SaveTemplateDialog
from ui.views.playground.scratch_panel import ScratchPanel

Mode = Literal["scratch", "chat", "template"]
MODES: tuple[Mode, ...] = ("scratch", "chat", "template")


def save_template_job(library: Library, folder: Path | None) -> Iterator[Collection]:
    save_library(library, folder)
    yield load_collection(folder)


class ScratchModes(QWidget):
    """The mode switch and the page of the mode chosen."""

    #: the mode shown changed (its name)
    mode_changed = Signal(str)
    #: Send in the chat, or a turn to run again: the view runs what :meth:`single_run` gives
    run_requested = Signal()
    #: something to tell the person (text, whether it is an error)
    status = Signal(str, bool)

    def __init__(self, context: AppContext, session: RunSession, template_page: QWidget,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.scratch_panel = ScratchPanel()
        self.chat_panel = ChatPanel()
        self.stack = QStackedWidget()
        for page in (self.scratch_panel, self.chat_panel, template_page):
            self.stack.addWidget(page)
        self.buttons: dict[Mode, QPushButton] = {}
        self._group = QButtonGroup(self)
        bar = QHBoxLayout()
        bar.setSpacing(0)
        tips = {"scratch": "Type a prompt and run it; no template needed",
                "chat": "Chat with the model: a system prompt and turns you can edit and re-run",
                "template": "The template chosen on the left, its variables and preview"}
        for mode in MODES:
            button = QPushButton(mode.capitalize())
            button.setCheckable(True)
            button.setToolTip(tips[mode])
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
            self._group.addButton(button)
            self.buttons[mode] = button
            bar.addWidget(button)
        bar.addStretch(1)
        self.save_button = QPushButton("Save as template…")
        self.save_button.setToolTip("Keep what you typed as a template in your library; its "
                                    "{{ names }} become variables")
        bar.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self.mode: Mode = "template"
        self.save_dialog: SaveTemplateDialog | None = None
        #: the chat to answer instead of what the panel holds (a turn run again)
        self._pending: ScratchChat | None = None
        #: whether the message box's text is what the next run sends
        self._sending = False
        #: a chat answer is streaming into the transcript
        self._answering = False
        self._shown = False

        self.chat_panel.send_requested.connect(self.run_requested)
        self.chat_panel.rerun_requested.connect(self._rerun)
        self.save_button.clicked.connect(self.save_as_template)
        session.token.connect(self._token)
        session.done.connect(self._done)
        session.ended.connect(lambda _run: self._end_answer(None))
        self.set_mode("scratch")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown:
            # The window opens with the typing in the prompt box (focus set before the
            # window is shown does not stay).
            self._shown = True
            QTimer.singleShot(0, lambda: self.set_mode(self.mode))

    @property
    def active(self) -> bool:
        """Whether a scratch prompt or chat is shown (not a template)."""
        return self.mode != "template"

    def set_mode(self, mode: Mode) -> None:
        self.stack.setCurrentIndex(MODES.index(mode))
        self.buttons[mode].setChecked(True)
        self.save_button.setVisible(mode != "template")
        changed = mode != self.mode
        self.mode = mode
        if mode == "scratch":
            self.scratch_panel.prompt.setFocus()
        elif mode == "chat":
            self.chat_panel.message.setFocus()
        if changed:
            self.mode_changed.emit(mode)

    # -- running ----------------------------------------------------------------------------

    def single_run(self, model: str, params: SamplingParams, alternatives: int | None,
                   references: Sequence[str]) -> SingleRun | None:
        """What Run runs in this mode; None for a template (the view builds that)."""
        if self.mode == "scratch":
            return prompt_run(self.scratch_panel.scratch(), model=model, params=params,
                              references=references, alternatives=alternatives)
        if self.mode != "chat":
            return None
        chat, self._pending = self._pending, None
        self._sending = False
        if chat is None:
            chat = self.chat_panel.chat()
            message = self.chat_panel.message.toPlainText()
            if message.strip():
                chat, self._sending = chat.sent(message), True
        return chat_run(chat, model=model, params=params, alternatives=alternatives)

    def run_started(self, spec: ComparisonSpec) -> None:
        """A run started: a chat shows the messages it sends and an answer to fill."""
        chat = scratch_of(spec.variants[0])
        if self.mode != "chat" or not isinstance(chat, ScratchChat):
            return
        if self._sending:
            self.chat_panel.message.clear()
            self._sending = False
        self.chat_panel.set_chat(chat)
        self.chat_panel.begin_answer()
        self._answering = True

    def _rerun(self, index: int) -> None:
        self._pending = self.chat_panel.chat().rerun_from(index)
        self.run_requested.emit()

    def _token(self, token: Token, _first: bool) -> None:
        if self._answering:
            self.chat_panel.append_answer(token.text)

    def _done(self, done: RunDone) -> None:
        if self._answering and done.result is not None:
            self._end_answer(done.result.text)

    def _end_answer(self, text: str | None) -> None:
        if self._answering:
            self._answering = False
            self.chat_panel.end_answer(text)

    # -- stored runs and templates -------------------------------------------------------------

    def show_stored(self, stored: StoredRun) -> bool:
        """Show a stored scratch prompt or chat to go on with; False for a template's run."""
        scratch = stored_scratch(stored)
        if scratch is None:
            return False
        self._end_answer(None)
        if isinstance(scratch, ScratchPrompt):
            self.scratch_panel.show_prompt(scratch)
            self.set_mode("scratch")
        else:
            self.chat_panel.set_chat(scratch)
            self.chat_panel.message.clear()
            self.set_mode("chat")
        return True

    def save_as_template(self) -> None:
        """Ask for a name and library, then save what was typed there."""
        scratch: Scratch = self.scratch_panel.scratch()
        if self.mode == "chat":
            # A message typed but not sent yet is the template's last turn.
            scratch = self.chat_panel.chat()
            message = self.chat_panel.message.toPlainText()
            if message.strip():
                scratch = scratch.sent(message)
        dialog = SaveTemplateDialog(scratch, self.context.collection(), self)
        dialog.accepted.connect(lambda: self._save(dialog))
        self.save_dialog = dialog
        dialog.open()

    def _save(self, dialog: SaveTemplateDialog) -> None:
        library, template = dialog.library, dialog.template
        if library is None or template is None:
            return
        done = f"Saved the template {template.id!r} in the library {library.name!r}."

        def saved(collection: Collection) -> None:
            self.context.update_collection(collection)
            self.status.emit(done, False)

        self.context.tasks.start(
            save_template_job, library, self.context.libraries_dir, on_event=saved,
            on_error=lambda message: self.status.emit(
                f"The template was not saved: {message}", True))
