"""The template sandbox: hostile chat and prompt templates fail with a TemplateError, never
escape, never run unbounded and never flood memory with output."""

from __future__ import annotations

import re
import signal
import threading
import tracemalloc
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from playground.errors import TemplateError
from playground.prompts.sandbox import (
    DEFAULT_TIME_BUDGET_S,
    MAX_EXPONENT,
    MAX_OUTPUT_CHARS,
    chat_environment,
    compile_template,
    render,
)

WHAT = "chat template"
MESSAGES = [{"role": "user", "content": "hi"}]

#: No output at all and ~10**10 loop steps: only a signal can stop it.
SILENT_ENDLESS = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
#: One character per ~10**5 loop steps: slow, small chunks that stay far below the output cap.
SLOW_CHUNKS = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}x{% endfor %}"


def run(source: str, context: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """Compile and render ``source`` the way the app does for chat templates."""
    template = compile_template(chat_environment(), source, WHAT)
    return render(template, {"messages": MESSAGES, **(context or {})}, WHAT, **kwargs)


@pytest.fixture
def default_sigalrm() -> Iterator[None]:
    """Leave SIGALRM as Python starts it, so ``time_budget`` may use its signal path."""
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL, "SIGALRM is owned by someone"
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)


# -- escapes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "{{ raise_exception.__globals__['os'] }}",
        "{{ strftime_now.__globals__.time.sleep(0) }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ [].__class__.__base__.__subclasses__() }}",
        "{{ (''|attr('__class__')|attr('__mro__'))[1]|attr('__subclasses__')() }}",
        "{{ '{0.__class__.__mro__[1]}'.format('') }}",
        "{{ '{0.__globals__[os]}'.format(raise_exception) }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
    ],
)
def test_ssti_payloads_are_refused(source: str) -> None:
    """Model files and shared prompt libraries are untrusted code."""
    with pytest.raises(TemplateError, match=f"^{WHAT}: "):
        run(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ raise_exception.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ '{0.__class__.__mro__[1]}'.format('') }}",
    ],
)
def test_refusal_says_why(source: str) -> None:
    """The message points at the sandbox, not at some unrelated rendering failure."""
    with pytest.raises(TemplateError, match=r"not allowed in a template: access to attribute"):
        run(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ raise_exception.__globals__ }}",
        "{{ ''.__class__ }}",
        "{{ ''|attr('__class__') }}",
        "{{ '{0.__class__}'.format(1) }}",
        "{{ '{0.__globals__}'.format(raise_exception) }}",
    ],
)
def test_lone_unsafe_attribute_reveals_nothing(source: str) -> None:
    """Reading one forbidden attribute yields no object, whether refused or rendered empty."""
    try:
        output = run(source)
    except TemplateError:
        return
    assert output == ""


@pytest.mark.parametrize(
    "source", ["{{ messages.append('x') }}", "{{ messages[0].update(role='system') }}"]
)
def test_templates_cannot_mutate_their_input(source: str) -> None:
    """The immutable sandbox keeps the caller's message list intact."""
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(TemplateError, match=r"not allowed in a template"):
        run(source, {"messages": messages})
    assert messages == [{"role": "user", "content": "hi"}]


# -- expensive arithmetic -----------------------------------------------------------------------


def test_huge_exponent_refused() -> None:
    """``9 ** 999999999`` would compute for minutes before any output check could run."""
    with pytest.raises(TemplateError) as info:
        run("{{ 9 ** 999999999 }}")
    assert str(info.value) == (
        f"{WHAT}: line 1: not allowed in a template: "
        f"exponent 999999999 is larger than the allowed {MAX_EXPONENT}"
    )


def test_exponent_limit_is_inclusive() -> None:
    """Ordinary powers keep working, up to the limit itself."""
    assert run(f"{{{{ 2 ** {MAX_EXPONENT} }}}}") == str(2**MAX_EXPONENT)
    with pytest.raises(TemplateError, match=r"exponent"):
        run(f"{{{{ 2 ** {MAX_EXPONENT + 1} }}}}")


def test_range_is_capped() -> None:
    """The sandbox's range limit holds, so a single loop cannot be arbitrarily long."""
    with pytest.raises(TemplateError, match=r"OverflowError"):
        run("{{ range(100001)|length }}")


# -- output cap ---------------------------------------------------------------------------------


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(99999) %}{% for j in range(99999) %}{{ 'x' * 10 }}"
        "{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{{ 'y' * 1000 }}{% endfor %}",
        "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
    ],
)
def test_output_bomb_stopped_by_cap(source: str) -> None:
    """Output grows chunk by chunk; a budget stops it long before memory runs out. Which
    budget trips first depends on the CPU: a fast one reaches the output cap, a slow one the
    time budget. (Each budget alone: test_output_cap_is_exact and the time-budget tests.)"""
    with pytest.raises(TemplateError) as info:
        run(source)
    assert str(info.value) in (
        f"{WHAT}: output is longer than the allowed {MAX_OUTPUT_CHARS:,} characters",
        f"{WHAT}: rendering took longer than {DEFAULT_TIME_BUDGET_S:g} s and was stopped",
    )


def test_output_cap_is_exact() -> None:
    """Exactly ``max_chars`` characters pass; one more is refused with that cap named."""
    assert run("{{ 'z' * 50 }}", max_chars=50) == "z" * 50
    with pytest.raises(TemplateError, match=r"longer than the allowed 50 characters$"):
        run("{{ 'z' * 51 }}", max_chars=50)


def test_string_repetition_does_not_allocate_past_the_cap() -> None:
    """A cap on output is only a memory bound if oversized strings are never built."""
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError, match=r"repeating 1 items 20,000,000 times"):
            run("{{ s * n }}", {"s": "x", "n": 20_000_000}, max_chars=1000)
        with pytest.raises(TemplateError, match=r"repeating"):
            run("{{ 'x' * 10000000000 }}", max_chars=1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"peak {peak:,} bytes for 1,000 allowed characters"


# -- time budget --------------------------------------------------------------------------------


@pytest.mark.timeout(10, method="thread")
def test_silent_endless_loop_stopped_by_time_budget(default_sigalrm: None) -> None:
    """A loop with no output never reaches the chunk check: the alarm must interrupt it."""
    with pytest.raises(TemplateError) as info:
        run(SILENT_ENDLESS, time_budget_s=0.3)
    assert str(info.value) == f"{WHAT}: rendering took longer than 0.3 s and was stopped"
    # The alarm is disarmed and the handler put back, so nothing fires later.
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL


@pytest.mark.timeout(10, method="thread")
def test_foreign_alarm_handler_is_left_alone(default_sigalrm: None) -> None:
    """When another SIGALRM owner exists, the chunk-wise deadline stops a slow template."""

    def owner(_signum: int, _frame: object) -> None:
        raise AssertionError("the sandbox armed an alarm it does not own")

    signal.signal(signal.SIGALRM, owner)
    signal.setitimer(signal.ITIMER_REAL, 100)
    with pytest.raises(TemplateError, match=r"rendering took longer than 0.3 s and was stopped$"):
        run(SLOW_CHUNKS, time_budget_s=0.3)
    assert signal.getsignal(signal.SIGALRM) is owner
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 90 < remaining <= 100, "the owner's timer was replaced or cancelled"


@pytest.mark.timeout(10)
def test_deadline_applies_outside_the_main_thread() -> None:
    """Signals only reach the main thread; elsewhere the chunk-wise deadline still holds."""
    outcome: list[BaseException | str] = []

    def target() -> None:
        try:
            outcome.append(run(SLOW_CHUNKS, time_budget_s=0.3))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join()
    [error] = outcome
    assert isinstance(error, TemplateError)
    assert str(error) == f"{WHAT}: rendering took longer than 0.3 s and was stopped"


# -- errors a template author sees --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("{% if %}", 1),
        ("hello\n{{ messages[0]['content'] }}\n{% if %}", 3),
        ("a\nb\n{% for m in messages %}\n", 3),
        ("{{ 1 +\n}}", 2),
    ],
)
def test_syntax_error_names_line(source: str, line: int) -> None:
    """Template authors need the line to fix, not just 'syntax error'."""
    with pytest.raises(TemplateError, match=rf"^{WHAT}: syntax error on line {line}: \S"):
        compile_template(chat_environment(), source, WHAT)


def test_raise_exception_surfaces_its_message() -> None:
    """Chat templates reject unsupported conversations with ``raise_exception``."""
    source = (
        "{% if messages[0]['role'] == 'user' %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant') }}"
        "{% endif %}"
    )
    with pytest.raises(TemplateError) as info:
        run(source)
    assert str(info.value) == f"{WHAT}: line 1: Conversation roles must alternate user/assistant"


def test_raise_exception_with_built_message() -> None:
    """The message may be computed from the conversation."""
    with pytest.raises(TemplateError, match=f"^{WHAT}: line 1: bad role: user$"):
        run("{{ raise_exception('bad role: ' ~ messages[0].role) }}")


def test_undefined_attribute_of_undefined_is_reported() -> None:
    """A typo in a variable name becomes a TemplateError naming the variable."""
    with pytest.raises(TemplateError, match=f"^{WHAT}: line 1: 'mesages' is undefined$"):
        run("{{ mesages.content }}")


def test_chat_conventions() -> None:
    """Hugging Face templates assume trimmed blocks and a ``strftime_now`` global."""
    assert run("{% if true %}\n  A{% endif %}\n") == "  A"
    assert run("  {% if true %}B{% endif %}") == "B"
    assert re.fullmatch(r"\d{4}", run("{{ strftime_now('%Y') }}"))
