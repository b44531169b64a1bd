"""A two-turn scratch chat on the real model, run, saved and read back the way the Playground
does it. Only invariants are asserted, never what the model says."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.engine.options import LoadOptions
from playground.events import ChatMessage
from playground.runs.opening import open_stored_run
from playground.runs.runner import BackendPool, RunDone, run_comparison
from playground.runs.scratch import ScratchChat, chat_run, stored_scratch
from playground.runs.single_run import single_run_spec
from playground.sampling import SamplingParams
from playground.storage.store import Store

PARAMS = SamplingParams(temperature=0.0, max_tokens=12)


def run_turn(chat: ScratchChat, model: Path, pool: BackendPool, store: Store) -> RunDone:
    spec = single_run_spec(chat_run(chat, model=str(model), params=PARAMS), 5)
    (done,) = [e for e in run_comparison(spec, pool, store=store, perplexity=False)
               if isinstance(e, RunDone)]
    assert done.status == "ok" and done.result is not None and done.run_id is not None, done
    return done


@pytest.mark.model
def test_a_two_turn_chat_sends_the_first_answer_back_exactly(
    tmp_path: Path, default_model_path: Path
) -> None:
    db = tmp_path / "history.db"
    pool = BackendPool(LoadOptions(n_ctx=1024))
    try:
        with Store(db) as store:
            first_chat = ScratchChat("You answer in a few words.").sent("Name a colour.")
            first = run_turn(first_chat, default_model_path, pool, store)
            answer = first.result.text  # type: ignore[union-attr]

            # Continued from what History opens, as the Playground does.
            reopened = stored_scratch(open_stored_run(db, first.run_id))  # type: ignore[arg-type]
            assert isinstance(reopened, ScratchChat)
            second = run_turn(reopened.sent("Another one?"), default_model_path, pool, store)
    finally:
        pool.close()

    answer_turn = (ChatMessage("assistant", answer),) if answer else ()
    sent = second.planned.request.messages  # type: ignore[union-attr]
    assert sent == (ChatMessage("system", "You answer in a few words."),
                    ChatMessage("user", "Name a colour."), *answer_turn,
                    ChatMessage("user", "Another one?"))
    # Both turns are stored; the second reopens as the whole chat with its own answer.
    assert open_stored_run(db, first.run_id).run.output == answer  # type: ignore[arg-type]
    last = stored_scratch(open_stored_run(db, second.run_id))  # type: ignore[arg-type]
    assert isinstance(last, ScratchChat)
    second_answer = second.result.text  # type: ignore[union-attr]
    assert last.turns == (*sent[1:], *((ChatMessage("assistant", second_answer),)
                                       if second_answer else ()))
