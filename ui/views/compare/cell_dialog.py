"""One cell of the outputs grid at full length: the input, its references, and every sample of
the variant with its scores (a failed sample with its error)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from playground.evaluation.grid import Cell, Row, score_key
from playground.evaluation.report import ReportRun
from playground.evaluation.summary import SCORE_NAMES
from ui.widgets.palette import ERROR_STYLE
from ui.widgets.references import confidence_flag


def _pre(text: str) -> str:
    return f'<div style="white-space:pre-wrap;">{html.escape(text)}</div>'


def cell_html(row: Row, cell: Cell | None, score_line: Callable[[Mapping[str, float | None]], str],
              threshold: float) -> str:
    """The input, its references and (for a variant's cell) each sample in order."""
    parts = [f"<h3>{html.escape(row.input_id)}</h3>", _pre(row.text)]
    for n, ref in enumerate(row.references, 1):
        parts.append(f"<p><b>Reference {n}</b></p>{_pre(ref)}")
    if cell is None:
        return "".join(parts)
    parts.append(f"<h3>{html.escape(cell.variant)}</h3>")
    if len(cell.runs) > 1:
        parts.append(f"<p>Mean over samples: {html.escape(score_line(cell.scores))}</p>")
    if not cell.runs:
        parts.append("<p><i>Not finished yet.</i></p>")
    for run in cell.runs:
        parts.append(_sample_html(run, score_line, threshold))
    if not cell.finished and cell.runs:
        parts.append(f"<p><i>{len(cell.runs)} of {cell.expected} samples finished.</i></p>")
    return "".join(parts)


def _sample_html(run: ReportRun, score_line: Callable[[Mapping[str, float | None]], str],
                 threshold: float) -> str:
    title = f"Sample {run.sample + 1}"
    if run.status == "failed":
        return (f'<p><b>{title}</b> · <span style="{ERROR_STYLE}">failed</span></p>'
                f'<div style="{ERROR_STYLE} white-space:pre-wrap;">'
                f"{html.escape(run.error or run.status)}</div>")
    flag = confidence_flag(run.scores.get("mean_logprob"), threshold)
    line = score_line({m: run.scores.get(score_key(m)) for m in SCORE_NAMES})
    return (f"<p><b>{title}</b> · {html.escape(line)}"
            + (f" · {html.escape(flag)}" if flag else "") + "</p>" + _pre(run.output))


class CellDialog(QDialog):
    def __init__(self, title: str, body: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(720, 520)
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setHtml(body)
        layout.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
