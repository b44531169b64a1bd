"""Generation on the real bundled model, through the worker process."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions
from playground.errors import ContextOverflowError, GenerationError
from playground.events import (
    ChatMessage,
    Failed,
    Finished,
    GenerationRequest,
    Started,
    Token,
)
from playground.sampling import SamplingParams
from tests.integration.conftest import collect, streamed_text

GREEDY = SamplingParams(temperature=0, max_tokens=40)
STORY = "Once upon a time, in a small village by the sea,"
#: A prompt any model continues for a long time, for tests that need a run still going (to
#: cancel it) or a budget used up. What it says is never asserted.
COUNTING = "1, 2, 3, 4, 5,"


def test_greedy_is_deterministic_and_streams_the_result(backend: LocalBackend) -> None:
    events, first = collect(backend, GenerationRequest(prompt=STORY, params=GREEDY))
    _, second = collect(backend, GenerationRequest(prompt=STORY, params=GREEDY))
    assert first.text
    assert first.text == second.text
    assert streamed_text(events) == first.text
    assert isinstance(events[0], Started)
    assert events[0].rendered_prompt == STORY
    assert first.prompt_tokens == events[0].prompt_tokens > 5
    assert first.finish_reason in ("length", "stop")
    assert 0 < first.completion_tokens <= GREEDY.max_tokens
    assert first.ttft_s is not None and first.ttft_s > 0
    # A speed needs two tokens: the first one's time is the time to first token.
    if first.completion_tokens > 1:
        assert first.tokens_per_second is not None and first.tokens_per_second > 0
    assert first.total_s >= first.ttft_s
    assert first.model["name"]
    assert first.rendered_prompt == STORY


def test_seeded_sampling_repeats_across_a_worker_restart(default_model_path: Path) -> None:
    params = SamplingParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=30, seed=7)
    request = GenerationRequest(prompt=STORY, params=params)
    other_seed = GenerationRequest(prompt=STORY, params=SamplingParams(
        temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=30, seed=8))
    with LocalBackend(default_model_path, LoadOptions(n_ctx=512)) as b:
        _, before = collect(b, request)
        _, again = collect(b, request)
        _, different = collect(b, other_seed)
        first_pid = b.pid
        b.restart()
        assert b.pid != first_pid
        _, after = collect(b, request)
    assert before.text == again.text == after.text
    assert different.text != before.text
    assert before.params.seed == 7


SUMMARY_PROMPT = (
    "Summarize the following dialogue in one or two sentences.\n\nDialogue:\n"
    "Maya: Did you book the train for Saturday?\nLeo: Not yet, the 9:10 was sold out.\n"
    "Maya: Take the 10:40 then.\nLeo: Booked. Two seats.\n\nSummary:"
)


def test_a_fixed_seed_repeats_from_the_first_run_after_a_load(default_model_path: Path) -> None:
    """The first run after a load (nothing cached) and its repeats (all cached) draw the same
    tokens: a hot temperature shows the smallest difference in the logits."""
    params = SamplingParams(temperature=1.5, max_tokens=16, seed=4242)
    request = GenerationRequest(prompt=SUMMARY_PROMPT, params=params)
    with LocalBackend(default_model_path, LoadOptions(n_ctx=1024)) as b:
        _, first = collect(b, request)
        _, repeat = collect(b, request)
        _, again = collect(b, request)
    assert first.text
    assert first.text == repeat.text == again.text


def test_without_prefix_reuse_a_fixed_seed_repeats_after_any_other_prompt(
    default_model_path: Path,
) -> None:
    params = SamplingParams(temperature=1.5, max_tokens=16, seed=4242)
    request = GenerationRequest(prompt=SUMMARY_PROMPT, params=params)
    detour = GenerationRequest(prompt=SUMMARY_PROMPT[:80] + " Leo: Hi.", params=params)
    options = LoadOptions(n_ctx=1024, reuse_prefix=False)
    with LocalBackend(default_model_path, options) as b:
        _, first = collect(b, request)
        collect(b, detour)
        _, after_detour = collect(b, request)
    assert first.text
    assert first.text == after_detour.text


def test_unseeded_runs_report_the_seed_that_reproduces_them(backend: LocalBackend) -> None:
    params = SamplingParams(temperature=1.2, max_tokens=20)
    _, result = collect(backend, GenerationRequest(prompt=STORY, params=params))
    assert result.params.seed is not None
    replay = SamplingParams(temperature=1.2, max_tokens=20, seed=result.params.seed)
    _, again = collect(backend, GenerationRequest(prompt=STORY, params=replay))
    assert again.text == result.text


def test_max_tokens_limits_the_output(backend: LocalBackend) -> None:
    params = SamplingParams(temperature=0, max_tokens=5)
    _, result = collect(backend, GenerationRequest(prompt=COUNTING, params=params))
    assert 0 < result.completion_tokens <= 5
    # "length" exactly when the budget ran out, whenever this model happens to stop.
    assert result.finish_reason in ("length", "stop")
    assert (result.finish_reason == "length") == (result.completion_tokens == 5)


def test_stop_sequence_ends_generation_before_it(backend: LocalBackend) -> None:
    _, free = collect(backend, GenerationRequest(prompt=STORY, params=GREEDY))
    # The stop sequence is a word of whatever this machine's greedy answer is; the repeat
    # follows the same path (same cached prompt), so it is cut right before that word.
    words = free.text.split()
    assert words, free.text
    stop_word = words[len(words) // 2]
    params = SamplingParams(temperature=0, max_tokens=40, stop=(stop_word,))
    events, stopped = collect(backend, GenerationRequest(prompt=STORY, params=params))
    assert stopped.finish_reason == "stop"
    assert stop_word not in stopped.text
    assert stopped.text == free.text[: free.text.index(stop_word)]
    assert streamed_text(events) == stopped.text


def test_chat_goes_through_the_models_chat_template(backend: LocalBackend) -> None:
    messages = (ChatMessage("system", "You answer briefly."), ChatMessage("user", "What is 2+2?"))
    long_enough = SamplingParams(temperature=0, max_tokens=200)
    _, chat = collect(backend, GenerationRequest(messages=messages, params=long_enough))
    _, raw = collect(backend, GenerationRequest(prompt="What is 2+2?", params=GREEDY))
    assert "<|im_start|>system\nYou answer briefly.<|im_end|>" in chat.rendered_prompt
    assert chat.rendered_prompt.endswith("<|im_start|>assistant\n")
    assert raw.rendered_prompt == "What is 2+2?"
    # However long the answer, the turn ends at the model's end-of-turn token, which never
    # shows in the text; "stop" (no stop sequences here) means that token came.
    assert "<|im_end|>" not in chat.text
    assert chat.finish_reason in ("stop", "length")
    assert (chat.finish_reason == "stop") == (chat.completion_tokens < 200)


def test_logprobs_have_one_entry_per_token_with_top_alternatives(backend: LocalBackend) -> None:
    params = SamplingParams(temperature=0, max_tokens=8)
    events, result = collect(backend,
                             GenerationRequest(prompt=COUNTING, params=params, logprobs=3))
    assert result.logprobs is not None
    assert 0 < len(result.logprobs) == result.completion_tokens <= 8
    tokens = [e for e in events if isinstance(e, Token)]
    assert all(t.logprob is not None for t in tokens[: len(result.logprobs)])
    for entry in result.logprobs:
        assert entry.logprob <= 0
        assert len(entry.top) == 3
        assert [lp for _, lp in entry.top] == sorted((lp for _, lp in entry.top), reverse=True)
        # Greedy decoding picks the most likely token, so it heads its own top list.
        assert entry.top[0][1] == pytest.approx(entry.logprob, abs=1e-5)
    _, without = collect(backend, GenerationRequest(prompt=STORY, params=params))
    assert without.logprobs is None


def test_prompt_longer_than_the_context_gets_a_message_with_both_numbers(
    backend: LocalBackend,
) -> None:
    long_prompt = "word " * 3000
    events, result = collect(backend, GenerationRequest(prompt=long_prompt, params=GREEDY))
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert isinstance(failed.error, ContextOverflowError)
    message = str(failed.error)
    assert "2,048" in message and "3,00" in message
    assert result.finish_reason == "error"
    # The model is still usable afterwards.
    _, ok = collect(backend, GenerationRequest(prompt=STORY, params=GREEDY))
    assert ok.finish_reason in ("length", "stop")


def test_max_tokens_is_clipped_to_the_room_left_and_says_so(backend: LocalBackend) -> None:
    prompt = "word " * 2000
    params = SamplingParams(temperature=0, max_tokens=500)
    events, result = collect(backend, GenerationRequest(prompt=prompt, params=params))
    started = events[0]
    assert isinstance(started, Started)
    assert started.max_tokens_clipped
    assert started.max_tokens == 2048 - started.prompt_tokens
    assert result.max_tokens_clipped
    assert any("max_tokens" in w for w in result.warnings)
    assert result.completion_tokens <= started.max_tokens


def test_cancel_mid_stream_stops_within_a_token_and_keeps_the_model(
    backend: LocalBackend,
) -> None:
    params = SamplingParams(temperature=0, max_tokens=400)
    received = 0
    final = None
    pid = backend.pid
    for event in backend.generate(GenerationRequest(prompt=COUNTING, params=params)):
        if isinstance(event, Token):
            received += 1
            if received == 5:
                backend.cancel()
        elif isinstance(event, Finished):
            final = event.result
    assert final is not None
    assert final.finish_reason == "cancelled"
    # The worker checks the flag at every token; tokens already produced (streamed in 40 ms
    # batches) still arrive, so the run ends some tokens later (how many depends on the
    # machine's speed), short of its budget.
    assert 5 <= final.completion_tokens < params.max_tokens
    assert final.text
    assert backend.pid == pid  # no kill was needed while decoding
    _, after = collect(backend, GenerationRequest(prompt=STORY, params=GREEDY))
    assert after.finish_reason in ("length", "stop")


def test_cancel_during_a_long_prefill_kills_and_restarts_the_worker(
    default_model_path: Path,
) -> None:
    # A tiny batch makes prefill of a long prompt take many seconds.
    sentence = "The history of the printing press. "
    with LocalBackend(default_model_path, LoadOptions(n_ctx=4096, n_batch=4)) as b:
        pid = b.pid
        timer = threading.Timer(0.5, b.cancel)
        started = time.monotonic()
        timer.start()
        events = list(b.generate(GenerationRequest(prompt=sentence * 300, params=GREEDY)))
        elapsed = time.monotonic() - started
        timer.cancel()
        final = events[-1]
        assert isinstance(final, Finished)
        assert final.result.finish_reason == "cancelled"
        assert final.result.completion_tokens == 0
        _, after = collect(b, GenerationRequest(prompt=STORY, params=GREEDY))
        assert b.pid != pid
        assert after.finish_reason in ("length", "stop")
        # The baseline, on this machine: a tenth of that prompt, prefilled in full. The whole
        # prompt takes at least ten times as long; the cancel came back well before that.
        one_token = SamplingParams(temperature=0, max_tokens=1)
        tenth_started = time.monotonic()
        collect(b, GenerationRequest(prompt=sentence * 30, params=one_token))
        tenth = time.monotonic() - tenth_started
    assert elapsed < 10 * tenth


def test_a_second_request_while_one_runs_is_refused(backend: LocalBackend) -> None:
    params = SamplingParams(temperature=0, max_tokens=20)
    stream = backend.generate(GenerationRequest(prompt=STORY, params=params))
    next(stream)
    with pytest.raises(GenerationError, match="busy"):
        next(backend.generate(GenerationRequest(prompt=STORY, params=params)))
    backend.cancel()
    list(stream)


@pytest.mark.parametrize(
    "prompt",
    ["Translate 'thank you' into Japanese:", "Write the word hello in Chinese characters:"],
)
def test_streamed_text_holds_only_whole_characters(
    backend: LocalBackend, vocabulary: Any, prompt: str
) -> None:
    # Answers to these prompts tend to hold Japanese or Chinese: characters of 3 bytes that
    # byte-level BPE often spreads over several tokens. Whatever this machine's answer is, the
    # pieces must read as the model's bytes decoded in one go: a character cut between two
    # pieces would show as U+FFFD where the whole answer has the character. (U+FFFD is right
    # only where the model's own bytes are not valid UTF-8.)
    params = SamplingParams(temperature=0, max_tokens=40)
    request = GenerationRequest(messages=(ChatMessage("user", prompt),), params=params)
    events, result = collect(backend, request)
    pieces = [e.text for e in events if isinstance(e, Token)]
    assert result.token_ids is not None
    assert len(result.token_ids) == result.completion_tokens
    model_bytes = vocabulary.detokenize(list(result.token_ids))
    assert "".join(pieces) == result.text == model_bytes.decode("utf-8", errors="replace")
    for piece in pieces:
        piece.encode("utf-8")  # a lone surrogate would raise here


@pytest.fixture(scope="module")
def vocabulary(default_model_path: Path) -> Iterator[Any]:
    """The model's vocabulary alone (no weights), in this process: the bytes of token ids."""
    import llama_cpp

    vocab = llama_cpp.Llama(str(default_model_path), vocab_only=True, verbose=False)
    yield vocab
    vocab.close()


def test_count_tokens_matches_what_generation_reports(backend: LocalBackend) -> None:
    _, result = collect(backend, GenerationRequest(prompt=STORY, params=GREEDY))
    assert backend.count_tokens(STORY) == result.prompt_tokens
    assert backend.count_tokens(STORY + " and more words") > result.prompt_tokens


def test_preview_shows_the_exact_prompt_and_whether_it_fits(backend: LocalBackend) -> None:
    chat = GenerationRequest(messages=(ChatMessage("user", "Hi there"),))
    preview = backend.preview(chat)
    _, result = collect(backend, GenerationRequest(messages=chat.messages, params=GREEDY))
    assert preview.prompt == result.rendered_prompt
    assert preview.tokens == result.prompt_tokens
    assert preview.fits
    assert preview.warning is None
    big = backend.preview(GenerationRequest(prompt="word " * 3000))
    assert not big.fits
    assert big.warning is not None
    assert "2,048" in big.warning


def test_special_tokens_of_the_model_are_known(backend: LocalBackend) -> None:
    assert backend.loaded is not None
    assert "<|im_end|>" in backend.loaded.special_tokens
    assert "<|im_start|>" in backend.loaded.special_tokens
    assert "hello" not in backend.loaded.special_tokens


def test_reference_perplexity_agrees_with_the_generated_log_probabilities(
    backend: LocalBackend,
) -> None:
    prompt = "The capital of France is"
    params = SamplingParams(temperature=0, max_tokens=3)
    # An evaluation pass clears the cache: start from the same clean state both times, so the
    # two generations compute the same numbers whatever earlier tests left cached.
    backend.perplexity(GenerationRequest(prompt=prompt), " Paris.")
    _, result = collect(backend, GenerationRequest(prompt=prompt, params=params, logprobs=0))
    assert result.logprobs
    mean_logprob = sum(lp.logprob for lp in result.logprobs) / len(result.logprobs)
    ppl = backend.perplexity(GenerationRequest(prompt=prompt), result.text)
    # One batch there, one token at a time here: the kernels differ and so do the last bits,
    # by up to ~0.01 nats per token on some CPUs and settings (flash attention off, say).
    assert math.log(ppl) == pytest.approx(-mean_logprob, abs=0.02)
    unlikely = backend.perplexity(GenerationRequest(prompt=prompt), " a purple banana.")
    assert unlikely > 10 * ppl
    # Generation afterwards is unaffected by the evaluation pass.
    _, again = collect(backend, GenerationRequest(prompt=prompt, params=params))
    assert again.text == result.text


def test_reference_perplexity_of_an_empty_reference_is_refused(backend: LocalBackend) -> None:
    with pytest.raises(GenerationError, match="empty"):
        backend.perplexity(GenerationRequest(prompt="Hi"), "")


def test_an_abandoned_stream_does_not_leak_into_the_next_request(
    default_model_path: Path,
) -> None:
    # Without prefix reuse every request starts from an empty cache, so the same request gives
    # the same tokens before and after the abandoned one, whatever this machine computes.
    with LocalBackend(default_model_path, LoadOptions(n_ctx=2048, reuse_prefix=False)) as b:
        before_events, before = collect(b, GenerationRequest(prompt=STORY, params=GREEDY))
        long_run = b.generate(GenerationRequest(
            prompt=COUNTING, params=SamplingParams(temperature=0, max_tokens=1500)))
        next(long_run)
        long_run.close()  # the caller stops listening without cancelling
        events, result = collect(b, GenerationRequest(prompt=STORY, params=GREEDY))
    assert [type(e) for e in events] == [type(e) for e in before_events]
    assert streamed_text(events) == result.text == before.text
    assert result.completion_tokens == before.completion_tokens
    assert result.rendered_prompt == STORY
