"""What a run wrote, as it streams: the output, its tokens coloured by probability, its scores
and a status line saying how it went."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from playground.events import Result, Token
from playground.runs.opening import StoredRun
from playground.runs.runner import RunDone
from playground.runs.summaries import describe_result, describe_scores, describe_stored_run
from ui.widgets.palette import ERROR_STYLE
from ui.widgets.references import confidence_flag
from ui.widgets.token_view import TokenView

#: The previous output while a Live run waits for its first token.
STALE_STYLE = "QPlainTextEdit { color: palette(mid); }"


class OutputPanel(QWidget):
    """The output, the token view (shown when asked for), the scores and the status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stale = False
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("The model's output appears here as it is generated.")
        self.token_view = TokenView()
        self.token_view.hide()
        self.scores_label = QLabel()
        self.scores_label.setWordWrap(True)
        self.scores_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel("Ready.")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        #: the "Output" title, with room at its right for the view's switches
        self.title_row = QHBoxLayout()
        self.title_row.addWidget(QLabel("<b>Output</b>"))
        self.title_row.addStretch(1)
        layout.addLayout(self.title_row)
        layout.addWidget(self.output, 2)
        layout.addWidget(self.token_view, 2)
        layout.addWidget(self.scores_label)
        layout.addWidget(self.status_label)

    def set_status(self, text: str, *, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")

    def start(self, *, keep_previous: bool = False) -> None:
        """Ready for a run about to stream. With ``keep_previous`` (Live) the last output stays,
        greyed, until the new run's first token replaces it: the box never goes blank while a
        run waits for the model."""
        self.scores_label.clear()
        self.scores_label.setToolTip("")
        if keep_previous and self.output.toPlainText():
            self._stale = True
            self.output.setStyleSheet(STALE_STYLE)
            self.set_status("Running again… the previous output is shown until the new one "
                            "streams.")
            return
        self._clear_output()
        self.set_status("Waiting for the model…")

    def settle(self) -> bool:
        """A run ended before its first token: the greyed previous output is shown as it is.
        Whether there was one."""
        if not self._stale:
            return False
        self._stale = False
        self.output.setStyleSheet("")
        return True

    @property
    def stale(self) -> bool:
        """Whether the output shown is the previous run's, waiting to be replaced."""
        return self._stale

    def _clear_output(self) -> None:
        self._stale = False
        self.output.setStyleSheet("")
        self.output.clear()
        self.token_view.clear()

    def append(self, token: Token, *, first: bool, alternatives: bool) -> None:
        """A streamed token at the end, and in the token view when ``alternatives``."""
        if first:
            if self._stale:
                self._clear_output()
            self.set_status("Generating…")
        cursor = QTextCursor(self.output.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(token.text)
        bar = self.output.verticalScrollBar()
        bar.setValue(bar.maximum())
        if token.logprob is not None and alternatives:
            self.token_view.append(token.logprob)

    def show_done(self, done: RunDone, confidence_threshold: float,
                  label: str | None = None) -> None:
        """A finished run: its whole text and tokens, how it went, and its scores."""
        result = done.result
        if self._stale:
            self._clear_output()
        if result is not None:
            # What streamed is normally the result already; redrawing 300 tokens would only
            # cost the window a pause at the end of every run.
            if self.output.toPlainText() != result.text:
                self.output.setPlainText(result.text)
            if result.logprobs and not self.token_view.shows(result.logprobs):
                self.token_view.set_tokens(result.logprobs)
        if done.status == "failed":
            message = done.error or (result.error if result else None) or "the run failed"
            self.set_status(f"Failed: {message}", error=True)
        elif result is not None:
            saved = (f" · saved as {label}" if label and done.run_id is not None
                     else " · saved" if done.run_id is not None else "")
            mean = next((s.value for s in done.scores if s.metric == "mean_logprob"), None)
            flag = confidence_flag(mean, confidence_threshold)
            confidence = flag or ("" if mean is None else f"mean log-prob {mean:.2f}")
            self.set_status(describe_result(result, done.planned.seed)
                            + (f" · {confidence}" if confidence else "") + saved)
        if done.scores:
            summary, details = describe_scores(done.scores)
            self.scores_label.setText(f"Scores: {summary}")
            self.scores_label.setToolTip(details)
        elif done.planned.input.references:
            self.scores_label.setText("No scores (the output is empty or the run failed).")
        else:
            self.scores_label.setText("Type a reference below to score the output.")

    def show_stored(self, stored: StoredRun) -> None:
        """A reopened run as it was saved."""
        self._clear_output()
        self.output.setPlainText(stored.run.output or "")
        if stored.run.logprobs:
            self.token_view.set_tokens(stored.run.logprobs)
        summary, details = describe_scores(stored.run.scores)
        self.scores_label.setText(f"Scores: {summary}" if summary else "")
        self.scores_label.setToolTip(details)
        self.set_status(describe_stored_run(stored), error=stored.run.status == "failed")

    def show_tokens(self, on: bool, last: Result | None) -> None:
        """Show or hide the token view; shown, it has the last run's tokens, or says how to
        get them."""
        self.token_view.setVisible(on)
        if not on:
            return
        if last is not None and last.logprobs:
            self.token_view.set_tokens(last.logprobs)
        elif not self.token_view.tokens:
            self.token_view.text.setPlainText(
                "This run has no recorded tokens (it was saved before runs kept them).")
