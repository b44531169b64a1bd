"""Small GGUF files written from scratch: valid by default, with hooks to break them."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from playground.engine.gguf import tensor_nbytes

# GGUF value types
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL = range(8)
STRING, ARRAY, UINT64, INT64, FLOAT64 = range(8, 13)
# ggml tensor types used below
F32, Q4_1, Q8_0, Q4_K = 0, 3, 8, 12

_FORMATS = {
    UINT8: "B",
    INT8: "b",
    UINT16: "H",
    INT16: "h",
    UINT32: "I",
    INT32: "i",
    FLOAT32: "f",
    BOOL: "?",
    UINT64: "Q",
    INT64: "q",
    FLOAT64: "d",
}


def gstr(s: str | bytes) -> bytes:
    raw = s.encode() if isinstance(s, str) else s
    return struct.pack("<Q", len(raw)) + raw


def value(vtype: int, v: object, elem_type: int | None = None) -> bytes:
    if vtype == STRING:
        assert isinstance(v, (str, bytes))
        return gstr(v)
    if vtype == ARRAY:
        assert elem_type is not None
        assert isinstance(v, list)
        body = b"".join(value(elem_type, x) for x in v)
        return struct.pack("<IQ", elem_type, len(v)) + body
    return struct.pack("<" + _FORMATS[vtype], v)


@dataclass
class GGUFBuilder:
    """Writes small GGUF files, valid by default, with hooks to break them."""

    version: int = 3
    alignment: int = 32
    kvs: list[bytes] = field(default_factory=list)
    tensors: list[tuple[str, list[int], int, int | None]] = field(default_factory=list)

    def kv(self, key: str | bytes, vtype: int, v: object, elem_type: int | None = None) -> None:
        self.kvs.append(gstr(key) + struct.pack("<I", vtype) + value(vtype, v, elem_type))

    def tensor(self, name: str, dims: list[int], ggml_type: int, offset: int | None = None) -> None:
        self.tensors.append((name, dims, ggml_type, offset))

    def build(self) -> bytes:
        out = bytearray(b"GGUF")
        out += struct.pack("<IQQ", self.version, len(self.tensors), len(self.kvs))
        for kv in self.kvs:
            out += kv
        data = bytearray()
        for name, dims, ggml_type, offset in self.tensors:
            size = tensor_nbytes(ggml_type, dims)
            assert size is not None
            data += b"\0" * (-len(data) % self.alignment)
            out += gstr(name) + struct.pack("<I", len(dims))
            out += b"".join(struct.pack("<Q", d) for d in dims)
            out += struct.pack("<IQ", ggml_type, len(data) if offset is None else offset)
            data += bytes((i * 7) & 0xFF for i in range(size))
        out += b"\0" * (-len(out) % self.alignment)
        return bytes(out + data)


TOKENS = ["<unk>", "<|im_start|>", "<|im_end|>", "a", "b", "ab"]
TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
)


def valid_builder() -> GGUFBuilder:
    b = GGUFBuilder()
    b.kv("general.architecture", STRING, "llama")
    b.kv("general.name", STRING, "Tiny Test Model")
    b.kv("general.file_type", UINT32, 3)
    b.kv("llama.block_count", UINT32, 2)
    b.kv("llama.context_length", UINT32, 512)
    b.kv("llama.embedding_length", UINT32, 64)
    b.kv("llama.attention.head_count", UINT32, 4)
    b.kv("llama.attention.head_count_kv", ARRAY, [2, 1], elem_type=UINT32)
    b.kv("llama.rope.freq_base", FLOAT32, 10000.0)
    b.kv("tokenizer.ggml.model", STRING, "gpt2")
    b.kv("tokenizer.ggml.tokens", ARRAY, TOKENS, elem_type=STRING)
    b.kv("tokenizer.ggml.scores", ARRAY, [0.0] * 100, elem_type=FLOAT32)
    b.kv("tokenizer.ggml.merges", ARRAY, ["a b"] * 100, elem_type=STRING)
    b.kv("tokenizer.ggml.bos_token_id", UINT32, 1)
    b.kv("tokenizer.ggml.eos_token_id", UINT32, 2)
    b.kv("tokenizer.chat_template", STRING, TEMPLATE)
    b.kv("general.quantization_version", UINT32, 2)
    b.tensor("token_embd.weight", [64, 6], F32)
    b.tensor("blk.0.attn_q.weight", [64, 64], Q4_1)
    b.tensor("blk.1.attn_q.weight", [64, 64], Q4_1)
    b.tensor("output.weight", [64, 6], Q8_0)
    b.tensor("output_norm.weight", [64], F32)
    return b


PARAMS = 64 * 6 + 2 * 64 * 64 + 64 * 6 + 64


def write(tmp_path: Path, data: bytes, name: str = "model.gguf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def preamble(n_tensors: int, n_kv: int, version: int = 3) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv)


def with_duplicate_token(src: Path, dst: Path) -> Path:
    """Copy a real model with one vocabulary entry overwritten by another of the same length.

    llama.cpp builds its text → id map from the vocabulary and asserts that it has as many
    entries as the id → text list (``GGML_ASSERT(id_to_token.size() == token_to_id.size())``
    in llama-vocab.cpp): a repeated token aborts the process natively at load, with no error
    returned. The file stays byte-for-byte the same length, so every offset after it holds.
    """
    data = bytearray(src.read_bytes())
    key = gstr("tokenizer.ggml.tokens")
    assert data.count(key) == 1
    at = data.index(key) + len(key)
    vtype, elem_type, count = struct.unpack_from("<IIQ", data, at)
    assert (vtype, elem_type) == (ARRAY, STRING)
    pos = at + 16
    first_of_length: dict[int, int] = {}
    # Past the control tokens at the start, the first two entries of equal length.
    for i in range(count):
        (n,) = struct.unpack_from("<Q", data, pos)
        start = pos + 8
        pos = start + n
        if i < 100:
            continue
        if n in first_of_length:
            original = first_of_length[n]
            data[start:pos] = data[original : original + n]
            dst.write_bytes(data)
            return dst
        first_of_length[n] = start
    raise AssertionError("no two tokens of the same length")


def _skip_value(data: bytes, pos: int, vtype: int) -> int:
    """Where the value of type ``vtype`` starting at ``pos`` ends."""
    if vtype == STRING:
        n: int = struct.unpack_from("<Q", data, pos)[0]
        return pos + 8 + n
    if vtype == ARRAY:
        elem_type: int = struct.unpack_from("<I", data, pos)[0]
        count: int = struct.unpack_from("<Q", data, pos + 4)[0]
        pos += 12
        if elem_type in _FORMATS:
            return pos + count * struct.calcsize("<" + _FORMATS[elem_type])
        for _ in range(count):
            pos = _skip_value(data, pos, elem_type)
        return pos
    return pos + struct.calcsize("<" + _FORMATS[vtype])


def without_key(src: Path, dst: Path, drop: str = "tokenizer.chat_template") -> Path:
    """Copy a real model with one metadata key and its value removed from the header.

    The header shrinks, so the tensor data is moved to the next aligned offset after it; the
    tensors' offsets count from the start of the data and hold as they are.
    """
    data = src.read_bytes()
    version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
    pos = 24
    kept: list[bytes] = []
    alignment = 32
    found = False
    for _ in range(n_kv):
        start = pos
        (n,) = struct.unpack_from("<Q", data, pos)
        key = data[pos + 8 : pos + 8 + n].decode()
        (vtype,) = struct.unpack_from("<I", data, pos + 8 + n)
        value_at = pos + 12 + n
        pos = _skip_value(data, value_at, vtype)
        if key == "general.alignment":
            (alignment,) = struct.unpack_from("<I", data, value_at)
        if key == drop:
            found = True
        else:
            kept.append(data[start:pos])
    assert found, f"{src.name} has no {drop}"
    infos_at = pos
    for _ in range(n_tensors):
        (n,) = struct.unpack_from("<Q", data, pos)
        pos += 8 + n
        (n_dims,) = struct.unpack_from("<I", data, pos)
        pos += 4 + 8 * n_dims + 4 + 8  # dims, type, offset
    infos = data[infos_at:pos]
    data_at = -(-pos // alignment) * alignment
    header = preamble(n_tensors, n_kv - 1, version) + b"".join(kept) + infos
    padding = b"\0" * (-len(header) % alignment)
    with dst.open("wb") as out:
        out.write(header + padding)
        out.write(data[data_at:])
    return dst
