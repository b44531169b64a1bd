"""``make screenshots``: a PNG of each main view in a realistic state, for the README.

    python -m ui.screenshots docs/screenshots

Everything runs for real on the default model, in a throwaway profile, at a laptop's 1366×768: a
Playground run with a reference, a scratch chat, a three-way comparison, a dataset comparison's
inputs × variants grid, the history they leave, the loaded model, a library template and the
ranking after a few blind judgements.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from ui.scripted import StepTimeoutError, settle, wait_for

SIZE = (1366, 768)
DIALOGUE = (
    "Maya: Did you book the train for Saturday?\n"
    "Leo: Not yet, the 9:10 was sold out.\n"
    "Maya: Take the 10:40 then, we can still make lunch with Grandma.\n"
    "Leo: Booked. Two seats, coach C."
)
REFERENCE = (
    "Leo booked two seats on the 10:40 train on Saturday so they can have lunch with Grandma."
)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="playground-shots-") as home:
        os.environ["XDG_DATA_HOME"] = str(Path(home) / "data")
        os.environ["PLAYGROUND_DB"] = str(Path(home) / "history.db")
        try:
            written = _shoot(Path(home), out)
        except StepTimeoutError as exc:
            raise SystemExit(f"screenshots: a step timed out ({exc})") from exc
        for name in written:
            print(f"wrote {out / name}")
    return 0


def _overlap(text: str) -> int:
    return len(set(text.lower().split()) & set(REFERENCE.lower().split()))


def _shoot(home: Path, out: Path) -> list[str]:
    from PySide6.QtCore import QSettings

    from playground.engine.options import LoadOptions
    from playground.sampling import SamplingParams
    from ui.app import application
    from ui.context import AppContext
    from ui.main_window import MainWindow

    application()
    settings = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    context = AppContext(settings, db_path=home / "history.db", libraries_dir=home / "libraries")
    window = MainWindow(context)
    window.resize(*SIZE)
    window.show()
    written: list[str] = []

    def shot(name: str) -> None:
        settle()
        window.grab().save(str(out / name))
        written.append(name)

    try:
        hub = context.hub
        hub.set_options(hub.current, LoadOptions(n_ctx=2048))
        wait_for(hub.loaded, lambda: hub.load(hub.current))

        # Playground: a summary with a reference, scored.
        window.tabs.setCurrentWidget(window.playground)
        view = window.playground
        view.select_template("Built-in", "summarization-zero-shot")
        view.variables.set_values({"dialogue": DIALOGUE})
        view.reference.setPlainText(REFERENCE)
        view.params.set_params(SamplingParams(temperature=0.2, max_tokens=60, seed=7))
        wait_for(view.run_finished, view.run)
        shot("playground.png")

        # Scratch chat: no template, a system prompt and two turns.
        view.modes.set_mode("chat")
        chat = view.modes.chat_panel
        chat.system.setPlainText("You are a concise assistant for travel questions.")
        view.params.set_params(SamplingParams(temperature=0.2, max_tokens=40, seed=7))
        for message in ("Which is faster from Paris to Lyon, train or car?",
                        "And the cheapest?"):
            chat.message.setPlainText(message)
            wait_for(view.run_finished, chat.send_button.click)
        shot("chat.png")
        view.modes.set_mode("template")

        # Compare: three techniques on the same dialogue.
        window.tabs.setCurrentWidget(window.compare)
        compare = window.compare
        while len(compare.columns) < 3:
            compare.add_column()
        for column, (name, template) in zip(
            compare.columns,
            (("zero-shot", "summarization-zero-shot"), ("few-shot", "summarization-few-shot"),
             ("system + user", "summarization-system-user")),
            strict=False,
        ):
            column.set_template(template)
            column.name_edit.setText(name)
        compare.shared_input.setPlainText(DIALOGUE)
        compare.references.setPlainText(REFERENCE)
        compare.samples_spin.setValue(2)
        (comparison_id,) = wait_for(compare.comparison_finished, compare.run_all)
        shot("compare.png")
        compare.results.show_summary()
        shot("compare-summary.png")

        # A dataset: one row per input, one cell per variant.
        compare.select_dataset("summarization")
        compare.rows_spin.setValue(4)
        compare.samples_spin.setValue(1)
        wait_for(compare.comparison_finished, compare.run_all)
        compare.results.show_outputs()
        shot("compare-grid.png")

        window.tabs.setCurrentWidget(window.history)
        settle(800)
        history = window.history
        wait_for(history.details_loaded, lambda: history.table.selectRow(0))
        shot("history.png")

        window.tabs.setCurrentWidget(window.models)
        shot("models.png")

        window.tabs.setCurrentWidget(window.library)
        item = window.library.item_for(("Built-in", "template", "summarization-few-shot"))
        if item is not None:
            window.library.browser.tree.setCurrentItem(item)
        shot("library.png")

        window.tabs.setCurrentWidget(window.evaluate)
        evaluate = window.evaluate
        if isinstance(comparison_id, int):
            wait_for(evaluate.loaded, lambda: evaluate.set_comparison(comparison_id))
        evaluate.modes.setCurrentWidget(evaluate.pairwise_widget)
        # Judge all but the last pair the way an analyst checking against the reference might.
        while evaluate.pairs_judged < evaluate.pairs_total - 1:
            pair = evaluate.current_pair
            if pair is None:
                break
            left, right = _overlap(pair.left), _overlap(pair.right)
            evaluate.choose("1" if left > right else "2" if right > left else "3")
            settle(150)
        shot("evaluate.png")
        evaluate.modes.setCurrentIndex(evaluate.modes.count() - 1)
        settle(800)
        shot("evaluate-results.png")
    finally:
        window.close()
    return written


if __name__ == "__main__":
    sys.exit(main())
