"""One sandboxed Jinja environment for every template the app renders.

Chat templates come from model files and prompt templates from shared libraries: both are
untrusted code. They render only in ``ImmutableSandboxedEnvironment`` with a cap on the output,
on exponent size and (where the platform allows) on wall time.
"""

from __future__ import annotations

import contextlib
import operator
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from playground.errors import TemplateError

MAX_OUTPUT_CHARS = 1_000_000
DEFAULT_TIME_BUDGET_S = 2.0
MAX_EXPONENT = 1000


class _BudgetExceededError(Exception):
    pass


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox plus caps on ``**`` and on repetition (``'x' * n``), so that one expression
    can neither compute for minutes nor allocate gigabytes before the output cap sees it.

    Intercepted operators are also never folded at compile time.
    """

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator_: str, left: Any, right: Any
    ) -> Any:
        if operator_ == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError(
                    f"exponent {right!r} is larger than the allowed {MAX_EXPONENT}"
                )
            return operator.pow(left, right)
        if operator_ == "*":
            _check_repetition(left, right)
            _check_repetition(right, left)
            return operator.mul(left, right)
        return super().call_binop(context, operator_, left, right)

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        """Refuse outright instead of rendering an unsafe attribute as empty text."""
        raise SecurityError(f"access to attribute {attribute!r} of a {type(obj).__name__} "
                            "is not allowed")


def _check_repetition(seq: Any, times: Any) -> None:
    if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
        size = len(seq) * times
        if size > MAX_OUTPUT_CHARS:
            raise SecurityError(
                f"repeating {len(seq):,} items {times:,} times makes {size:,}, more than the "
                f"allowed {MAX_OUTPUT_CHARS:,}"
            )


def _raise_exception(message: str) -> None:
    raise TemplateError(str(message))


def chat_environment() -> BoundedEnvironment:
    """Environment with the conventions Hugging Face chat templates rely on."""
    env = BoundedEnvironment(trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = lambda fmt: time.strftime(str(fmt))
    return env


@contextlib.contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Interrupt pure-Python rendering that runs past ``seconds`` (main thread, POSIX only).

    Elsewhere the output cap and the chunk-wise deadline in :func:`render` still apply.
    """
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.SIG_IGN, None)
    )
    if not usable:
        yield
        return

    def _alarm(_signum: int, _frame: object) -> None:
        raise _BudgetExceededError

    previous: Callable[..., Any] | int | None = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def compile_template(env: jinja2.Environment, source: str, what: str) -> jinja2.Template:
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{what}: syntax error on line {exc.lineno}: {exc.message}") from exc


def render(
    template: jinja2.Template,
    context: Mapping[str, Any],
    what: str,
    *,
    max_chars: int = MAX_OUTPUT_CHARS,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
) -> str:
    """Render with an output cap and a time budget; every failure becomes a TemplateError."""
    deadline = time.monotonic() + time_budget_s
    parts: list[str] = []
    size = 0
    try:
        with time_budget(time_budget_s):
            for chunk in template.generate(**context):
                size += len(chunk)
                if size > max_chars:
                    raise TemplateError(
                        f"{what}: output is longer than the allowed {max_chars:,} characters"
                    )
                if time.monotonic() > deadline:
                    raise _BudgetExceededError
                parts.append(chunk)
    except _BudgetExceededError:
        raise TemplateError(
            f"{what}: rendering took longer than {time_budget_s:g} s and was stopped"
        ) from None
    except TemplateError:
        raise
    except SecurityError as exc:
        raise TemplateError(f"{what}: not allowed in a template: {exc}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{what}: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{what}: {exc}") from exc
    except (RecursionError, MemoryError, OverflowError) as exc:
        raise TemplateError(f"{what}: rendering failed ({type(exc).__name__})") from exc
    except Exception as exc:
        raise TemplateError(f"{what}: rendering failed: {exc}") from exc
    return "".join(parts)
