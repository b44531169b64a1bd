"""Library documents on disk: strict reading and deterministic writing of JSON and YAML.

A library file is untrusted input that may come from anywhere, so reading one is strict: the
bytes are size-capped, decoded as UTF-8, parsed with depth, alias and tag limits, and checked
for what neither parser refuses by itself (NaN, unpaired surrogates, repeated keys). Nothing is
guessed: YAML is read with the 1.2 core schema, so ``NO``, ``1.10`` and ``12:30`` stay text
instead of becoming false, 1.1 and 750 as YAML 1.1 would have it.

Writing is deterministic and quotes every string any common reader could take for something
else, so export -> import -> export gives the same bytes in JSON and YAML. What the document
holds (templates, example sets...) is the library model's business, not this module's: here
are only the bytes, the parsers, and the schema name and version at the top.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path, PurePath
from typing import Any, Literal, NamedTuple

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.emitter import ScalarAnalysis
from yaml.events import AliasEvent, CollectionStartEvent, Event, NodeEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from playground.errors import PlaygroundError

SCHEMA = "prompt-playground/library"
SCHEMA_VERSION = 1
MAX_LIBRARY_BYTES = 16 * 1024 * 1024
MAX_NESTING = 64
MAX_NUMBER_DIGITS = 100

LibraryFormat = Literal["json", "yaml"]
ItemKind = Literal["library", "template", "example_set", "preset", "dataset"]
ItemStatus = Literal["ok", "error"]

_SURROGATE = re.compile("[\ud800-\udfff]")


class ItemReport(NamedTuple):
    """The verdict on one item of a document (the library itself, a template, a preset...)."""

    kind: ItemKind
    name: str
    status: ItemStatus
    message: str


class LibraryError(PlaygroundError):
    """A library file (or an llm template) cannot be imported, exported or read.

    ``report`` lists every item of the document with its own verdict when the document could
    be parsed; it is empty when the file was refused as a whole (too large, not UTF-8...).
    """

    def __init__(self, message: str, report: Sequence[ItemReport] = ()) -> None:
        super().__init__(message)
        self.report: tuple[ItemReport, ...] = tuple(report)


# -- describing values in messages ------------------------------------------------------------


def join_path(path: str, key: str | int) -> str:
    """The place of a value in a document, as messages name it: ``presets[2].params``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: Any) -> str:
    """What a value is, in the words of someone editing the file."""
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


def expected_text(value: Any) -> str:
    """The message for a value that should have been text, with the fix when there is one."""
    hint = ""
    if isinstance(value, (bool, int, float)):
        hint = " (quote it)"
    elif value is None:
        hint = ' (write "" for empty text)'
    return f"expected text, got {describe(value)}{hint}"


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
                    f"{describe(key)} (quote it)"
                )
            if key in mapping:
                raise LibraryError(
                    f"{self._where}: {_line(key_node)}: duplicate key {short(key)}"
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
            raise LibraryError(f"{self._where}: {_line(node)}: {short(value)} is not null")

    def construct_strict_bool(self, node: Node) -> bool:
        value = self._scalar(node)
        if value not in ("true", "false"):
            raise LibraryError(
                f"{self._where}: {_line(node)}: {short(value)} is not true or false"
            )
        return value == "true"

    def construct_strict_int(self, node: Node) -> int:
        value = self._scalar(node)
        if not _CORE_INT.match(value):
            raise LibraryError(
                f"{self._where}: {_line(node)}: {short(value)} is not a decimal whole number"
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
                f"{self._where}: {_line(node)}: {short(value)} is not a decimal number"
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
    for every YAML the app reads from outside (libraries, template headers, llm templates,
    comparison specs)."""
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


def dump_yaml(data: Any, *, header: bool = False) -> str:
    """Block-style YAML in insertion order; ``header`` for the metadata header of a template,
    where no value may span lines."""
    try:
        return yaml.dump(
            data,
            Dumper=_HeaderDumper if header else _Dumper,
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


def decode(data: str | bytes, where: str) -> str:
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
            names = ", ".join(short(k) for k in dict.fromkeys(value.duplicates))
            yield f"{where}: duplicate key {names}"
        for key, item in value.items():
            if _SURROGATE.search(key):
                yield f"{where}: a key contains an unpaired surrogate, which is not valid Unicode"
            yield from _value_problems(item, join_path(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _value_problems(item, join_path(path, index))


def parse_document(text: str, fmt: LibraryFormat, where: str) -> Any:
    """Plain data from decoded text, refused with the first few problems by place."""
    data = _load_json(text, where) if fmt == "json" else load_yaml_strict(text, where)
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



# -- the document and its file ----------------------------------------------------------------


def check_document(doc: Any, where: str) -> dict[str, Any]:
    """The top of a parsed document: a mapping naming this schema, in the version this app
    reads. A newer version is refused with that said, rather than read in part."""
    if not isinstance(doc, dict):
        found = "an empty file" if doc is None else describe(doc)
        raise LibraryError(
            f"{where}: not a Prompt Playground library (expected a mapping with 'schema' and "
            f"'version' at the top, got {found})"
        )
    schema = doc.get("schema")
    if schema != SCHEMA:
        got = "no 'schema' field" if "schema" not in doc else f"schema {short(schema)}"
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
    return doc


def write_document(doc: Any, fmt: LibraryFormat) -> str:
    """The text of a document in either format; JSON refuses NaN as the reader would."""
    if fmt == "json":
        try:
            return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise LibraryError(f"cannot write this library as JSON: {exc}") from exc
    if fmt == "yaml":
        return dump_yaml(doc)
    raise LibraryError(f"unknown library format {fmt!r}; use 'json' or 'yaml'")


def format_for(filename: str, fmt: LibraryFormat | None, text: str) -> LibraryFormat:
    """The format asked for, else the one the file name says, else the one the text looks
    like (JSON starts with a bracket)."""
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


def suffix_format(path: Path) -> LibraryFormat:
    """The format of a library file on disk, which its suffix must name."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    raise LibraryError(f"{path.name}: a library file must end in .json, .yaml or .yml")


def export_path(path: Path, fmt: str) -> Path:
    """Where an export in ``fmt`` goes: a file name without a library suffix gets the format's;
    one naming the other format is refused rather than holding what it does not say."""
    if fmt not in ("json", "yaml"):
        raise LibraryError(f"unknown library format {fmt!r}; use 'json' or 'yaml'")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        return path.with_name(f"{path.name}.{fmt}")
    if (suffix == ".json") != (fmt == "json"):
        raise LibraryError(f"{path.name} ends in {suffix} but {fmt.upper()} was chosen; "
                           "change the file name or the format")
    return path


def read_capped(path: Path) -> bytes:
    """A file's bytes, one past the size cap at most: reading more could not change the
    verdict, and a huge file is refused without being read whole."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_LIBRARY_BYTES + 1)
    except OSError as exc:
        raise LibraryError(f"{path.name}: cannot read the file ({exc.strerror})") from exc


def write_atomically(path: Path, text: str) -> None:
    """Written to a temporary file and renamed, so an interrupted save never leaves half a
    file behind."""
    data = text.encode("utf-8")
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
