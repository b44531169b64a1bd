"""Read the header of a GGUF model file without trusting anything it declares.

Model files come from the internet: a half-finished download, an HTML error page saved under a
``.gguf`` name or a deliberately crafted file must all end in a readable
:class:`~playground.errors.ModelFileError` within a moment, never in a hang, a ``MemoryError``
or a native crash inside llama.cpp. Every size the file declares is therefore checked against
fixed limits and against the bytes actually left in the file before anything is read or
allocated, and the tensor data itself is never read.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

from playground.engine.ggml_types import (  # the reader's vocabulary, re-exported
    GGML_BLOCK_SIZES,
    GGML_TYPE_NAMES,
    LLAMA_FTYPE_NAMES,
    ggml_type_name,
    tensor_nbytes,
)
from playground.errors import ModelFileError

__all__ = [
    "GGML_BLOCK_SIZES",
    "GGML_TYPE_NAMES",
    "LLAMA_FTYPE_NAMES",
    "ModelInfo",
    "ggml_type_name",
    "has_gguf_magic",
    "read_gguf",
    "read_gguf_stream",
    "tensor_nbytes",
]

GGUF_MAGIC: Final = b"GGUF"
SUPPORTED_VERSIONS: Final = (2, 3)
DEFAULT_ALIGNMENT: Final = 32

MAX_TENSORS: Final = 1 << 20
MAX_KV_PAIRS: Final = 1 << 20
MAX_DIMS: Final = 8
MAX_KEY_BYTES: Final = 65_535
MAX_TENSOR_NAME_BYTES: Final = 65_535
MAX_STRING_BYTES: Final = 16 * 1024 * 1024
MAX_ARRAY_ITEMS: Final = 1 << 24
MAX_ARRAY_DEPTH: Final = 3
# Arrays of arrays are walked element by element, so they get a much smaller budget.
MAX_NESTED_ARRAY_ITEMS: Final = 1 << 16
MAX_ALIGNMENT: Final = 1 << 20
# Arrays up to this many items are kept in ``ModelInfo.metadata``; longer ones are summarised.
MAX_STORED_ARRAY_ITEMS: Final = 64
# Numeric arrays up to this many items are decoded (per-layer head counts need it); longer
# ones (token scores, token types) are skipped without decoding.
MAX_DECODED_NUMERIC_ITEMS: Final = 4096

_READ_CHUNK: Final = 1 << 20
_SNIFF_BYTES: Final = 64

# GGUF metadata value types.
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL = range(8)
_STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = range(8, 13)

_VALUE_TYPE_NAMES: Final[dict[int, str]] = {
    _UINT8: "uint8",
    _INT8: "int8",
    _UINT16: "uint16",
    _INT16: "int16",
    _UINT32: "uint32",
    _INT32: "int32",
    _FLOAT32: "float32",
    _BOOL: "bool",
    _STRING: "string",
    _ARRAY: "array",
    _UINT64: "uint64",
    _INT64: "int64",
    _FLOAT64: "float64",
}

# struct format character for each fixed-size value type.
_SCALAR_FORMATS: Final[dict[int, str]] = {
    _UINT8: "B",
    _INT8: "b",
    _UINT16: "H",
    _INT16: "h",
    _UINT32: "I",
    _INT32: "i",
    _FLOAT32: "f",
    _BOOL: "?",
    _UINT64: "Q",
    _INT64: "q",
    _FLOAT64: "d",
}
_SCALAR_STRUCTS: Final[dict[int, struct.Struct]] = {
    t: struct.Struct("<" + f) for t, f in _SCALAR_FORMATS.items()
}
# Smallest number of bytes one element of each type can occupy, used to reject declared
# counts that cannot possibly fit in what is left of the file.
_MIN_ELEM_BYTES: Final[dict[int, int]] = {
    **{t: s.size for t, s in _SCALAR_STRUCTS.items()},
    _STRING: 8,
    _ARRAY: 12,
}

_U32: Final = struct.Struct("<I")
_U64: Final = struct.Struct("<Q")
_PREAMBLE: Final = struct.Struct("<4sIQQ")

@dataclass(frozen=True)
class ModelInfo:
    """What the app needs to know about a model before handing it to llama.cpp.

    Built only from the header, so it is cheap enough to compute for every file in a model list.
    """

    path: str
    file_size: int
    version: int
    architecture: str | None = None
    name: str | None = None
    parameter_count: int = 0
    quant_types: dict[str, int] = field(default_factory=dict, hash=False)
    file_type: str | None = None
    block_count: int | None = None
    context_length: int | None = None
    embedding_length: int | None = None
    head_count: int | None = None
    head_count_kv: int | None = None
    head_dim: int | None = None
    vocab_size: int | None = None
    chat_template: str | None = None
    bos_token: str | None = None
    eos_token: str | None = None
    tensor_data_bytes: int = 0
    metadata: dict[str, object] = field(default_factory=dict, hash=False)

    @property
    def display_name(self) -> str:
        """A label for lists: authors often leave ``general.name`` out or set it to junk."""
        if self.name and self.name.strip():
            return self.name.strip()
        return Path(self.path).stem

    @property
    def size_label(self) -> str:
        """Parameter count in the form model cards use ("135M", "7.2B")."""
        p = self.parameter_count
        if p >= 1_000_000_000:
            return f"{p / 1e9:.1f}B"
        if p >= 1_000_000:
            return f"{p / 1e6:.0f}M"
        if p >= 1_000:
            return f"{p / 1e3:.0f}K"
        return str(p)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _fmt_bytes(n: int) -> str:
    units = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    value = float(n)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            return f"{n:,} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n:,} bytes"  # pragma: no cover


class _Reader:
    """Buffered little-endian reader that refuses to read past the end of the file.

    Sizes are validated against ``remaining`` before any buffer is grown, so a declared length
    can never make us allocate more than the file actually holds.
    """

    def __init__(self, fh: BinaryIO, size: int, label: str) -> None:
        self._fh = fh
        self.size = size
        self.label = label
        self._buf = b""
        self._base = 0  # file offset of self._buf[0]
        self._off = 0  # read position inside self._buf

    @property
    def pos(self) -> int:
        return self._base + self._off

    @property
    def remaining(self) -> int:
        return self.size - self._base - self._off

    def truncated(self, what: str, needed: int) -> ModelFileError:
        return ModelFileError(
            f"{self.label}: truncated GGUF file: ran out of data while reading {what} at byte "
            f"{self.pos:,} (needs {needed:,} bytes, only {max(self.remaining, 0):,} left) — "
            "the file is incomplete (interrupted download?)"
        )

    def _fill(self, n: int, what: str) -> None:
        """Make ``n`` bytes available at the read position."""
        have = len(self._buf) - self._off
        if have >= n:
            return
        if n > self.remaining:
            raise self.truncated(what, n)
        file_end = self._base + len(self._buf)
        want = min(max(n - have, _READ_CHUNK), self.size - file_end)
        data = self._fh.read(want)
        if len(data) < n - have:
            # The file shrank while we were reading it.
            self.size = file_end + len(data)
            raise self.truncated(what, n)
        self._buf = self._buf[self._off :] + data
        self._base += self._off
        self._off = 0

    def read(self, n: int, what: str) -> bytes:
        self._fill(n, what)
        start = self._off
        self._off = start + n
        return self._buf[start : start + n]

    def skip(self, n: int, what: str) -> None:
        if n <= len(self._buf) - self._off:
            self._off += n
            return
        if n > self.remaining:
            raise self.truncated(what, n)
        target = self.pos + n
        self._fh.seek(target)
        self._buf = b""
        self._base = target
        self._off = 0

    def u32(self, what: str) -> int:
        self._fill(4, what)
        (v,) = _U32.unpack_from(self._buf, self._off)
        self._off += 4
        return int(v)

    def u64(self, what: str) -> int:
        self._fill(8, what)
        (v,) = _U64.unpack_from(self._buf, self._off)
        self._off += 8
        return int(v)

    def scalar(self, vtype: int, what: str) -> int | float | bool:
        st = _SCALAR_STRUCTS[vtype]
        self._fill(st.size, what)
        (v,) = st.unpack_from(self._buf, self._off)
        self._off += st.size
        return v  # type: ignore[no-any-return]

    def scalars(self, vtype: int, count: int, what: str) -> tuple[int | float | bool, ...]:
        st = struct.Struct(f"<{count}{_SCALAR_FORMATS[vtype]}")
        self._fill(st.size, what)
        values = st.unpack_from(self._buf, self._off)
        self._off += st.size
        return values

    def string_bytes(self, limit: int, what: str) -> bytes:
        n = self.u64(f"the length of {what}")
        if n > limit:
            raise ModelFileError(
                f"{self.label}: not a valid GGUF model: {what} at byte {self.pos - 8:,} declares "
                f"a string of {n:,} bytes ({_fmt_bytes(n)}), over the {_fmt_bytes(limit)} limit"
            )
        if n > self.remaining:
            raise self.truncated(what, n)
        return self.read(n, what)

    def string_array(self, count: int, keep: bool, what: str) -> list[bytes]:
        """Walk ``count`` strings; returns them undecoded when ``keep``, else skips their bodies.

        This is the hot loop for tokenizer vocabularies (tens to hundreds of thousands of
        entries), hence the inlined buffer handling.
        """
        out: list[bytes] = []
        append = out.append
        unpack = _U64.unpack_from
        limit = MAX_STRING_BYTES
        for i in range(count):
            buf = self._buf
            off = self._off
            if off + 8 > len(buf):
                self._fill(8, f"the length of item {i:,} of {what}")
                buf = self._buf
                off = self._off
            (n,) = unpack(buf, off)
            off += 8
            end = off + n
            if end <= len(buf) and n <= limit:
                if keep:
                    append(buf[off:end])
                self._off = end
                continue
            self._off = off
            if n > limit:
                raise ModelFileError(
                    f"{self.label}: not a valid GGUF model: item {i:,} of {what} at byte "
                    f"{self.pos - 8:,} declares a string of {n:,} bytes ({_fmt_bytes(n)}), over "
                    f"the {_fmt_bytes(limit)} limit"
                )
            item = f"item {i:,} of {what}"
            if keep:
                append(self.read(n, item))
            else:
                self.skip(n, item)
        return out


@dataclass
class _Header:
    """Mutable state of one parse; turned into a frozen :class:`ModelInfo` at the end."""

    values: dict[str, object] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)
    tokens: list[bytes] | None = None


def _sniff(head: bytes) -> str | None:
    """Say what a file that is not GGUF most likely is, judging from its first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return (
            "looks like an HTML page, not a GGUF model "
            "(was it downloaded from a web page instead of the file link?)"
        )
    if text.startswith(b"<"):
        return "looks like an XML or HTML document, not a GGUF model"
    if text.startswith(b"version https://git-lfs"):
        return (
            "is a Git LFS pointer, not a GGUF model "
            "(the repository was cloned without fetching the large files)"
        )
    if text.startswith((b"{", b"[")):
        return "looks like JSON text (an error response or a config file?), not a GGUF model"
    if head.startswith(b"PK\x03\x04"):
        return "is a ZIP archive (a PyTorch checkpoint?), not a GGUF model"
    if head[:4] in (b"lmgg", b"fmgg", b"tjgg", b"algg"):
        return (
            "is an old GGML/GGJT model from before GGUF existed, not a GGUF model; "
            "download a GGUF version or convert it"
        )
    if head[8:9] == b"{":
        return "looks like a safetensors file, not a GGUF model"
    return None


def _describe_magic(magic: bytes) -> str:
    printable = all(32 <= b < 127 for b in magic)
    return repr(magic.decode("ascii")) if printable else magic.hex(" ")


def _check_count(r: _Reader, count: int, cap: int, min_bytes: int, what: str) -> None:
    if count > cap:
        raise ModelFileError(
            f"{r.label}: not a valid GGUF model: the header declares {count:,} {what} "
            f"(the limit is {cap:,}) — the file is corrupt"
        )
    if count * min_bytes > r.remaining:
        raise ModelFileError(
            f"{r.label}: truncated or corrupt GGUF file: the header declares {count:,} {what}, "
            f"which need at least {count * min_bytes:,} bytes, but only {r.remaining:,} are left "
            "— the file is incomplete (interrupted download?)"
        )


def _read_value(
    r: _Reader, h: _Header, vtype: int, key: str, depth: int = 0
) -> tuple[object, object]:
    """Read one value; returns (value kept for field extraction, value shown in metadata)."""
    what = f"the value of {key!r}"
    if vtype in _SCALAR_STRUCTS:
        v = r.scalar(vtype, what)
        return v, v
    if vtype == _STRING:
        s = r.string_bytes(MAX_STRING_BYTES, what).decode("utf-8", errors="replace")
        return s, s
    if vtype != _ARRAY:
        raise ModelFileError(
            f"{r.label}: not a valid GGUF model: metadata {key!r} has unknown value type {vtype}"
        )
    if depth >= MAX_ARRAY_DEPTH:
        raise ModelFileError(
            f"{r.label}: not a valid GGUF model: metadata {key!r} nests arrays more than "
            f"{MAX_ARRAY_DEPTH} deep"
        )
    etype = r.u32(f"the element type of {key!r}")
    count = r.u64(f"the length of {key!r}")
    ename = _VALUE_TYPE_NAMES.get(etype)
    if ename is None:
        raise ModelFileError(
            f"{r.label}: not a valid GGUF model: array {key!r} has unknown element type {etype}"
        )
    cap = MAX_NESTED_ARRAY_ITEMS if etype == _ARRAY else MAX_ARRAY_ITEMS
    if count > cap:
        raise ModelFileError(
            f"{r.label}: not a valid GGUF model: {key!r} declares an array of {count:,} "
            f"{ename} items (the limit is {cap:,}) — the file is corrupt"
        )
    need = count * _MIN_ELEM_BYTES[etype]
    if need > r.remaining:
        raise ModelFileError(
            f"{r.label}: truncated or corrupt GGUF file: {key!r} declares an array of {count:,} "
            f"{ename} items needing at least {need:,} bytes, but only {r.remaining:,} bytes are "
            "left in the file"
        )
    summary = f"<array of {count} {ename}>"
    if etype in _SCALAR_STRUCTS:
        if count <= MAX_DECODED_NUMERIC_ITEMS:
            values = r.scalars(etype, count, what)
            return values, (list(values) if count <= MAX_STORED_ARRAY_ITEMS else summary)
        r.skip(need, what)
        return None, summary
    if etype == _STRING:
        keep = key == "tokenizer.ggml.tokens" or count <= MAX_STORED_ARRAY_ITEMS
        raw = r.string_array(count, keep, what)
        if key == "tokenizer.ggml.tokens" and depth == 0:
            h.tokens = raw
        if count <= MAX_STORED_ARRAY_ITEMS:
            decoded = [b.decode("utf-8", errors="replace") for b in raw]
            return decoded, decoded
        return None, summary
    for i in range(count):
        _read_value(r, h, _ARRAY, f"{key}[{i}]", depth + 1)
    return None, summary


def _read_kv(r: _Reader, h: _Header, index: int) -> None:
    start = r.pos
    raw_key = r.string_bytes(MAX_KEY_BYTES, f"the name of metadata entry #{index}")
    try:
        key = raw_key.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(
            f"{r.label}: not a valid GGUF model: the name of metadata entry #{index} at byte "
            f"{start:,} is not valid UTF-8 ({raw_key[:40]!r})"
        ) from None
    if key in h.metadata:
        raise ModelFileError(
            f"{r.label}: not a valid GGUF model: metadata key {key!r} appears twice"
        )
    vtype = r.u32(f"the value type of {key!r}")
    value, shown = _read_value(r, h, vtype, key)
    h.values[key] = value
    h.metadata[key] = shown


def _as_int(value: object) -> int | None:
    """Integer metadata; per-layer arrays collapse to their maximum (the worst case matters)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)):
        ints = [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
        return max(ints) if ints else None
    return None


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _token(tokens: list[bytes] | None, token_id: object) -> str | None:
    tid = _as_int(token_id)
    if tokens is None or tid is None or not 0 <= tid < len(tokens):
        return None
    return tokens[tid].decode("utf-8", errors="replace")


def _read_tensors(
    r: _Reader, count: int, alignment: int
) -> tuple[int, dict[str, int], list[tuple[str, int, int | None]]]:
    """Read tensor infos; returns parameter count, per-type counts and (name, offset, size)."""
    params = 0
    quant: dict[str, int] = {}
    spans: list[tuple[str, int, int | None]] = []
    seen: set[str] = set()
    for i in range(count):
        what = f"tensor info #{i}"
        name = r.string_bytes(MAX_TENSOR_NAME_BYTES, f"the name of {what}").decode(
            "utf-8", errors="replace"
        )
        if name in seen:
            raise ModelFileError(
                f"{r.label}: not a valid GGUF model: tensor {name!r} appears twice"
            )
        seen.add(name)
        what = f"tensor {name!r}"
        n_dims = r.u32(f"the dimension count of {what}")
        if n_dims > MAX_DIMS:
            raise ModelFileError(
                f"{r.label}: not a valid GGUF model: {what} declares {n_dims:,} dimensions "
                f"(at most {MAX_DIMS} are allowed)"
            )
        dims = [r.u64(f"the dimensions of {what}") for _ in range(n_dims)]
        n_elems = 1
        for d in dims:
            n_elems *= d
        if n_elems >= 1 << 63:
            raise ModelFileError(
                f"{r.label}: not a valid GGUF model: {what} declares {n_elems:,} elements"
            )
        type_id = r.u32(f"the type of {what}")
        offset = r.u64(f"the data offset of {what}")
        if offset % alignment:
            raise ModelFileError(
                f"{r.label}: not a valid GGUF model: {what} data offset {offset:,} is not a "
                f"multiple of the alignment {alignment}"
            )
        layout = GGML_BLOCK_SIZES.get(type_id)
        if layout is not None and dims and dims[0] % layout[0]:
            raise ModelFileError(
                f"{r.label}: not a valid GGUF model: {what} has a row of {dims[0]:,} elements, "
                f"not a multiple of the {ggml_type_name(type_id)} block size {layout[0]}"
            )
        params += n_elems
        tname = ggml_type_name(type_id)
        quant[tname] = quant.get(tname, 0) + 1
        spans.append((name, offset, tensor_nbytes(type_id, dims)))
    return params, quant, spans


def read_gguf_stream(fh: BinaryIO, size: int, label: str) -> ModelInfo:
    """The same bounded reading for a file that is not on disk: a remote file read through HTTP
    range requests, whose total ``size`` the server stated. Only the header is fetched."""
    return _parse(fh, label, size, label)


def read_gguf(path: str | os.PathLike[str]) -> ModelInfo:
    """Validate a GGUF file's header and summarise it.

    Raises :class:`ModelFileError` with a message meant for the user for anything that is not a
    complete, well-formed GGUF v2/v3 file; ``OSError`` from opening the file is converted too,
    so callers only ever need to catch one exception type.
    """
    p = Path(path)
    label = p.name or str(p)
    try:
        with open(p, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            return _parse(fh, str(p), size, label)
    except FileNotFoundError:
        raise ModelFileError(f"{label}: file not found ({p})") from None
    except IsADirectoryError:
        raise ModelFileError(f"{label}: is a directory, not a GGUF model file") from None
    except PermissionError:
        raise ModelFileError(f"{label}: permission denied when opening the file") from None
    except OSError as exc:
        raise ModelFileError(f"{label}: could not read the file: {exc.strerror or exc}") from None


def has_gguf_magic(path: str | os.PathLike[str]) -> bool:
    """Whether a file starts with the GGUF magic: four bytes read, nothing else trusted. Model
    stores that name files by hash (Ollama's blobs) hold templates and licences beside the
    weights, and only this tells them apart without parsing every header."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(GGUF_MAGIC)) == GGUF_MAGIC
    except OSError:
        return False


def _parse(fh: BinaryIO, path: str, size: int, label: str) -> ModelInfo:
    if size == 0:
        raise ModelFileError(f"{label}: not a GGUF model: the file is empty")
    r = _Reader(fh, size, label)
    head = fh.read(_SNIFF_BYTES)
    fh.seek(0)
    if head[:4] != GGUF_MAGIC:
        reason = _sniff(head)
        if reason is None:
            reason = (
                f"not a GGUF model: it starts with {_describe_magic(head[:4])} instead of "
                "the GGUF magic 'GGUF'"
            )
        raise ModelFileError(f"{label}: {reason}")
    if size < _PREAMBLE.size:
        raise r.truncated("the GGUF header", _PREAMBLE.size)
    _, version, n_tensors, n_kv = _PREAMBLE.unpack(r.read(_PREAMBLE.size, "the GGUF header"))
    if version not in SUPPORTED_VERSIONS:
        if version == 1:
            detail = "GGUF version 1 is an early draft of the format; re-download or reconvert"
        elif (version >> 24) in SUPPORTED_VERSIONS and version & 0xFFFFFF == 0:
            detail = "the file is big-endian, which this app does not support"
        else:
            detail = "only versions 2 and 3 are supported"
        raise ModelFileError(f"{label}: unsupported GGUF version {version} ({detail})")
    _check_count(r, n_tensors, MAX_TENSORS, 24, "tensors")
    _check_count(r, n_kv, MAX_KV_PAIRS, 13, "metadata entries")

    h = _Header()
    for i in range(n_kv):
        _read_kv(r, h, i)

    alignment_value = h.values.get("general.alignment", DEFAULT_ALIGNMENT)
    alignment = _as_int(alignment_value)
    if (
        alignment is None
        or isinstance(alignment_value, (tuple, list))
        or not 0 < alignment <= MAX_ALIGNMENT
        or alignment & (alignment - 1)
    ):
        raise ModelFileError(
            f"{label}: not a valid GGUF model: general.alignment is {alignment_value!r}, "
            f"expected a power of two up to {MAX_ALIGNMENT:,}"
        )

    params, quant, spans = _read_tensors(r, n_tensors, alignment)
    data_start = -(-r.pos // alignment) * alignment
    data_end = data_start
    for name, offset, nbytes in spans:
        begin = data_start + offset
        end = begin + (nbytes or 0)
        if end > size or begin > size:
            raise ModelFileError(
                f"{label}: tensor {name!r} data ends at byte {end:,} but the file has "
                f"{size:,} bytes — the file is truncated (incomplete download?)"
            )
        data_end = max(data_end, end)

    v = h.values
    arch = _as_str(v.get("general.architecture"))

    def arch_int(suffix: str) -> int | None:
        # Model hyperparameters are namespaced by architecture ("llama.block_count").
        return _as_int(v.get(f"{arch}.{suffix}")) if arch else None

    embedding = arch_int("embedding_length")
    heads = arch_int("attention.head_count")
    head_dim = arch_int("attention.key_length")
    if head_dim is None and embedding and heads:
        head_dim = embedding // heads
    ftype = _as_int(v.get("general.file_type"))
    vocab = len(h.tokens) if h.tokens is not None else None
    if vocab is None:
        vocab = arch_int("vocab_size")

    return ModelInfo(
        path=path,
        file_size=size,
        version=version,
        architecture=arch,
        name=_as_str(v.get("general.name")),
        parameter_count=params,
        quant_types=quant,
        file_type=None if ftype is None else LLAMA_FTYPE_NAMES.get(ftype, f"ftype{ftype}"),
        block_count=arch_int("block_count"),
        context_length=arch_int("context_length"),
        embedding_length=embedding,
        head_count=heads,
        head_count_kv=arch_int("attention.head_count_kv"),
        head_dim=head_dim,
        vocab_size=vocab,
        chat_template=_as_str(v.get("tokenizer.chat_template")),
        bos_token=_token(h.tokens, v.get("tokenizer.ggml.bos_token_id")),
        eos_token=_token(h.tokens, v.get("tokenizer.ggml.eos_token_id")),
        tensor_data_bytes=data_end - data_start,
        metadata=h.metadata,
    )
