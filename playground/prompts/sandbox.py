"""One sandboxed Jinja environment for every template the app renders.

Chat templates come from model files and prompt templates from shared libraries: both are
untrusted code. They render only in ``ImmutableSandboxedEnvironment`` with a cap on the output,
on exponent size and (where the platform allows) on wall time.
"""

from __future__ import annotations

import operator
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
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


def _deadline_tracer(deadline: float) -> Callable[[FrameType, str, Any], Any]:
    """A trace function that stops pure-Python work past ``deadline``, in any thread.

    Jinja compiles templates to Python, so every loop step is a line event and the check is one
    clock read. Unlike SIGALRM it works off the main thread (where the GUI renders) and leaves
    signal handlers alone. Work done in C is bounded by the caps on ranges, exponents and
    repetition instead.
    """

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _BudgetExceededError
        return tracer

    return tracer


@contextmanager
def compiling(what: str) -> Iterator[None]:
    """Jinja's and Python's errors while parsing or compiling a template, as the TemplateError
    a person reads, starting with ``what``."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{what}: syntax error on line {exc.lineno}: {exc.message}") from exc
    except (RecursionError, SyntaxError):
        # RecursionError: Jinja's parser on deep nesting. SyntaxError: Python's own limit of
        # 20 nested blocks, met by the code Jinja generates.
        raise TemplateError(f"{what}: the template is nested too deeply") from None


def compile_template(env: jinja2.Environment, source: str, what: str) -> jinja2.Template:
    with compiling(what):
        return env.from_string(source)


def render(
    template: jinja2.Template,
    context: Mapping[str, Any],
    what: str,
    *,
    max_chars: int = MAX_OUTPUT_CHARS,
    time_budget_s: float = DEFAULT_TIME_BUDGET_S,
) -> str:
    """Render with an output cap and a time budget; every failure becomes a TemplateError
    that starts with ``what`` and, where the template's code is known, its line."""
    parts: list[str] = []
    size = 0
    previous = sys.gettrace()
    sys.settrace(_deadline_tracer(time.monotonic() + time_budget_s))
    try:
        for chunk in template.generate(**context):
            size += len(chunk)
            if size > max_chars:
                raise TemplateError(
                    f"{what}: output is longer than the allowed {max_chars:,} characters"
                )
            parts.append(chunk)
    except _BudgetExceededError:
        raise TemplateError(
            f"{what}: rendering took longer than {time_budget_s:g} s and was stopped"
        ) from None
    except TemplateError as exc:
        message = str(exc)
        if message.startswith(f"{what}: "):
            raise
        raise TemplateError(f"{what}: {_line_of(exc)}{message}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{what}: {_line_of(exc)}{exc.message}") from exc
    except SecurityError as exc:
        raise TemplateError(f"{what}: {_line_of(exc)}not allowed in a template: {exc}") from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{what}: {_line_of(exc)}{exc}") from exc
    except (RecursionError, MemoryError, OverflowError) as exc:
        raise TemplateError(f"{what}: rendering failed ({type(exc).__name__})") from exc
    except Exception as exc:
        raise TemplateError(f"{what}: {_line_of(exc)}rendering failed: {exc}") from exc
    finally:
        sys.settrace(previous)
    return "".join(parts)


def _line_of(exc: BaseException) -> str:
    """'line N: ' from the deepest frame of the template's code, where there is one."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno  # Jinja rewrites these frames to carry template lines
        tb = tb.tb_next
    return "" if line is None else f"line {line}: "
