"""Prompt templates: a metadata header, a sandboxed Jinja body, typed variables.

A template file is plain Jinja with a YAML header in a leading Jinja comment::

    {#---
    name: Few-shot sentiment
    technique: few-shot
    task: sentiment
    description: Classify a review after N labelled examples.
    format: text            # or chat: the body marks turns with {{ role("user") }}
    variables:
      review: {type: text, help: The review to classify}
      examples: {type: examples, default_set: sentiment}
    params: {temperature: 0, max_tokens: 8}
    example_set: sentiment
    output: {json_schema: {type: object, properties: {label: {enum: [positive, negative]}}}}
    ---#}
    body ...

``output`` is optional (``json``, ``{json_schema: ...}`` or ``{grammar: ...}``): what the answer
must be; a header without it constrains nothing, as before.

Rendering uses one sandboxed environment (``ImmutableSandboxedEnvironment``, ``StrictUndefined``)
with output, exponent, repetition and time budgets; ``include``/``extends`` resolve only inside the
library being rendered, never on the file system.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jinja2
import jinja2.meta

from playground import paths
from playground.errors import TemplateError
from playground.events import ROLES, ChatMessage, GenerationRequest, Role
from playground.output_constraint import OutputConstraint, constraint_from_header
from playground.prompts.formats import LibraryError, load_yaml_strict
from playground.prompts.sandbox import BoundedEnvironment, compile_template, compiling, render
from playground.sampling import SamplingParams

VariableType = Literal["text", "number", "choice", "examples"]
VARIABLE_TYPES: tuple[VariableType, ...] = ("text", "number", "choice", "examples")
TemplateFormat = Literal["text", "chat"]
TECHNIQUES = (
    "zero-shot",
    "one-shot",
    "few-shot",
    "zero-shot-cot",
    "few-shot-cot",
    "persona",
    "system-user",
    "format-constrained",
    # The output's shape is enforced (the header's ``output``), not only asked for.
    "json-schema",
)
BUILTIN_DIR = paths.shipped("templates")
RENDER_BUDGET_S = 2.0
MAX_RENDER_CHARS = 1_000_000
HEADER_PATTERN = re.compile(r"\A\s*\{#---\s*\n(?P<yaml>.*?)\n---#\}[ \t]*\n?", re.DOTALL)


@dataclass(frozen=True)
class Variable:
    """One input of a template. ``examples`` values are lists of
    ``{"input": ..., "output": ..., "rationale": ...?}`` mappings."""

    name: str
    type: VariableType = "text"
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    default_set: str | None = None


@dataclass(frozen=True)
class TemplateMeta:
    name: str
    technique: str = ""
    task: str = ""
    description: str = ""
    format: TemplateFormat = "text"
    variables: tuple[Variable, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    example_set: str | None = None
    output: OutputConstraint | None = None


@dataclass(frozen=True)
class PromptTemplate:
    """A template as stored: ``id`` is its file stem, ``source`` the full text with header."""

    id: str
    source: str
    meta: TemplateMeta
    body: str

    def variable(self, name: str) -> Variable | None:
        for var in self.meta.variables:
            if var.name == name:
                return var
        return None


@dataclass(frozen=True)
class Rendered:
    """What a template produced: raw text, or chat messages when its format is chat."""

    text: str
    messages: tuple[ChatMessage, ...] | None
    warnings: tuple[str, ...] = ()


# -- parsing ----------------------------------------------------------------------------------


def split_header(source: str, template_id: str) -> tuple[dict[str, Any] | None, str, str]:
    """The header's mapping (None when the source has no header), the body, and the header's
    own text (the comment, as written); a header that is not a YAML mapping is a TemplateError."""
    match = HEADER_PATTERN.match(source)
    if match is None:
        return None, source, ""
    try:
        loaded = load_yaml_strict(match.group("yaml"), f"{template_id}: the metadata header")
    except LibraryError as exc:
        raise TemplateError(str(exc)) from exc
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise TemplateError(f"{template_id}: the metadata header must be a mapping")
    return loaded, source[match.end():], source[: match.end()]


def parse_template(source: str, template_id: str) -> PromptTemplate:
    """Split header and body, validate the header, and check the body compiles."""
    header, body, _ = split_header(source, template_id)
    meta = _meta_from_header({"name": template_id} if header is None else header, template_id)
    # The header is a Jinja comment ending in "-#}", which also strips the whitespace after it:
    # the whole source parses to exactly the body, with line numbers of the file.
    meta = _with_variables(meta, _compiled_variables(source, template_id))
    return PromptTemplate(template_id, source, meta, body)


def _compiled_variables(source: str, template_id: str) -> set[str]:
    """The names ``source`` reads from its context, once it is known to compile. One parse
    serves both: parsing twice was a third of loading the built-in library."""
    env = environment()
    with compiling(template_id):
        ast = env.parse(source)
        names = set(jinja2.meta.find_undeclared_variables(ast)) - set(_GLOBALS)
        env.compile(ast)
    return names


def _meta_from_header(header: Mapping[str, Any], template_id: str) -> TemplateMeta:
    known = {"name", "technique", "task", "description", "format", "variables", "params",
             "example_set", "output"}
    unknown = sorted(set(header) - known)
    if unknown:
        raise TemplateError(f"{template_id}: unknown header field(s): {', '.join(unknown)}")
    fmt = header.get("format", "text")
    if fmt not in ("text", "chat"):
        raise TemplateError(f"{template_id}: format must be 'text' or 'chat', got {fmt!r}")
    variables = []
    raw_vars = header.get("variables") or {}
    if not isinstance(raw_vars, dict):
        raise TemplateError(f"{template_id}: 'variables' must map names to descriptions")
    for name, spec in raw_vars.items():
        variables.append(read_variable(template_id, str(name), spec or {}))
    params = header.get("params") or {}
    if not isinstance(params, dict):
        raise TemplateError(f"{template_id}: 'params' must be a mapping of sampling settings")
    if params:
        SamplingParams.from_dict(params)  # raises SamplingError naming the bad setting
    example_set = header.get("example_set")
    if example_set is not None and not isinstance(example_set, str):
        raise TemplateError(f"{template_id}: 'example_set' must be the name of an example set")
    return TemplateMeta(
        name=str(header.get("name") or template_id),
        technique=str(header.get("technique") or ""),
        task=str(header.get("task") or ""),
        description=str(header.get("description") or ""),
        format=fmt,
        variables=tuple(variables),
        params=dict(params),
        example_set=example_set,
        output=constraint_from_header(header.get("output"), template_id),
    )


def read_variable(template_id: str, name: str, spec: Any) -> Variable:
    if not isinstance(spec, dict):
        raise TemplateError(f"{template_id}: variable {name!r} must be described by a mapping")
    vtype = spec.get("type", "text")
    if vtype not in VARIABLE_TYPES:
        raise TemplateError(
            f"{template_id}: variable {name!r} has type {vtype!r}; "
            f"use one of {', '.join(VARIABLE_TYPES)}"
        )
    raw_choices = spec.get("choices") or ()
    if not isinstance(raw_choices, (list, tuple)):
        raise TemplateError(f"{template_id}: variable {name!r}: 'choices' must be a list")
    choices = tuple(str(c) for c in raw_choices)
    if vtype == "choice" and not choices:
        raise TemplateError(f"{template_id}: choice variable {name!r} needs 'choices'")
    default = spec.get("default")
    if default is not None and vtype == "choice" and default not in choices:
        raise TemplateError(
            f"{template_id}: variable {name!r} defaults to {default!r}, not one of its choices"
        )
    if default is not None and vtype == "number" and (
        isinstance(default, bool) or not isinstance(default, (int, float))
    ):
        raise TemplateError(f"{template_id}: variable {name!r} needs a number as default")
    return Variable(
        name=name,
        type=vtype,
        default=default,
        help=str(spec.get("help") or ""),
        choices=choices,
        default_set=spec.get("default_set"),
    )


def discover_variables(body: str, template_id: str = "template") -> set[str]:
    """Names the body reads from its context (``jinja2.meta``), minus the app's own helpers."""
    with compiling(template_id):
        ast = environment().parse(body)
    return set(jinja2.meta.find_undeclared_variables(ast)) - set(_GLOBALS)


def _with_variables(meta: TemplateMeta, used: set[str]) -> TemplateMeta:
    """Variables used in the body but not declared in the header are added as text."""
    declared = {v.name for v in meta.variables}
    extra = sorted(used - declared)
    if not extra:
        return meta
    added = tuple(Variable(name) for name in extra)
    return TemplateMeta(**{**meta.__dict__, "variables": meta.variables + added})


def load_template_file(path: Path) -> PromptTemplate:
    try:
        source = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise TemplateError(f"{path.name}: cannot read the file ({exc.strerror})") from exc
    return parse_template(source, path.stem)


def builtin_templates(folder: Path = BUILTIN_DIR) -> list[PromptTemplate]:
    """Every template shipped in ``templates/``, sorted by id."""
    files = sorted([*folder.glob("*.j2"), *folder.glob("*.jinja")])
    return [load_template_file(p) for p in files]


def is_partial(template: PromptTemplate) -> bool:
    """Partials (ids starting with ``_``) are pieces other templates include, not prompts."""
    return template.id.startswith("_")


# -- the environment --------------------------------------------------------------------------


def _role_marker(nonce: str, verbatim: list[str]) -> Callable[..., str]:
    """``role(name)`` starts a turn; ``role(name, text)`` is a whole turn whose text is kept
    exactly as given (a chat transcript: an answer must go back to the model as it came)."""

    def role(name: str, text: object = None) -> str:
        if name not in ROLES:
            raise TemplateError(f"role() takes one of {', '.join(ROLES)}, got {name!r}")
        marker = f"\x00ROLE:{name}:{nonce}\x00"
        if text is None:
            return marker
        verbatim.append(str(text))
        return f"{marker}\x00TEXT:{len(verbatim) - 1}:{nonce}\x00"

    return role


_GLOBALS: dict[str, Any] = {"role": None}


def environment(library: Mapping[str, str] | None = None) -> BoundedEnvironment:
    """The one environment for prompt templates; ``library`` maps ids to sources for
    ``{% include %}`` and ``{% extends %}`` (nothing else can be loaded)."""
    env = BoundedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        loader=jinja2.FunctionLoader(_library_loader(library or {})),
    )
    return env


def _library_loader(library: Mapping[str, str]) -> Callable[[str], str | None]:
    def load(name: str) -> str | None:
        key = name.removesuffix(".j2").removesuffix(".jinja")
        source = library.get(key)
        if source is None:
            raise TemplateError(
                f"include/extends of {name!r}: only templates of this library can be used"
            )
        return source

    return load


def compile_source(
    source: str, template_id: str, library: Mapping[str, str] | None = None
) -> jinja2.Template:
    return compile_template(environment(library), source, template_id)


# -- rendering --------------------------------------------------------------------------------


def render_template(
    template: PromptTemplate,
    values: Mapping[str, Any],
    *,
    library: Mapping[str, str] | None = None,
    budget_s: float = RENDER_BUDGET_S,
    max_chars: int = MAX_RENDER_CHARS,
    special_tokens: Sequence[str] = (),
    neutralise: bool = False,
) -> Rendered:
    """Render with the template's defaults filled in; every failure is a TemplateError that
    names the template and, where Jinja knows it, the line."""
    context = _context(template, values)
    warnings = list(scan_values(context, special_tokens))
    if neutralise and special_tokens:
        context = {k: neutralise_value(v, special_tokens) for k, v in context.items()}
    nonce = secrets.token_hex(8)
    check_values(template, context)
    compiled = compile_source(template.source, template.id, library)
    verbatim: list[str] = []
    compiled.globals["role"] = _role_marker(nonce, verbatim)
    text = render(compiled, context, template.id, max_chars=max_chars, time_budget_s=budget_s)
    warnings += [f"template: {w}" for w in invisible_characters(template.body)]
    if template.meta.format == "chat" or "\x00ROLE:" in text:
        messages = _split_roles(text, nonce, template.id, verbatim)
        return Rendered(_chat_preview(messages), messages, tuple(warnings))
    return Rendered(text, None, tuple(warnings))


def check_values(template: PromptTemplate, values: Mapping[str, Any]) -> None:
    """Refuse values of the wrong kind before rendering, naming the variable."""
    for var in template.meta.variables:
        if var.name not in values:
            continue
        value = values[var.name]
        where = f"{template.id}: variable {var.name!r}"
        if var.type == "number" and (
            isinstance(value, bool) or not isinstance(value, (int, float))
        ):
            raise TemplateError(f"{where} takes a number, got {value!r}")
        if var.type == "choice" and value not in var.choices:
            raise TemplateError(f"{where} takes one of {', '.join(var.choices)}, got {value!r}")
        if var.type == "examples":
            if not isinstance(value, (list, tuple)):
                raise TemplateError(f"{where} takes a list of examples")
            for i, example in enumerate(value, 1):
                if not isinstance(example, Mapping) or "input" not in example:
                    raise TemplateError(f"{where}: example {i} needs at least an 'input'")


def _context(template: PromptTemplate, values: Mapping[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for var in template.meta.variables:
        if var.name in values:
            context[var.name] = values[var.name]
        elif var.default is not None:
            context[var.name] = var.default
    for key, value in values.items():
        context.setdefault(key, value)
    return context


def _split_roles(
    text: str, nonce: str, template_id: str, verbatim: Sequence[str] = ()
) -> tuple[ChatMessage, ...]:
    pattern = re.compile("\x00ROLE:(system|user|assistant):" + re.escape(nonce) + "\x00")
    exact = re.compile("\x00TEXT:([0-9]+):" + re.escape(nonce) + "\x00")
    if "\x00ROLE:" in pattern.sub("", text):
        raise TemplateError(f"{template_id}: a value tries to start a chat turn of its own")
    pieces = pattern.split(text)
    lead = pieces[0].strip()
    if lead:
        raise TemplateError(
            f"{template_id}: chat templates must start with role(...); found text before it"
        )
    messages = []
    for i in range(1, len(pieces), 2):
        role: Role = pieces[i]  # type: ignore[assignment]
        # Template text around a turn is trimmed; a role(name, text) turn's text never is.
        content = exact.sub(lambda m: verbatim[int(m.group(1))], pieces[i + 1].strip())
        messages.append(ChatMessage(role, content))
    if not messages:
        raise TemplateError(f"{template_id}: a chat template needs at least one role(...) turn")
    return tuple(messages)


def _chat_preview(messages: Sequence[ChatMessage]) -> str:
    return "\n\n".join(f"[{m.role}]\n{m.content}" for m in messages)


# -- warnings about values --------------------------------------------------------------------

_INVISIBLE_CATEGORIES = {"Cf", "Co", "Cn"}
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def invisible_characters(text: str) -> list[str]:
    """Describe invisible and bidirectional-override characters, which can hide instructions."""
    found: dict[str, int] = {}
    for ch in text:
        if ch in _BIDI or (
            unicodedata.category(ch) in _INVISIBLE_CATEGORIES and ch not in "\u00ad"
        ):
            found[ch] = found.get(ch, 0) + 1
    return [
        f"{'bidirectional override' if ch in _BIDI else 'invisible character'} "
        f"U+{ord(ch):04X} {unicodedata.name(ch, '')} ×{n}".replace("  ", " ")
        for ch, n in found.items()
    ]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def scan_values(context: Mapping[str, Any], special_tokens: Sequence[str]) -> Iterator[str]:
    for name, value in context.items():
        for text in _strings(value):
            for warning in invisible_characters(text):
                yield f"{name}: {warning}"
            for token in special_tokens:
                if token and token in text:
                    yield (
                        f"{name}: contains {token!r}, which the model reads as a control token"
                    )


def neutralise_value(value: Any, special_tokens: Sequence[str]) -> Any:
    """Break special-token strings with a zero-width joiner so the tokenizer sees plain text."""
    if isinstance(value, str):
        for token in special_tokens:
            if len(token) > 1 and token in value:
                value = value.replace(token, token[0] + "\u2060" + token[1:])
        return value
    if isinstance(value, Mapping):
        return {k: neutralise_value(v, special_tokens) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [neutralise_value(v, special_tokens) for v in value]
    return value



# -- from a rendered template to a request ------------------------------------------------------


def to_request(
    rendered: Rendered,
    params: SamplingParams,
    *,
    chat: bool | None = None,
    logprobs: int | None = None,
    constraint: OutputConstraint | None = None,
) -> GenerationRequest:
    """A GenerationRequest for a rendered template.

    Chat-format templates always give chat messages; a text template gives a raw prompt, or a
    single user message when ``chat`` is asked for.
    """
    if rendered.messages is not None:
        return GenerationRequest(messages=rendered.messages, params=params, logprobs=logprobs,
                                 constraint=constraint)
    if chat:
        message = ChatMessage("user", rendered.text)
        return GenerationRequest(messages=(message,), params=params, logprobs=logprobs,
                                 constraint=constraint)
    return GenerationRequest(prompt=rendered.text, params=params, logprobs=logprobs,
                             constraint=constraint)


def template_params(
    template: PromptTemplate, overrides: Mapping[str, Any] | None = None
) -> SamplingParams:
    """The template's default sampling settings with the user's changes on top."""
    return SamplingParams.from_dict({**template.meta.params, **(overrides or {})})
