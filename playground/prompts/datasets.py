"""Datasets from files: CSV, TSV, JSON Lines and JSON, turned into comparison inputs.

Dataset files come from spreadsheets, scripts and other tools, so they are read strictly but
explained kindly: every refusal names the file and, where it helps, the line, row and column,
and says what to do about it. Text stays text: a CSV cell ``007`` or ``1.10`` reaches the
template exactly as written, never as a number.

Reference outputs are what the metrics compare a generation with. They come from a column
named like one (``references``, ``reference_1``, ``expected``...) or from the columns the
caller names. A dataset without references is still useful (outputs can be read and compared
by eye), so a missing reference column is a warning rather than an error; its scores are N/A.

Rows are numbered from 1 in the order they appear, ignoring blank lines, so "row 3" in a
warning is the input whose id ends in ``-3``.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.comparison import ComparisonError, Input, inputs_from_rows
from playground.prompts.library import Dataset

MAX_DATASET_BYTES = 64 * 1024 * 1024
MAX_DATASET_ROWS = 100_000
SUFFIXES: Mapping[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
REFERENCES = "references"

# Reference columns are detected by name. The first group with a match wins, so a file with
# both ``expected`` and ``output`` columns uses ``expected`` as the reference and keeps
# ``output`` as a template variable (it is often a previous model's answer, not the truth).
_NUMBER = r"(?:[ _-]?[0-9]+)?"
_REFERENCE_GROUPS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern + _NUMBER + r"\Z", re.IGNORECASE)
    for pattern in (
        r"(?:references?|refs?)",
        r"expected(?:[ _-]?(?:outputs?|answers?))?",
        r"targets?",
        r"answers?",
        r"outputs?",
    )
)
_LOOKED_FOR = "references, reference, reference_1…, ref, expected, target, answer or output"
_MAX_LISTED = 10


class DatasetError(ComparisonError):
    """A dataset file cannot be used as given; the message says where and how to fix it."""


@dataclass(frozen=True)
class LoadedDataset:
    """A dataset ready to compare on.

    ``rows`` keep the variables and a ``references`` list, the shape library datasets use, so
    a loaded file can be saved into a library; ``inputs`` are the same rows with stable ids.
    ``columns`` are the columns of the source as written; ``reference_columns`` are those the
    references were taken from. ``warnings`` are problems that do not stop a run.
    """

    name: str
    rows: tuple[dict[str, Any], ...]
    inputs: tuple[Input, ...]
    columns: tuple[str, ...]
    reference_columns: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def input_columns(self) -> tuple[str, ...]:
        """The template variables the rows provide, in the order they first appear."""
        return _ordered_keys(self.rows, exclude=REFERENCES)


@dataclass(frozen=True)
class _Record:
    """One parsed row before references are split off: ``where`` names it in messages."""

    number: int
    where: str
    values: dict[str, Any]


# -- entry points -----------------------------------------------------------------------------


def load_dataset(
    path: Path,
    *,
    input_columns: Sequence[str] | None = None,
    reference_columns: Sequence[str] | None = None,
    max_bytes: int = MAX_DATASET_BYTES,
    max_rows: int = MAX_DATASET_ROWS,
) -> LoadedDataset:
    """Read a dataset file chosen by the user.

    ``input_columns`` limits the template variables to those columns (default: every column
    that is not a reference). ``reference_columns`` names the columns holding reference
    outputs (default: detected by name; an empty sequence means "no references"). Several
    reference columns give each input several references; empty cells are skipped.

    Values of JSON files are kept as they are in input columns (a number stays a number, as
    the template may format it); references must be text, so numbers there are converted with
    ``str()``, which is what a reader of the file would expect to compare against.
    """
    path = Path(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(
            f"{path.name}: unsupported file type {path.suffix or '(no extension)'!r}; "
            "use .csv, .tsv, .jsonl or .json"
        )
    text = _read_text(path, max_bytes)
    if fmt in ("csv", "tsv"):
        columns, records, warnings = _parse_csv(path.name, text, fmt, max_rows)
    elif fmt == "jsonl":
        columns, records = _parse_jsonl(path.name, text, max_rows)
        warnings = []
    else:
        columns, records = _parse_json(path.name, text, max_rows)
        warnings = []
    return _build(
        path.name,
        path.stem,
        columns,
        records,
        input_columns=input_columns,
        reference_columns=reference_columns,
        json_cells=fmt in ("csv", "tsv"),
        warnings=warnings,
    )


def dataset_from_library(dataset: Dataset) -> LoadedDataset:
    """A library dataset in the same shape as a loaded file, so the comparison screen treats
    built-in demo datasets and user files alike."""
    rows: list[dict[str, Any]] = []
    for row in dataset.rows:
        refs = row.get(REFERENCES, ())
        refs = [refs] if isinstance(refs, str) else [str(r) for r in refs]
        values = {k: v for k, v in row.items() if k != REFERENCES}
        rows.append({**values, REFERENCES: [r for r in refs if r.strip()]})
    warnings = []
    unreferenced = [n for n, row in enumerate(rows, 1) if not row[REFERENCES]]
    if unreferenced:
        warnings.append(_unreferenced_warning(dataset.name, unreferenced))
    return LoadedDataset(
        name=dataset.name,
        rows=tuple(rows),
        inputs=inputs_from_rows(rows, prefix=dataset.name),
        columns=(*_ordered_keys(rows, exclude=REFERENCES), REFERENCES),
        reference_columns=(REFERENCES,),
        warnings=tuple(warnings),
    )


# -- bytes to text ----------------------------------------------------------------------------


def _read_text(path: Path, max_bytes: int) -> str:
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DatasetError(_too_large(name, size, max_bytes))
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may grow between stat and read
    except OSError as exc:
        raise DatasetError(f"{name}: cannot read the file ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise DatasetError(_too_large(name, len(data), max_bytes))
    return _decode(name, data)


def _too_large(name: str, size: int, limit: int) -> str:
    return (
        f"{name}: the file is {_mib(size)}, larger than the {_mib(limit)} limit for a dataset; "
        "split it into smaller files"
    )


def _mib(size: int) -> str:
    mib = 1024 * 1024
    if size < mib:
        return f"{size:,} bytes"
    return f"{size // mib} MiB" if size % mib == 0 else f"{size / mib:.1f} MiB"


_RESAVE = "re-save it as UTF-8 (in Excel: \"CSV UTF-8\"; in a text editor: encoding UTF-8)"


def _decode(name: str, data: bytes) -> str:
    """UTF-8 only, because guessing a legacy encoding silently changes the text that the
    model sees and the metrics compare; the common wrong encodings are named to help."""
    if data.startswith(b"PK\x03\x04"):
        raise DatasetError(
            f"{name}: this is a ZIP archive (an Excel workbook?), not a text file; "
            "export the sheet as \"CSV UTF-8\""
        )
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise DatasetError(f"{name}: the file is encoded as UTF-32, not UTF-8; {_RESAVE}")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(data):
        raise DatasetError(
            f"{name}: the file is encoded as UTF-16 (Excel's \"Unicode text\"), not UTF-8; "
            f"{_RESAVE}"
        )
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(
            f"{name}: the file is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line} "
            f"is not valid UTF-8; it may be Latin-1 or Windows-1252); {_RESAVE}"
        ) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise DatasetError(
            f"{name}: line {line} contains a NUL character; this looks like a binary file, "
            "not a text dataset"
        )
    if not text.strip():
        raise DatasetError(f"{name}: the file is empty")
    return text


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a NUL in every other byte."""
    sample = data[:4096]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.4


# -- text to records --------------------------------------------------------------------------


def _parse_csv(
    name: str, text: str, fmt: str, max_rows: int
) -> tuple[tuple[str, ...], list[_Record], list[str]]:
    delimiter = "\t" if fmt == "tsv" else ","
    separator = "a tab" if fmt == "tsv" else "a comma"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    records: list[_Record] = []
    short: list[int] = []
    last_line = 0
    try:
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank lines and rows of empty cells (",,,") carry nothing
            if header is None:
                header = _csv_header(name, fields, delimiter)
                continue
            number = len(records) + 1
            where = f"row {number} (line {line})"
            if len(fields) > len(header) and any(f.strip() for f in fields[len(header):]):
                raise DatasetError(
                    f"{name}: {where} has {len(fields)} fields but the header has "
                    f"{len(header)} columns ({_names(header)}); quote values that contain "
                    f"{separator}"
                )
            if len(fields) < len(header):
                short.append(number)
                fields = fields + [""] * (len(header) - len(fields))
            if number > max_rows:
                raise DatasetError(_too_many_rows(name, max_rows))
            values = dict(zip(header, fields[: len(header)], strict=True))
            records.append(_Record(number, where, values))
    except csv.Error as exc:
        if "field larger" in str(exc):
            problem = f"a value is longer than {csv.field_size_limit():,} characters"
        else:
            problem = (
                f"{exc} (check the quotes: a value that contains quotes must be enclosed in "
                'quotes, with each inner " doubled)'
            )
        raise DatasetError(f"{name}: line {reader.line_num}: {problem}") from None
    if header is None:  # cannot happen with a non-blank file, but keeps the types honest
        raise DatasetError(f"{name}: the file is empty")
    if not records:
        raise DatasetError(f"{name}: the file has a header ({_names(header)}) but no rows")
    warnings = []
    if short:
        warnings.append(
            f"{name}: {_rows(short)} {_have(short)} fewer fields than the header's "
            f"{len(header)}; the missing values are left empty"
        )
    if len(header) == 1 and delimiter == "," and (";" in header[0] or "\t" in header[0]):
        warnings.append(
            f"{name}: the header has a single column {header[0]!r}; if the file separates "
            "values with ';' or tabs, save it with commas or use the .tsv extension for tabs"
        )
    return tuple(header), records, warnings


def _csv_header(name: str, fields: list[str], delimiter: str) -> list[str]:
    header = [f.strip() for f in fields]
    while header and not header[-1]:
        header.pop()  # spreadsheets often leave trailing empty columns
    for index, column in enumerate(header, 1):
        if not column:
            raise DatasetError(
                f"{name}: column {index} of the header has no name; give every column a name"
            )
    duplicates = _duplicates(header)
    if duplicates:
        raise DatasetError(
            f"{name}: the header has duplicate column names ({_names(duplicates)}); "
            "rename them so each column is distinct"
        )
    return header


def _parse_jsonl(name: str, text: str, max_rows: int) -> tuple[tuple[str, ...], list[_Record]]:
    records: list[_Record] = []
    # Not splitlines(): it also splits on U+2028 and friends, which JSON strings may contain.
    for line_number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        where = f"line {line_number}"
        value = _json_value(name, line, where)
        if not isinstance(value, dict):
            raise DatasetError(
                f"{name}: {where} is {_describe(value)}, not an object; each line must be one "
                'JSON object such as {"text": "...", "references": ["..."]}'
            )
        if len(records) >= max_rows:
            raise DatasetError(_too_many_rows(name, max_rows))
        records.append(_Record(len(records) + 1, where, value))
    return _json_columns(name, records), records


def _parse_json(name: str, text: str, max_rows: int) -> tuple[tuple[str, ...], list[_Record]]:
    value = _json_value(name, text, "")
    if not isinstance(value, list):
        raise DatasetError(
            f"{name}: the file holds {_describe(value)}; a .json dataset must be a list of "
            'objects such as [{"text": "...", "references": ["..."]}]'
        )
    if len(value) > max_rows:
        raise DatasetError(_too_many_rows(name, max_rows))
    records = []
    for number, item in enumerate(value, 1):
        where = f"item {number}"
        if not isinstance(item, dict):
            raise DatasetError(f"{name}: {where} of the list is {_describe(item)}, not an object")
        records.append(_Record(number, where, item))
    return _json_columns(name, records), records


def _json_value(name: str, text: str, where: str) -> Any:
    """One JSON document, refusing what would silently lose or invent data: duplicate keys
    (the last would win) and NaN/Infinity (not JSON, and meaningless as template input)."""
    prefix = f"{name}: {where}: " if where else f"{name}: "
    try:
        return json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as exc:
        place = f"column {exc.colno}" if where else f"line {exc.lineno}, column {exc.colno}"
        raise DatasetError(f"{prefix}not valid JSON ({exc.msg} at {place})") from None
    except _JsonValueError as exc:
        raise DatasetError(f"{prefix}{exc}") from None
    except RecursionError:
        raise DatasetError(f"{prefix}the JSON is nested too deeply") from None


class _JsonValueError(ValueError):
    """Raised from inside the JSON parser's hooks, turned into a located DatasetError."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _JsonValueError(f"duplicate key {key!r} in an object")
        result[key] = value
    return result


def _refuse_constant(constant: str) -> Any:
    raise _JsonValueError(f"{constant} is not allowed; write the value as text or a number")


def _json_columns(name: str, records: list[_Record]) -> tuple[str, ...]:
    if not records:
        raise DatasetError(f"{name}: the file has no rows")
    for record in records:
        if "" in record.values:
            raise DatasetError(f"{name}: {record.where}: a key is empty; give every value a name")
    columns = _ordered_keys((r.values for r in records), exclude=None)
    if not columns:
        raise DatasetError(f"{name}: the rows are all empty objects")
    return columns


# -- records to a dataset ---------------------------------------------------------------------


def _build(
    name: str,
    stem: str,
    columns: tuple[str, ...],
    records: list[_Record],
    *,
    input_columns: Sequence[str] | None,
    reference_columns: Sequence[str] | None,
    json_cells: bool,
    warnings: list[str],
) -> LoadedDataset:
    inputs_given = _check_columns(name, "input", input_columns, columns)
    refs_given = _check_columns(name, "reference", reference_columns, columns)
    both = [c for c in inputs_given or () if c in (refs_given or ())]
    if both:
        raise DatasetError(
            f"{name}: {_names(both)} cannot be both an input and a reference column"
        )
    if refs_given is None:
        candidates = [c for c in columns if inputs_given is None or c not in inputs_given]
        refs, skipped = _detect_references(candidates)
        if not refs:
            warnings.append(
                f"{name}: no reference column found (looked for {_LOOKED_FOR}); the dataset "
                "can still be run, but reference-based scores will be N/A. Name the reference "
                "column to use one."
            )
        elif skipped and inputs_given is None:
            one = len(skipped) == 1
            warnings.append(
                f"{name}: {_names(skipped)} also "
                f"{'looks like a reference column' if one else 'look like reference columns'} "
                f"but {'is used as an input' if one else 'are used as inputs'} because "
                f"{_names(refs)} {_is(refs)} preferred; name the reference columns to choose "
                "others"
            )
    else:
        refs = refs_given
    inputs = inputs_given if inputs_given is not None else tuple(
        c for c in columns if c not in refs
    )
    if REFERENCES in inputs:
        raise DatasetError(
            f"{name}: the column {REFERENCES!r} cannot be an input: that name is kept for the "
            "reference outputs"
        )

    rows: list[dict[str, Any]] = []
    unreferenced: list[int] = []
    missing: dict[str, list[int]] = {}
    for record in records:
        row = {}
        for column in inputs:
            if column in record.values:
                row[column] = record.values[column]
            else:
                missing.setdefault(column, []).append(record.number)
        references: list[str] = []
        for column in refs:
            if column in record.values:
                cell = record.values[column]
                references.extend(
                    _references(name, record, column, cell, json_cells, warnings)
                )
        if refs and not references:
            unreferenced.append(record.number)
        row[REFERENCES] = references
        rows.append(row)

    for column, numbers in missing.items():
        warnings.append(
            f"{name}: {_rows(numbers)} {_have(numbers)} no {column!r} value; templates "
            "that use it will fail on those rows"
        )
    if unreferenced:
        warnings.append(_unreferenced_warning(name, unreferenced))
    return LoadedDataset(
        name=stem,
        rows=tuple(rows),
        inputs=inputs_from_rows(rows, prefix=stem),
        columns=columns,
        reference_columns=tuple(refs),
        warnings=tuple(warnings),
    )


def _check_columns(
    name: str, kind: str, wanted: Sequence[str] | None, columns: tuple[str, ...]
) -> tuple[str, ...] | None:
    if wanted is None:
        return None
    if isinstance(wanted, str):  # a lone name would otherwise be read letter by letter
        wanted = (wanted,)
    chosen = tuple(dict.fromkeys(wanted))
    for column in chosen:
        if column not in columns:
            close = difflib.get_close_matches(column, columns, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DatasetError(
                f"{name}: {kind} column {column!r} not found{hint}; the file has the columns "
                f"{_names(columns)}"
            )
    return chosen


def _detect_references(columns: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The reference columns, and the other columns that also matched a later group."""
    groups = [
        tuple(c for c in columns if pattern.match(c.strip())) for pattern in _REFERENCE_GROUPS
    ]
    for index, group in enumerate(groups):
        if group:
            skipped = tuple(c for later in groups[index + 1:] for c in later if c not in group)
            return group, tuple(dict.fromkeys(skipped))
    return (), ()


def _references(
    name: str, record: _Record, column: str, cell: Any, json_cells: bool, warnings: list[str]
) -> list[str]:
    """The non-empty references in one cell. In CSV, a ``references`` cell may hold a JSON
    list, the one way to put several references in a single column of a spreadsheet."""
    where = f"{name}: {record.where}, column {column!r}"
    if json_cells:
        if column.strip().lower() == REFERENCES and cell.lstrip().startswith("["):
            try:
                cell = json.loads(cell)
            except (json.JSONDecodeError, RecursionError):
                if cell.rstrip().endswith("]"):
                    warnings.append(
                        f"{where}: the value looks like a JSON list but is not valid JSON, so "
                        "it is used as one reference"
                    )
        if isinstance(cell, str):
            return [cell] if cell.strip() else []
    items = cell if isinstance(cell, list) else [cell]
    references = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, (dict, list)):
            raise DatasetError(
                f"{where}: a reference must be text, got {_describe(item)}"
            )
        text = item if isinstance(item, str) else str(item)
        if text.strip():
            references.append(text)
    return references


# -- messages ---------------------------------------------------------------------------------


def _unreferenced_warning(name: str, numbers: Sequence[int]) -> str:
    return (
        f"{name}: {_rows(numbers)} {_have(numbers)} no reference (all reference cells are "
        "empty); their reference-based scores will be N/A"
    )


def _too_many_rows(name: str, limit: int) -> str:
    return f"{name}: the file has more than {limit:,} rows, the limit for a dataset; split it"


def _rows(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:_MAX_LISTED])
    more = f" and {len(numbers) - _MAX_LISTED:,} more" if len(numbers) > _MAX_LISTED else ""
    return f"{len(numbers):,} {_plural(len(numbers), 'row')} ({shown}{more})"


def _have(items: Sequence[object]) -> str:
    return "has" if len(items) == 1 else "have"


def _is(items: Sequence[object]) -> str:
    return "is" if len(items) == 1 else "are"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word + "s"


def _names(columns: Iterable[str]) -> str:
    return ", ".join(repr(c) for c in columns)


def _duplicates(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for name in names:
        if name in seen:
            repeated[name] = None
        seen.add(name)
    return list(repeated)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return "a number"


def _ordered_keys(
    rows: Iterable[Mapping[str, Any]], *, exclude: str | None
) -> tuple[str, ...]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(k for k in row if k != exclude))
    return tuple(keys)
