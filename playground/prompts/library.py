"""Prompt libraries: templates, example sets, sampling presets and datasets, shared as one file.

A library file is untrusted input that may come from anywhere, so importing one is strict and
all-or-nothing: the bytes are size-capped, decoded as UTF-8, parsed with depth, alias and tag
limits, and every item is validated before anything is returned. Nothing is guessed: a value
that the schema wants as text but arrives as a number is refused with the place to quote it,
rather than silently turned into a different string (YAML 1.1 would read ``NO`` as false,
``1.10`` as 1.1 and ``12:30`` as 750).

Exports are deterministic, so export -> import -> export gives the same bytes in JSON and YAML.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Literal, NamedTuple

import jinja2
import jinja2.meta
import yaml
from jinja2 import nodes
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.emitter import ScalarAnalysis
from yaml.events import AliasEvent, CollectionStartEvent, Event, NodeEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from playground.errors import PlaygroundError, SamplingError, TemplateError
from playground.prompts.templates import (
    BUILTIN_DIR,
    PromptTemplate,
    environment,
    parse_template,
    render_template,
)
from playground.prompts.templates import (
    HEADER_PATTERN as _TEMPLATE_HEADER,
)
from playground.sampling import SamplingParams

SCHEMA = "prompt-playground/library"
SCHEMA_VERSION = 1
MAX_LIBRARY_BYTES = 16 * 1024 * 1024
MAX_NESTING = 64
MAX_NAME_CHARS = 200
MAX_NUMBER_DIGITS = 100
PROMPTFOO_PROVIDERS: tuple[Mapping[str, Any], ...] = (
    {"id": "openai:chat:local-model", "config": {"apiBaseUrl": "http://127.0.0.1:8080/v1"}},
)

LibraryFormat = Literal["json", "yaml"]
ItemKind = Literal["library", "template", "example_set", "preset", "dataset"]
ItemStatus = Literal["ok", "error"]

_TEMPLATE_ID = re.compile(r"\w[\w.-]{0,127}\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MESSAGE_CHARS = 500


class LibraryError(PlaygroundError):
    """A library file (or an llm template) cannot be imported, exported or read.

    ``report`` lists every item of the document with its own verdict when the document could
    be parsed; it is empty when the file was refused as a whole (too large, not UTF-8...).
    """

    def __init__(self, message: str, report: Sequence[ItemReport] = ()) -> None:
        super().__init__(message)
        self.report: tuple[ItemReport, ...] = tuple(report)


# -- the data model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleSet:
    """Worked examples for few-shot templates; each is ``input``, ``output`` and optionally
    ``rationale`` (the reasoning shown by chain-of-thought templates)."""

    name: str
    task: str
    examples: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Preset:
    """Named sampling settings. Only the settings that matter are stored, so a preset applied to
    other settings changes just those."""

    name: str
    params: dict[str, Any]

    def __post_init__(self) -> None:
        SamplingParams.from_dict(self.params)  # raises SamplingError naming the bad setting

    def sampling(self, base: SamplingParams | None = None) -> SamplingParams:
        start = (base or SamplingParams()).to_dict()
        return SamplingParams.from_dict({**start, **self.params})


@dataclass(frozen=True)
class Dataset:
    """Rows to evaluate templates on: string variables plus ``references`` (a list of the
    acceptable answers, which metrics compare the output with)."""

    name: str
    task: str
    rows: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Library:
    name: str
    description: str
    templates: tuple[PromptTemplate, ...] = ()
    example_sets: tuple[ExampleSet, ...] = ()
    presets: tuple[Preset, ...] = ()
    datasets: tuple[Dataset, ...] = ()

    def template(self, template_id: str) -> PromptTemplate | None:
        return next((t for t in self.templates if t.id == template_id), None)

    def example_set(self, name: str) -> ExampleSet | None:
        return next((s for s in self.example_sets if s.name == name), None)

    def preset(self, name: str) -> Preset | None:
        return next((p for p in self.presets if p.name == name), None)

    def dataset(self, name: str) -> Dataset | None:
        return next((d for d in self.datasets if d.name == name), None)

    def sources(self) -> dict[str, str]:
        """Template sources by id: what ``render_template(library=...)`` needs for includes."""
        return {t.id: t.source for t in self.templates}


class ItemReport(NamedTuple):
    kind: ItemKind
    name: str
    status: ItemStatus
    message: str


@dataclass(frozen=True)
class ImportReport:
    library: Library
    items: tuple[ItemReport, ...]
    format: LibraryFormat


@dataclass(frozen=True)
class LlmImport:
    """An llm template converted to ours, with what could not be carried over."""

    template: PromptTemplate
    warnings: tuple[str, ...]


BUILTIN_PRESETS: tuple[Preset, ...] = (
    Preset("greedy", {"temperature": 0}),
    Preset("balanced", {"temperature": 0.7, "top_p": 0.9}),
    Preset("creative", {"temperature": 1.1, "top_p": 0.95}),
)


# -- YAML: strict loading ---------------------------------------------------------------------

_TAG_PREFIX = "tag:yaml.org,2002:"
_ALLOWED_TAGS = frozenset(
    {"!"} | {_TAG_PREFIX + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
)
_CORE_INT = re.compile(r"[-+]?[0-9]+\Z")
_CORE_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_CORE_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_CORE_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")


def _line(event_or_node: Event | Node | None) -> str:
    mark = event_or_node.start_mark if event_or_node is not None else None
    return f"line {mark.line + 1}" if mark is not None else "somewhere"


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_TAG_PREFIX):] if tag.startswith(_TAG_PREFIX) else tag


class _StrictResolver(Resolver):
    """YAML 1.2 core typing with lowercase keywords and decimal numbers only: ``yes``, ``NO``,
    ``on``, ``12:30``, ``1_000`` and ``0x1F`` stay text; ``.inf``/``.nan`` resolve to floats
    so that the finiteness check can name them."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class-level table


_StrictResolver.add_implicit_resolver(
    _TAG_PREFIX + "null", re.compile(r"^(?:~|null|)$"), ["~", "n", ""]
)
_StrictResolver.add_implicit_resolver(
    _TAG_PREFIX + "bool", re.compile(r"^(?:true|false)$"), ["t", "f"]
)
_StrictResolver.add_implicit_resolver(
    _TAG_PREFIX + "int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_StrictResolver.add_implicit_resolver(
    _TAG_PREFIX + "float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class _StrictComposer(Composer):
    """Refuses anchors, aliases and non-standard tags, and caps nesting, while composing.

    Aliases are refused outright rather than counted: a library never needs them, and refusing
    them makes "billion laughs" documents fail at their first anchor. Nesting is checked here
    because the composer is the one recursive step of PyYAML's loading.
    """

    _depth = 0
    _where = "library"
    peek_event: Callable[[], Event | None]  # provided by the parser it is mixed with

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or (
            isinstance(event, NodeEvent) and event.anchor is not None
        ):
            raise LibraryError(
                f"{self._where}: {_line(event)}: anchors and aliases (&name, *name) are not "
                "allowed; write each value out in full"
            )
        tag = getattr(event, "tag", None)
        if isinstance(event, ScalarEvent) and tag == "!":
            # The YAML spec makes "! 12" text; PyYAML and libyaml would resolve it like "12".
            event.tag = _TAG_PREFIX + "str"
        elif tag is not None and tag not in _ALLOWED_TAGS:
            raise LibraryError(
                f"{self._where}: {_line(event)}: tag {_tag_name(tag)} is not allowed"
            )
        nested = isinstance(event, CollectionStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_NESTING:
                raise LibraryError(
                    f"{self._where}: {_line(event)}: nested more than {MAX_NESTING} levels deep"
                )
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1


class _StrictConstructor(SafeConstructor):
    """Builds plain data only, refusing duplicate and non-text keys (a later duplicate would
    otherwise silently replace the first)."""

    _where = "library"

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise LibraryError(
                    f"{self._where}: {_line(key_node)}: keys must be text, got "
                    f"{_describe(key)} (quote it)"
                )
            if key in mapping:
                raise LibraryError(
                    f"{self._where}: {_line(key_node)}: duplicate key {_short(key)}"
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def _scalar(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise LibraryError(f"{self._where}: {_line(node)}: expected a single value")
        return self.construct_scalar(node)

    def construct_strict_null(self, node: Node) -> None:
        value = self._scalar(node)
        if value not in ("", "~", "null"):
            raise LibraryError(f"{self._where}: {_line(node)}: {_short(value)} is not null")

    def construct_strict_bool(self, node: Node) -> bool:
        value = self._scalar(node)
        if value not in ("true", "false"):
            raise LibraryError(
                f"{self._where}: {_line(node)}: {_short(value)} is not true or false"
            )
        return value == "true"

    def construct_strict_int(self, node: Node) -> int:
        value = self._scalar(node)
        if not _CORE_INT.match(value):
            raise LibraryError(
                f"{self._where}: {_line(node)}: {_short(value)} is not a decimal whole number"
            )
        return _whole_number(value, f"{self._where}: {_line(node)}")

    def construct_strict_float(self, node: Node) -> float:
        value = self._scalar(node)
        if _CORE_NAN.match(value):
            return math.nan
        if _CORE_INF.match(value):
            return -math.inf if value.startswith("-") else math.inf
        if not _CORE_FLOAT.match(value):
            raise LibraryError(
                f"{self._where}: {_line(node)}: {_short(value)} is not a decimal number"
            )
        return float(value)


_StrictConstructor.yaml_constructors = {
    **SafeConstructor.yaml_constructors,
    _TAG_PREFIX + "null": _StrictConstructor.construct_strict_null,
    _TAG_PREFIX + "bool": _StrictConstructor.construct_strict_bool,
    _TAG_PREFIX + "int": _StrictConstructor.construct_strict_int,
    _TAG_PREFIX + "float": _StrictConstructor.construct_strict_float,
}


class _PyLoader(Reader, Scanner, Parser, _StrictComposer, _StrictConstructor, _StrictResolver):
    def __init__(self, stream: str, where: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _StrictComposer.__init__(self)
        _StrictConstructor.__init__(self)
        _StrictResolver.__init__(self)
        self._where = where


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _CLoader(_StrictComposer, CParser, _StrictConstructor, _StrictResolver):
        """libyaml scans and parses (about 20x faster on a large file); composing stays in
        Python so the checks above still apply."""

        def __init__(self, stream: str, where: str) -> None:
            CParser.__init__(self, stream)
            _StrictComposer.__init__(self)
            _StrictConstructor.__init__(self)
            _StrictResolver.__init__(self)
            self._where = where


def load_yaml_strict(text: str, where: str) -> Any:
    """YAML with core-schema typing, no aliases, no custom tags, bounded nesting: the loader
    for every YAML the app reads from outside (libraries, template headers)."""
    return _load_yaml(text, where)


def _load_yaml(text: str, where: str) -> Any:
    # Without libyaml (a PyYAML build option) the pure-Python parser does the same, slower.
    loader: _PyLoader | _CLoader | None = None
    try:
        loader = _CLoader(text, where) if yaml.__with_libyaml__ else _PyLoader(text, where)
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where) from None
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_error(exc: yaml.YAMLError, where: str) -> LibraryError:
    if isinstance(exc, ReaderError) and isinstance(exc.character, int):
        code = exc.character
        kind = "an unpaired surrogate" if 0xD800 <= code <= 0xDFFF else "the control character"
        return LibraryError(f"{where}: contains {kind} U+{code:04X}, which YAML does not allow")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "unreadable"
        # libyaml has limits of its own, met before ours on some inputs; say the same thing.
        if "maximum nesting depth" in problem:
            return LibraryError(f"{where}: nested more than {MAX_NESTING} levels deep{at}")
        if "invalid Unicode character escape" in problem:
            problem = "an escape is not a valid Unicode character (an unpaired surrogate?)"
        return LibraryError(f"{where}: not valid YAML: {problem}{at}")
    return LibraryError(f"{where}: not valid YAML: {exc}")


# -- YAML: deterministic dumping --------------------------------------------------------------

_FORCE_DOUBLE_QUOTES = re.compile("[\r\x85\u2028\u2029\ufeff]")


class _Dumper(yaml.SafeDumper):
    """Quotes every string that any common YAML reader could take for something else.

    The resolver used to decide quoting is the union of YAML 1.1 (what PyYAML and many tools
    read: ``yes``, ``NO``, ``12:30``, ``0x1F``, timestamps...) and the 1.2 core schema (``1e3``),
    plus ``y``/``n``; so an exported file reads back as text in either dialect.
    """

    def analyze_scalar(self, scalar: str) -> ScalarAnalysis:
        analysis = super().analyze_scalar(scalar)
        if "\t" in scalar and "\n" in scalar and not analysis.allow_block:
            # PyYAML treats a tab as "special" and double-quotes the whole text, which turns a
            # template indented with tabs into one long escaped line. Tabs are ordinary content
            # in a literal block (indentation is spaces only), so judge the block style as if
            # they were letters; every other reason to refuse a block still applies.
            analysis.allow_block = super().analyze_scalar(scalar.replace("\t", "x")).allow_block
        return analysis

    def ignore_aliases(self, data: Any) -> bool:
        # A value shared by two places is written out twice: readers of our files, including
        # our own importer, refuse anchors and aliases.
        return True

    def determine_block_hints(self, text: str) -> str:
        hints = super().determine_block_hints(text)
        if text.startswith("\t"):
            # libyaml refuses a tab where it is still guessing the indentation; state it.
            hints = str(self.best_indent) + hints
        return hints


def _represent_str(dumper: yaml.SafeDumper, data: str) -> ScalarNode:
    if _FORCE_DOUBLE_QUOTES.search(data):
        # Line separators other than \n would be normalised by a reader inside a block literal.
        style: str | None = '"'
    elif "\n" in data:
        style = "|"
    else:
        style = None
    return dumper.represent_scalar(_TAG_PREFIX + "str", data, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_implicit_resolver(
    _TAG_PREFIX + "float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)
_Dumper.add_implicit_resolver(_TAG_PREFIX + "int", re.compile(r"^0o[0-7]+$"), ["0"])
_Dumper.add_implicit_resolver(_TAG_PREFIX + "bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))


class _HeaderDumper(_Dumper):
    """For template headers, which live inside a Jinja comment ending in ``---#}``: no value may
    span lines there, so multi-line text is double-quoted with ``\\n`` escapes."""


def _represent_header_str(dumper: yaml.SafeDumper, data: str) -> ScalarNode:
    style = '"' if "\n" in data or _FORCE_DOUBLE_QUOTES.search(data) else None
    return dumper.represent_scalar(_TAG_PREFIX + "str", data, style=style)


_HeaderDumper.add_representer(str, _represent_header_str)


def _dump_yaml(data: Any, dumper: type[yaml.SafeDumper] = _Dumper) -> str:
    try:
        return yaml.dump(
            data,
            Dumper=dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            indent=2,
            width=1 << 30,  # never fold long lines: folding is valid YAML but hurts diffs
            line_break="\n",
        )
    except yaml.YAMLError as exc:
        raise LibraryError(f"cannot write this as YAML: {exc}") from exc


# -- JSON: strict loading ---------------------------------------------------------------------

_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


class _DuplicateKeys(dict[str, Any]):
    """An object that had repeated keys; the value check reports it with its path."""

    duplicates: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    duplicates = []
    for key, value in pairs:
        if key in result:
            duplicates.append(key)
        result[key] = value
    if not duplicates:
        return result
    marked = _DuplicateKeys(result)
    marked.duplicates = tuple(duplicates)
    return marked


def _json_constant(name: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]


def _check_json_depth(text: str, where: str) -> None:
    """The JSON parser recurses once per bracket, so depth is measured before it runs; strings
    are skipped whole so that brackets inside them do not count."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        char = match.group()[0]
        if char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                raise LibraryError(
                    f"{where}: line {line}: nested more than {MAX_NESTING} levels deep"
                )
        elif char in "]}":
            depth -= 1


def _load_json(text: str, where: str) -> Any:
    _check_json_depth(text, where)
    try:
        return json.loads(
            text,
            object_pairs_hook=_json_object,
            parse_constant=_json_constant,
            parse_int=lambda digits: _whole_number(digits, where),
        )
    except json.JSONDecodeError as exc:
        raise LibraryError(
            f"{where}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:  # the depth check makes this unreachable; kept as a guard
        raise LibraryError(f"{where}: nested too deeply to read") from None


def _whole_number(digits: str, where: str) -> int:
    if len(digits.lstrip("+-")) > MAX_NUMBER_DIGITS:
        raise LibraryError(f"{where}: a number has more than {MAX_NUMBER_DIGITS} digits")
    return int(digits)


# -- checks shared by both formats ------------------------------------------------------------


def _decode(data: str | bytes, where: str) -> str:
    """Bytes are size-checked before decoding; a UTF-8 BOM is accepted (Windows editors add
    one) and stripped."""
    cap = f"{MAX_LIBRARY_BYTES // (1024 * 1024)} MiB"
    if isinstance(data, bytes):
        if len(data) > MAX_LIBRARY_BYTES:
            raise LibraryError(
                f"{where}: the file is {len(data) / (1024 * 1024):.1f} MiB; "
                f"a library file can be at most {cap}"
            )
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise LibraryError(f"{where}: the file is UTF-16 text; save it as UTF-8")
        data = data.removeprefix(b"\xef\xbb\xbf")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LibraryError(
                f"{where}: not UTF-8 text (byte 0x{data[exc.start]:02X} at offset {exc.start} "
                "cannot be decoded); save the file as UTF-8"
            ) from None
    if len(data) > MAX_LIBRARY_BYTES or (
        len(data.encode("utf-8", "surrogatepass")) > MAX_LIBRARY_BYTES
    ):
        raise LibraryError(f"{where}: the text is larger than {cap}, the limit for a library")
    found = _SURROGATE.search(data)
    if found:
        raise LibraryError(
            f"{where}: contains an unpaired surrogate U+{ord(found.group()):04X}, "
            "which is not valid Unicode"
        )
    return data.removeprefix("\ufeff")


def _value_problems(value: Any, path: str = "") -> Iterator[str]:
    """What neither parser refuses by itself: NaN/infinity, unpaired surrogates (from ``\\ud800``
    escapes) and repeated JSON keys."""
    where = path or "top level"
    if isinstance(value, str):
        found = _SURROGATE.search(value)
        if found:
            yield (
                f"{where}: contains an unpaired surrogate U+{ord(found.group()):04X}, "
                "which is not valid Unicode"
            )
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield f"{where}: NaN and infinite numbers are not allowed (got {value!r})"
    elif isinstance(value, dict):
        if isinstance(value, _DuplicateKeys):
            names = ", ".join(_short(k) for k in dict.fromkeys(value.duplicates))
            yield f"{where}: duplicate key {names}"
        for key, item in value.items():
            if _SURROGATE.search(key):
                yield f"{where}: a key contains an unpaired surrogate, which is not valid Unicode"
            yield from _value_problems(item, _join(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _value_problems(item, _join(path, index))


def _parse(text: str, fmt: LibraryFormat, where: str) -> Any:
    data = _load_json(text, where) if fmt == "json" else _load_yaml(text, where)
    problems = []
    for problem in _value_problems(data):
        problems.append(problem)
        if len(problems) > 5:
            break
    if problems:
        raise LibraryError(_bulleted(where, problems[:5], len(problems) > 5))
    return data


def _bulleted(where: str, messages: Sequence[str], more: bool) -> str:
    if len(messages) == 1 and not more:
        return f"{where}: {messages[0]}"
    lines = [f"{where}:"] + [f"- {m}" for m in messages]
    if more:
        lines.append("- and more")
    return "\n".join(lines)


# -- schema validation ------------------------------------------------------------------------


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "nothing (null)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _expected_text(value: Any) -> str:
    hint = ""
    if isinstance(value, (bool, int, float)):
        hint = " (quote it)"
    elif value is None:
        hint = ' (write "" for empty text)'
    return f"expected text, got {_describe(value)}{hint}"


class _Item:
    """Field access for one item of the document that records every problem with its path,
    so that a report shows all of them at once."""

    def __init__(self, raw: Any, path: str, fields: str) -> None:
        self.path = path
        self.errors: list[str] = []
        self.data: dict[str, Any] = {}
        if isinstance(raw, dict):
            self.data = raw
        else:
            self.error(path, f"expected a mapping with {fields}, got {_describe(raw)}")

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def only(self, *allowed: str) -> None:
        unknown = [k for k in self.data if k not in allowed]
        if unknown:
            names = ", ".join(_short(k, 40) for k in unknown[:5])
            self.error(self.path, f"unknown field(s) {names}; allowed: {', '.join(allowed)}")

    def text(self, key: str, *, required: bool = True, name: bool = False) -> str:
        where = _join(self.path, key)
        if key not in self.data:
            if required:
                self.error(self.path, f"{key!r} is missing")
            return ""
        value = self.data[key]
        if not isinstance(value, str):
            self.error(where, _expected_text(value))
            return ""
        if name:
            if not value.strip():
                self.error(where, "cannot be empty")
            elif "\n" in value or "\r" in value:
                self.error(where, "must be a single line")
            elif len(value) > MAX_NAME_CHARS:
                self.error(where, f"is longer than {MAX_NAME_CHARS} characters")
        return value

    def items(self, key: str, *, required: bool = True) -> list[Any]:
        if key not in self.data:
            if required:
                self.error(self.path, f"{key!r} is missing")
            return []
        value = self.data[key]
        if not isinstance(value, list):
            self.error(_join(self.path, key), f"expected a list, got {_describe(value)}")
            return []
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        if key not in self.data:
            self.error(self.path, f"{key!r} is missing")
            return {}
        value = self.data[key]
        if not isinstance(value, dict):
            self.error(_join(self.path, key), f"expected a mapping, got {_describe(value)}")
            return {}
        return value

    def report(self, kind: ItemKind, name: str, ok_message: str) -> ItemReport:
        label = _clip(name or self.path, 100)
        if self.errors:
            shown = [_clip(e, _MESSAGE_CHARS) for e in self.errors[:5]]
            if len(self.errors) > 5:
                shown.append(f"and {len(self.errors) - 5} more")
            return ItemReport(kind, label, "error", "; ".join(shown))
        return ItemReport(kind, label, "ok", ok_message)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _header_problem(source: str, template_id: str) -> str | None:
    """The header is YAML read by ``parse_template`` with PyYAML's safe loader, which expands
    aliases and recurses without a limit; check it with the strict loader first."""
    match = _TEMPLATE_HEADER.match(source)
    if match is None:
        return None
    try:
        _load_yaml(match.group("yaml"), f"{template_id}: header")
    except LibraryError as exc:
        return str(exc)
    return None


def _template_item(raw: Any, path: str) -> tuple[ItemReport, PromptTemplate | None]:
    item = _Item(raw, path, "'id' and 'source'")
    item.only("id", "source")
    template_id = item.text("id")
    source = item.text("source")
    if template_id and not _TEMPLATE_ID.match(template_id):
        item.error(
            _join(path, "id"),
            f"{_short(template_id)} is not a usable id: use letters, digits, '_', '-' and '.' "
            "(128 at most), starting with a letter, digit or '_'",
        )
    template = None
    if item.ok:
        problem = _header_problem(source, template_id)
        if problem is not None:
            item.error(path, problem)
    if item.ok:
        try:
            template = parse_template(source, template_id)
        except PlaygroundError as exc:
            item.error(path, str(exc))
        except RecursionError:
            item.error(path, f"{template_id}: the template is nested too deeply to compile")
        except Exception as exc:  # a validator must report, never crash, on hostile input
            item.error(path, f"{template_id}: cannot be read ({type(exc).__name__}: {exc})")
    name = template_id if _TEMPLATE_ID.match(template_id) else ""
    ok = f"{template.meta.name} ({template.meta.format})" if template else ""
    return item.report("template", name, ok), template


def _example_set_item(raw: Any, path: str) -> tuple[ItemReport, ExampleSet | None]:
    item = _Item(raw, path, "'name', 'task' and 'examples'")
    item.only("name", "task", "examples")
    name = item.text("name", name=True)
    task = item.text("task", required=False)
    examples = []
    for index, raw_example in enumerate(item.items("examples")):
        where = _join(_join(path, "examples"), index)
        example = _Item(raw_example, where, "'input' and 'output'")
        example.only("input", "output", "rationale")
        value = {"input": example.text("input"), "output": example.text("output")}
        if "rationale" in example.data:
            value["rationale"] = example.text("rationale")
        item.errors.extend(example.errors)
        examples.append(value)
    result = ExampleSet(name, task, tuple(examples)) if item.ok else None
    return item.report("example_set", name, f"{len(examples)} examples"), result


def _preset_item(raw: Any, path: str) -> tuple[ItemReport, Preset | None]:
    item = _Item(raw, path, "'name' and 'params'")
    item.only("name", "params")
    name = item.text("name", name=True)
    params = item.mapping("params")
    stop = params.get("stop")
    if stop is not None and not isinstance(stop, (str, list)):
        item.error(_join(_join(path, "params"), "stop"), "expected a list of text")
    preset = None
    if item.ok:
        try:
            preset = Preset(name, dict(params))
        except SamplingError as exc:
            item.error(_join(path, "params"), str(exc))
    summary = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return item.report("preset", name, summary), preset


def _dataset_item(raw: Any, path: str) -> tuple[ItemReport, Dataset | None]:
    item = _Item(raw, path, "'name', 'task' and 'rows'")
    item.only("name", "task", "rows")
    name = item.text("name", name=True)
    task = item.text("task", required=False)
    rows = [_dataset_row(item, raw_row, _join(_join(path, "rows"), i))
            for i, raw_row in enumerate(item.items("rows"))]
    result = Dataset(name, task, tuple(rows)) if item.ok else None
    return item.report("dataset", name, f"{len(rows)} rows"), result


def _dataset_row(item: _Item, raw: Any, path: str) -> dict[str, Any]:
    row = _Item(raw, path, "variables and 'references'")
    values: dict[str, Any] = {}
    for key in row.data:
        if key == "references":
            continue
        if not key:
            row.error(path, "a variable name cannot be empty")
        values[key] = row.text(key)
    references = []
    for index, ref in enumerate(row.items("references", required=False)):
        if isinstance(ref, str):
            references.append(ref)
        else:
            row.error(_join(_join(path, "references"), index), _expected_text(ref))
    item.errors.extend(row.errors)
    values["references"] = references
    return values


_Check = Callable[[Any, str], tuple[ItemReport, object]]
_SECTIONS: tuple[tuple[str, ItemKind, _Check, str], ...] = (
    ("templates", "template", _template_item, "template id"),
    ("example_sets", "example_set", _example_set_item, "example set"),
    ("presets", "preset", _preset_item, "preset"),
    ("datasets", "dataset", _dataset_item, "dataset"),
)


def _library_from_document(doc: Any, where: str, fmt: LibraryFormat) -> ImportReport:
    if not isinstance(doc, dict):
        found = "an empty file" if doc is None else _describe(doc)
        raise LibraryError(
            f"{where}: not a Prompt Playground library (expected a mapping with 'schema' and "
            f"'version' at the top, got {found})"
        )
    schema = doc.get("schema")
    if schema != SCHEMA:
        got = "no 'schema' field" if "schema" not in doc else f"schema {_short(schema)}"
        raise LibraryError(
            f"{where}: not a Prompt Playground library: it has {got}, expected {SCHEMA!r}"
        )
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise LibraryError(
            f"{where}: 'version' must be a whole number; this app reads version {SCHEMA_VERSION}"
        )
    if version != SCHEMA_VERSION:
        newer = " (it was written by a newer Prompt Playground)" if version > SCHEMA_VERSION else ""
        raise LibraryError(
            f"{where}: library format version {version} is not supported{newer}; "
            f"this app reads version {SCHEMA_VERSION}"
        )

    top = _Item(doc, "", "")
    top.path = "library"
    top.only("schema", "version", "name", "description", *(s[0] for s in _SECTIONS))
    lib_name = top.text("name", name=True)
    description = top.text("description", required=False)
    sections = {key: top.items(key, required=False) for key, *_ in _SECTIONS}
    report = [top.report("library", lib_name or where, "")]

    built: dict[str, list[Any]] = {}
    for key, kind, check, label in _SECTIONS:
        seen: dict[str, str] = {}
        built[key] = []
        for index, raw in enumerate(sections[key]):
            path = _join(key, index)
            entry, value = check(raw, path)
            if value is not None:
                ident = _identity(value)
                if ident in seen:
                    entry = ItemReport(
                        kind, entry.name, "error",
                        f"{path}: another {label} is already called {_short(ident)} "
                        f"({seen[ident]})",
                    )
                    value = None
                else:
                    seen[ident] = path
            report.append(entry)
            built[key].append(value)

    failed = [r for r in report if r.status == "error"]
    if failed:
        lines = [r.message for r in failed[:5]]
        summary = (
            f"{where}: nothing was imported: {len(failed)} of {len(report)} items "
            f"{'has an error' if len(failed) == 1 else 'have errors'}"
        )
        raise LibraryError(
            "\n".join([summary] + [f"- {m}" for m in lines]
                      + ([f"- and {len(failed) - 5} more"] if len(failed) > 5 else [])),
            report,
        )
    library = Library(
        name=lib_name,
        description=description,
        templates=tuple(built["templates"]),
        example_sets=tuple(built["example_sets"]),
        presets=tuple(built["presets"]),
        datasets=tuple(built["datasets"]),
    )
    return ImportReport(library, tuple(report), fmt)


def _identity(value: object) -> str:
    if isinstance(value, PromptTemplate):
        return value.id
    if isinstance(value, (ExampleSet, Preset, Dataset)):
        return value.name
    raise TypeError(type(value).__name__)


# -- export and import ------------------------------------------------------------------------


def library_document(lib: Library) -> dict[str, Any]:
    """The versioned document, keys in schema order (the order is part of the byte-for-byte
    round trip)."""
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "name": lib.name,
        "description": lib.description,
        "templates": [{"id": t.id, "source": t.source} for t in lib.templates],
        "example_sets": [
            {"name": s.name, "task": s.task, "examples": [_example_doc(e) for e in s.examples]}
            for s in lib.example_sets
        ],
        "presets": [
            {"name": p.name, "params": {k: _plain(v) for k, v in p.params.items()}}
            for p in lib.presets
        ],
        "datasets": [
            {"name": d.name, "task": d.task, "rows": [_row_doc(r) for r in d.rows]}
            for d in lib.datasets
        ],
    }


def _example_doc(example: Mapping[str, str]) -> dict[str, str]:
    doc = {"input": example["input"], "output": example["output"]}
    if "rationale" in example:
        doc["rationale"] = example["rationale"]
    return doc


def _row_doc(row: Mapping[str, Any]) -> dict[str, Any]:
    doc = {k: v for k, v in row.items() if k != "references"}
    doc["references"] = list(row.get("references") or [])
    return doc


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def export_library(lib: Library, fmt: LibraryFormat) -> str:
    doc = library_document(lib)
    if fmt == "json":
        try:
            return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise LibraryError(f"cannot write this library as JSON: {exc}") from exc
    if fmt == "yaml":
        return _dump_yaml(doc)
    raise LibraryError(f"unknown library format {fmt!r}; use 'json' or 'yaml'")


def import_library(
    text: str | bytes, fmt: LibraryFormat | None = None, *, filename: str = "library"
) -> ImportReport:
    """Validate a whole library document; raises LibraryError (with ``report``) unless every
    item is valid, so a caller never sees half a library."""
    decoded = _decode(text, filename)
    chosen = _format_for(filename, fmt, decoded)
    doc = _parse(decoded, chosen, filename)
    return _library_from_document(doc, filename, chosen)


def _format_for(filename: str, fmt: LibraryFormat | None, text: str) -> LibraryFormat:
    if fmt is not None:
        if fmt not in ("json", "yaml"):
            raise LibraryError(f"unknown library format {fmt!r}; use 'json' or 'yaml'")
        return fmt
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return "json" if text.lstrip().startswith(("{", "[")) else "yaml"


def _suffix_format(path: Path) -> LibraryFormat:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    raise LibraryError(f"{path.name}: a library file must end in .json, .yaml or .yml")


def write_library(lib: Library, path: Path) -> None:
    """Written to a temporary file and renamed, so an interrupted save never leaves half a
    library behind."""
    data = export_library(lib, _suffix_format(path)).encode("utf-8")
    # Opened with "x" rather than mkstemp so the file gets the usual permissions (mkstemp's are
    # owner-only, which would surprise someone sharing the library).
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with tmp.open("xb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LibraryError(f"{path.name}: cannot write the file ({exc.strerror})") from exc


def read_library(path: Path) -> ImportReport:
    fmt = _suffix_format(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_LIBRARY_BYTES + 1)  # reading more could not change the verdict
    except OSError as exc:
        raise LibraryError(f"{path.name}: cannot read the file ({exc.strerror})") from exc
    return import_library(data, fmt, filename=path.name)


# -- the built-in library ---------------------------------------------------------------------


def load_builtin_library(folder: Path = BUILTIN_DIR) -> Library:
    """Everything shipped in ``templates/``: ``*.j2`` templates (``_`` ids are partials, kept
    because other templates include them), ``examples/*.json`` example sets and
    ``datasets/*.jsonl`` datasets (named after their task), plus the built-in presets.

    It goes through the same validation as an imported file, so the built-in library is always
    one that could be exported and imported again.
    """
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "name": "Built-in",
        "description": "The templates, example sets, datasets and presets shipped with "
        "Prompt Playground.",
        "templates": [
            {"id": path.stem, "source": _read_text(path, folder)}
            for path in sorted(folder.glob("*.j2"))
        ],
        "example_sets": [
            _parse(_read_text(path, folder), "json", _relative(path, folder))
            for path in sorted((folder / "examples").glob("*.json"))
        ],
        "presets": [{"name": p.name, "params": dict(p.params)} for p in BUILTIN_PRESETS],
        "datasets": [
            {"name": path.stem, "task": path.stem, "rows": _read_jsonl(path, folder)}
            for path in sorted((folder / "datasets").glob("*.jsonl"))
        ],
    }
    return _library_from_document(doc, "built-in library", "json").library


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _read_text(path: Path, folder: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LibraryError(f"{_relative(path, folder)}: cannot read ({exc.strerror})") from exc
    return _decode(data, _relative(path, folder))


def _read_jsonl(path: Path, folder: Path) -> list[Any]:
    rows = []
    for number, line in enumerate(_read_text(path, folder).splitlines(), start=1):
        if line.strip():
            rows.append(_parse(line, "json", f"{_relative(path, folder)} line {number}"))
    return rows


# -- llm (simonw/llm) templates ---------------------------------------------------------------

_LLM_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "max_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "num_predict": "max_tokens",
    "seed": "seed",
    "stop": "stop",
    "stop_sequences": "stop",
    "repeat_penalty": "repeat_penalty",
    "repetition_penalty": "repeat_penalty",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
_LLM_UNSUPPORTED = {
    "extract": "extracting the first fenced code block is not supported; the whole reply is kept",
    "extract_last": "extracting the last fenced code block is not supported; the whole reply "
    "is kept",
    "schema_object": "structured output schemas are not supported",
    "fragments": "fragments are not supported",
    "system_fragments": "system fragments are not supported",
    "attachments": "attachments are not supported",
    "attachment_types": "attachments are not supported",
    "tools": "tools are not supported",
    "functions": "tool functions are not supported",
}
_JINJA_RESERVED = frozenset({
    "and", "or", "not", "in", "is", "if", "else", "elif", "endif", "for", "endfor", "true",
    "false", "none", "True", "False", "None", "loop", "self", "caller", "varargs", "kwargs",
    "role", "block", "macro", "import", "include", "extends", "with", "set", "raw", "recursive",
    "super",
})
_LLM_INPUT_HELP = "The main input: what llm reads from standard input or the prompt argument."


def import_llm_template(text: str, name: str) -> LlmImport:  # noqa: C901
    """Convert an llm YAML template (``prompt``, ``system``, ``defaults``, ``options``...).

    ``$var``/``${var}`` become Jinja variables and ``$$`` a literal ``$``; any literal ``{{``,
    ``{%`` or ``{#`` is escaped so it still renders as written. Like llm, a prompt that does not
    use ``$input`` gets the input appended on a new line, and a system-only template sends the
    input as the user turn.
    """
    where = f"llm template {name!r}"
    loaded = _parse(_decode(text, where), "yaml", where)
    if isinstance(loaded, str):
        loaded = {"prompt": loaded}
    if not isinstance(loaded, dict):
        raise LibraryError(f"{where}: expected a mapping with 'prompt' or 'system', "
                           f"got {_describe(loaded)}")
    warnings: list[str] = []
    prompt = _llm_text(loaded, "prompt", where)
    system = _llm_text(loaded, "system", where)
    if not prompt and not system:
        raise LibraryError(f"{where}: has neither 'prompt' nor 'system' text")

    names: dict[str, str] = {}
    order: list[str] = []
    system_body = _llm_to_jinja(system, names, order, warnings) if system else ""
    prompt_body = _llm_to_jinja(prompt, names, order, warnings) if prompt else ""
    input_var = names.get("input")
    appended_input = False
    if not prompt:
        input_var = _jinja_name("input", names, order, warnings)
        prompt_body = _output(input_var)
    elif input_var is None:
        input_var = _jinja_name("input", names, order, warnings)
        prompt_body += "{% if " + input_var + " %}\n" + _output(input_var) + "{% endif %}"
        appended_input = True
    if system:
        body = '{{ role("system") }}\n' + system_body + '\n{{ role("user") }}\n' + prompt_body
    else:
        body = prompt_body

    defaults = loaded.get("defaults") or {}
    if not isinstance(defaults, dict):
        warnings.append(f"'defaults' is {_describe(defaults)}, not a mapping; ignored")
        defaults = {}
    variables: dict[str, dict[str, Any]] = {}
    for original in order:
        jinja_name = names[original]
        spec: dict[str, Any] = {"type": "text"}
        if original in defaults:
            default = defaults[original]
            if isinstance(default, (dict, list)):
                warnings.append(f"default for ${original} is {_describe(default)}; ignored")
            else:
                spec["default"] = str(default)
        elif original == "input" and appended_input:
            spec["default"] = ""
        if original == "input":
            spec["help"] = _LLM_INPUT_HELP
        variables[jinja_name] = spec
    for unused in defaults:
        if unused not in names:
            warnings.append(f"default for ${unused} is not used by the template; ignored")

    params = _llm_params(loaded.get("options"), warnings)
    for key, value in loaded.items():
        if key in ("prompt", "system", "defaults", "options", "name"):
            continue
        if value in (None, False, "", [], {}):
            continue
        if key == "model":
            warnings.append(f"model {_short(value)} is not used: choose a local model instead")
        elif key in _LLM_UNSUPPORTED:
            warnings.append(f"{key}: {_LLM_UNSUPPORTED[key]}; ignored")
        else:
            warnings.append(f"unknown key {_short(key)}; ignored")

    header: dict[str, Any] = {
        "name": name,
        "description": "Imported from an llm template.",
        "format": "chat" if system else "text",
        "variables": variables,
    }
    if params:
        header["params"] = params
    template_id = re.sub(r"[^\w.-]+", "-", name).strip("-.") or "llm-template"
    if not _TEMPLATE_ID.match(template_id):
        template_id = "llm-template"
    source = "{#---\n" + _dump_yaml(header, _HeaderDumper) + "---#}\n" + body
    try:
        template = parse_template(source, template_id)
    except PlaygroundError as exc:
        raise LibraryError(f"{where}: the converted template is not valid: {exc}") from exc
    return LlmImport(template, tuple(warnings))


def _output(expression: str) -> str:
    return "{{ " + expression + " }}"


def _llm_text(loaded: Mapping[str, Any], key: str, where: str) -> str:
    value = loaded.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise LibraryError(f"{where}: {key!r}: {_expected_text(value)}")
    return value


def _escape_jinja_literal(text: str) -> str:
    # A "{" that opens a Jinja delimiter, or that the next {{ variable }} would join into one.
    return re.sub(r"\{(?=[{%#]|\Z)", "{{ '{' }}", text)


def _llm_to_jinja(
    text: str, names: dict[str, str], order: list[str], warnings: list[str]
) -> str:
    out: list[str] = []
    literal: list[str] = []
    position = 0
    for match in string.Template.pattern.finditer(text):
        literal.append(text[position:match.start()])
        position = match.end()
        if match.group("escaped") is not None:
            literal.append("$")
        elif match.group("invalid") is not None:
            literal.append("$")
            line = text.count("\n", 0, match.start()) + 1
            warnings.append(f"line {line}: a '$' not followed by a variable name is kept as '$'")
        else:
            var = match.group("named") or match.group("braced")
            out.append(_escape_jinja_literal("".join(literal)))
            literal = []
            out.append(_output(_jinja_name(var, names, order, warnings)))
    literal.append(text[position:])
    out.append(_escape_jinja_literal("".join(literal)))
    return "".join(out)


def _jinja_name(
    original: str, names: dict[str, str], order: list[str], warnings: list[str]
) -> str:
    if original in names:
        return names[original]
    candidate = original
    taken = set(names.values())
    while not _usable_jinja_name(candidate) or candidate in taken:
        candidate += "_"
    if candidate != original:
        warnings.append(f"${original} is renamed {candidate}: {original!r} has a meaning in Jinja")
    names[original] = candidate
    order.append(original)
    return candidate


def _usable_jinja_name(name: str) -> bool:
    if name in _JINJA_RESERVED:
        return False
    try:
        ast = environment().parse(_output(name))
    except jinja2.TemplateSyntaxError:
        return False
    return jinja2.meta.find_undeclared_variables(ast) == {name}


def _llm_params(options: Any, warnings: list[str]) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict):
        warnings.append(f"'options' is {_describe(options)}, not a mapping; ignored")
        return {}
    params: dict[str, Any] = {}
    for key, value in options.items():
        target = _LLM_OPTIONS.get(key)
        if target is None:
            warnings.append(f"option {_short(key)} has no equivalent here; ignored")
            continue
        if target in params:
            warnings.append(f"option {_short(key)} repeats {target}; ignored")
            continue
        try:
            SamplingParams.from_dict({target: value})
        except SamplingError as exc:
            warnings.append(f"option {_short(key)}: {exc}; ignored")
            continue
        params[target] = value
    return params


# -- promptfoo export -------------------------------------------------------------------------

_INCLUDE = re.compile(
    r"\{%(?P<left>-?)\s*include\s+(?P<q>[\"'])(?P<name>[^\"'\n]+)(?P=q)\s*(?P<right>-?)%\}"
)
_ROLE_MARKER = re.compile(
    r"\{\{-?\s*role\(\s*(?P<q>[\"'])(?P<role>system|user|assistant)(?P=q)\s*\)\s*-?\}\}"
)
_PORTABLE_FILTERS = frozenset({
    "abs", "capitalize", "d", "default", "first", "float", "int", "join", "last", "length",
    "lower", "replace", "reverse", "string", "title", "trim", "upper", "wordcount",
})
_PORTABLE_TESTS = frozenset({"defined", "undefined", "divisibleby", "even", "odd", "string",
                             "number"})
_PORTABLE_COMPARE = frozenset({"eq", "ne", "lt", "gt", "lteq", "gteq", "in", "notin"})
_PORTABLE_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Getattr,
    nodes.If, nodes.CondExpr, nodes.For, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos,
    nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.Mod, nodes.Assign, nodes.AssignBlock,
    nodes.List, nodes.Dict, nodes.Pair, nodes.Compare, nodes.Operand, nodes.Getitem,
    nodes.Filter, nodes.Test,
)

_CONSTRUCTS = {
    "With": "{% with %}",
    "Slice": "a slice such as x[:2]",
    "Call": "a function or method call",
    "Include": "{% include %}",
    "Macro": "a macro",
    "CallBlock": "a call block",
    "Concat": "the ~ operator",
    "FilterBlock": "a filter block",
    "Scope": "a scoped block",
    "Tuple": "a tuple",
    "Block": "a block",
    "Extends": "{% extends %}",
}


def export_promptfoo(
    lib: Library,
    template_ids: Sequence[str],
    dataset_name: str,
    *,
    providers: Sequence[Mapping[str, Any]] = PROMPTFOO_PROVIDERS,
    threshold: float = 0.5,
) -> str:
    """A promptfoo config (YAML) running the chosen templates on one dataset, scored with
    ROUGE-N against each reference (promptfoo passes a test only when all its assertions pass).

    promptfoo renders prompts with Nunjucks, which shares Jinja's basic syntax but not all of
    it. A template whose body uses only the common subset is exported as its body (includes
    inlined); a chat template becomes Nunjucks that builds the JSON message list, each turn
    captured with ``{% set %}`` and written with ``| dump`` so any value stays valid JSON.
    Anything else (``{% with %}``, slices, turns built in a loop...) is rendered here for each
    row and handed to promptfoo as a variable, so every prompt sends exactly what the app
    would.
    """
    dataset = lib.dataset(dataset_name)
    if dataset is None:
        raise LibraryError(f"promptfoo export: there is no dataset {dataset_name!r}")
    templates = []
    for template_id in template_ids:
        template = lib.template(template_id)
        if template is None:
            raise LibraryError(f"promptfoo export: there is no template {template_id!r}")
        templates.append(template)
    if not templates:
        raise LibraryError("promptfoo export: choose at least one template")

    sources = lib.sources()
    prompts: list[dict[str, str]] = []
    notes: list[str] = []
    shared: dict[str, Any] = {}
    rendered: list[tuple[PromptTemplate, str]] = []
    used_vars: set[str] = set()
    for template in templates:
        raw, reason = _portable_prompt(template, sources)
        if raw is None:
            var = _unique_var("rendered_" + re.sub(r"\W", "_", template.id), used_vars)
            is_chat = template.meta.format == "chat"
            raw = _output(var + " | dump") if is_chat else _output(var)
            rendered.append((template, var))
            notes.append(f"{template.id}: rendered per test by Prompt Playground ({reason})")
        else:
            for variable in template.meta.variables:
                value = _variable_value(lib, template, variable.name)
                if value is not None:
                    shared.setdefault(variable.name, value)
        prompts.append({"label": template.id, "raw": raw})

    tests = []
    for index, row in enumerate(dataset.rows):
        values = {k: v for k, v in row.items() if k != "references"}
        test_vars = {**{k: v for k, v in shared.items() if k not in values}, **values}
        for template, var in rendered:
            test_vars[var] = _render_for_promptfoo(lib, template, values, sources, index)
        test: dict[str, Any] = {"description": f"{dataset.name} #{index + 1}", "vars": test_vars}
        references = row.get("references") or []
        if references:
            test["assert"] = [
                {"type": "rouge-n", "value": ref, "threshold": threshold} for ref in references
            ]
        tests.append(test)

    config = {
        "description": f"{lib.name}: {len(templates)} prompt(s) on the {dataset.name} dataset",
        "prompts": prompts,
        "providers": [_plain_mapping(p) for p in providers],
        "tests": tests,
    }
    comments = [
        f"promptfoo configuration exported by Prompt Playground from {lib.name!r}.",
        "Run it with: npx promptfoo@latest eval -c <this file>",
        *notes,
    ]
    header = "".join(f"# {' '.join(c.split())}\n" for c in comments)
    return header + _dump_yaml(config)


def _plain_mapping(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_mapping(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_mapping(v) for v in value]
    return value


def _unique_var(name: str, used: set[str]) -> str:
    while name in used:
        name += "_"
    used.add(name)
    return name


def _variable_value(lib: Library, template: PromptTemplate, name: str) -> Any:
    variable = template.variable(name)
    if variable is None:
        return None
    if variable.type == "examples":
        set_name = variable.default_set or template.meta.example_set
        example_set = lib.example_set(set_name) if set_name else None
        return [dict(e) for e in example_set.examples] if example_set else None
    return variable.default


def _render_for_promptfoo(
    lib: Library,
    template: PromptTemplate,
    values: Mapping[str, Any],
    sources: Mapping[str, str],
    index: int,
) -> Any:
    context = dict(values)
    for variable in template.meta.variables:
        if variable.name not in context and variable.type == "examples":
            examples = _variable_value(lib, template, variable.name)
            if examples is not None:
                context[variable.name] = examples
    try:
        result = render_template(template, context, library=sources)
    except TemplateError as exc:
        raise LibraryError(f"promptfoo export: row {index + 1}: {exc}") from exc
    if result.messages is not None:
        return [{"role": m.role, "content": m.content} for m in result.messages]
    return result.text


def _inline_includes(body: str, sources: Mapping[str, str], depth: int = 0) -> str | None:
    """Replace ``{% include "id" %}`` with the partial's body (promptfoo has no access to the
    library); None when an include cannot be resolved."""
    if depth > 10:
        return None
    failed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal failed
        name = match.group("name").removesuffix(".j2").removesuffix(".jinja")
        source = sources.get(name)
        if source is None:
            failed = True
            return match.group()
        header = _TEMPLATE_HEADER.match(source)
        inner = _inline_includes(source[header.end():] if header else source, sources, depth + 1)
        if inner is None:
            failed = True
            return match.group()
        # Empty outputs on both sides keep whitespace control where it was: the partial's own
        # "-" cannot reach into the including template, nor the include's into the partial.
        left = '{{- "" }}' if match.group("left") else '{{ "" }}'
        right = '{{ "" -}}' if match.group("right") else '{{ "" }}'
        return left + inner + right

    result = _INCLUDE.sub(replace, body)
    return None if failed else result


def _portable_prompt(
    template: PromptTemplate, sources: Mapping[str, str]
) -> tuple[str | None, str]:
    """The promptfoo prompt for a template whose body Nunjucks can run, else (None, why)."""
    body = _inline_includes(template.body, sources)
    if body is None:
        return None, "it includes a template that cannot be inlined"
    if template.meta.format != "chat":
        reason = _nunjucks_problem(body)
        return (body, "") if reason is None else (None, reason)
    markers = list(_ROLE_MARKER.finditer(body))
    if not markers or body[: markers[0].start()].strip():
        return None, "its chat turns do not start with role(...)"
    try:
        ast = environment().parse(body)
    except jinja2.TemplateSyntaxError:
        return None, "its body does not compile"
    top_level = [
        node for output in ast.body if isinstance(output, nodes.Output) for node in output.nodes
    ]
    if sum(map(_is_role_call, ast.find_all(nodes.Call))) != sum(map(_is_role_call, top_level)):
        return None, "its chat turns are built in a loop, a condition or a block"
    if sum(map(_is_role_call, top_level)) != len(markers):
        return None, "its role(...) markers could not be told apart"
    turns = []
    for number, marker in enumerate(markers):
        end = markers[number + 1].start() if number + 1 < len(markers) else len(body)
        piece = body[marker.end():end]
        reason = _nunjucks_problem(piece)
        if reason is not None:
            return None, reason
        turns.append((marker.group("role"), piece))
    captured = "".join(
        f"{{% set pp_turn_{n} %}}{piece}{{% endset %}}" for n, (_, piece) in enumerate(turns)
    )
    messages = ", ".join(
        f'{{"role": "{role}", "content": {_output(f"pp_turn_{n} | trim | dump")}}}'
        for n, (role, _) in enumerate(turns)
    )
    return f"{captured}[{messages}]", ""


def _is_role_call(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "role"
    )


def _nunjucks_problem(body: str) -> str | None:
    """Why Nunjucks could not run this Jinja, or None. Conservative: a construct missing here
    only means the prompt is rendered by the app instead."""
    try:
        ast = environment().parse(body)
    except jinja2.TemplateSyntaxError as exc:
        return f"line {exc.lineno} does not compile"
    stack: list[nodes.Node] = [ast]
    while stack:
        node = stack.pop()
        if not isinstance(node, _PORTABLE_NODES):
            construct = _CONSTRUCTS.get(type(node).__name__, type(node).__name__)
            return f"it uses {construct}, which promptfoo's Nunjucks may not run the same way"
        if isinstance(node, nodes.Filter) and (
            node.name not in _PORTABLE_FILTERS or node.kwargs or node.dyn_args or node.dyn_kwargs
        ):
            return f"it uses the filter {node.name!r} in a way Nunjucks may not support"
        if isinstance(node, nodes.Test) and node.name not in _PORTABLE_TESTS:
            return f"it uses the test {node.name!r}"
        if isinstance(node, nodes.Operand) and node.op not in _PORTABLE_COMPARE:
            return f"it uses the comparison {node.op!r}"
        if isinstance(node, nodes.For) and (node.recursive or node.test is not None):
            return "it uses a filtered or recursive loop"
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            return "it indexes with an expression"
        if isinstance(node, nodes.Name) and node.name == "role":
            return "it calls role() inside a turn"
        stack.extend(node.iter_child_nodes())
    return None
