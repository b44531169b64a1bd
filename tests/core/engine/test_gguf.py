"""The GGUF header reader: real facts from the real model, and hostile files built here."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from playground.engine.gguf import (
    GGML_BLOCK_SIZES,
    ModelInfo,
    ggml_type_name,
    read_gguf,
    tensor_nbytes,
)
from playground.errors import ModelFileError
from tests.gguf_factory import (
    ARRAY,
    F32,
    PARAMS,
    Q4_1,
    Q4_K,
    STRING,
    TEMPLATE,
    TOKENS,
    UINT8,
    UINT32,
    GGUFBuilder,
    gstr,
    preamble,
    valid_builder,
    write,
)

# -- valid files --------------------------------------------------------------------------------


def test_synthetic_file_round_trips(tmp_path: Path) -> None:
    data = valid_builder().build()
    info = read_gguf(write(tmp_path, data))

    assert info.path == str(tmp_path / "model.gguf")
    assert info.file_size == len(data)
    assert info.version == 3
    assert info.architecture == "llama"
    assert info.name == "Tiny Test Model"
    assert info.display_name == "Tiny Test Model"
    assert info.file_type == "Q4_1"
    assert info.block_count == 2
    assert info.context_length == 512
    assert info.embedding_length == 64
    assert info.head_count == 4
    assert info.head_count_kv == 2  # per-layer array: the largest wins
    assert info.head_dim == 16
    assert info.vocab_size == len(TOKENS)
    assert info.chat_template == TEMPLATE
    assert info.bos_token == "<|im_start|>"
    assert info.eos_token == "<|im_end|>"
    assert info.parameter_count == PARAMS
    assert info.quant_types == {"F32": 2, "Q4_1": 2, "Q8_0": 1}
    last_tensor_end = len(data)
    first_tensor = len(data) - info.tensor_data_bytes
    assert first_tensor % 32 == 0
    assert info.tensor_data_bytes == last_tensor_end - first_tensor


def test_metadata_keeps_scalars_and_summarises_big_arrays(tmp_path: Path) -> None:
    info = read_gguf(write(tmp_path, valid_builder().build()))
    md = info.metadata

    assert md["general.architecture"] == "llama"
    assert md["llama.context_length"] == 512
    assert md["llama.rope.freq_base"] == pytest.approx(10000.0)
    assert md["llama.attention.head_count_kv"] == [2, 1]
    assert md["tokenizer.ggml.tokens"] == TOKENS
    assert md["tokenizer.ggml.scores"] == "<array of 100 float32>"
    assert md["tokenizer.ggml.merges"] == "<array of 100 string>"


def test_version_2_and_custom_alignment_are_accepted(tmp_path: Path) -> None:
    b = valid_builder()
    b.version = 2
    b.alignment = 64
    b.kv("general.alignment", UINT32, 64)
    info = read_gguf(write(tmp_path, b.build()))
    assert info.version == 2
    assert info.parameter_count == PARAMS


def test_minimal_file_without_metadata(tmp_path: Path) -> None:
    info = read_gguf(write(tmp_path, preamble(0, 0), name="bare.gguf"))
    assert info.architecture is None
    assert info.display_name == "bare"
    assert info.parameter_count == 0
    assert info.quant_types == {}
    assert info.tensor_data_bytes == 0
    assert info.vocab_size is None
    assert info.bos_token is None


def test_string_values_with_bad_utf8_are_replaced(tmp_path: Path) -> None:
    b = GGUFBuilder()
    b.kv("general.name", STRING, b"caf\xe9")
    info = read_gguf(write(tmp_path, b.build()))
    assert info.name == "caf\ufffd"


def test_head_dim_prefers_key_length(tmp_path: Path) -> None:
    b = valid_builder()
    b.kv("llama.attention.key_length", UINT32, 128)
    assert read_gguf(write(tmp_path, b.build())).head_dim == 128


def test_ggml_type_table() -> None:
    assert ggml_type_name(0) == "F32"
    assert ggml_type_name(3) == "Q4_1"
    assert ggml_type_name(12) == "Q4_K"
    assert ggml_type_name(14) == "Q6_K"
    assert ggml_type_name(23) == "IQ4_XS"
    assert ggml_type_name(30) == "BF16"
    assert ggml_type_name(999) == "type999"
    assert GGML_BLOCK_SIZES[Q4_K] == (256, 144)
    assert tensor_nbytes(Q4_1, [64, 64]) == 64 * 64 // 32 * 20
    assert tensor_nbytes(F32, [3, 5]) == 60
    assert tensor_nbytes(999, [32]) is None


def test_model_info_is_hashable_and_labels_size() -> None:
    info = ModelInfo(path="/m/x.gguf", file_size=1, version=3, parameter_count=134_515_008)
    hash(info)
    assert info.size_label == "135M"
    assert info.display_name == "x"


# -- the real model -----------------------------------------------------------------------------


def test_real_model_header(default_model_path: Path) -> None:
    info = read_gguf(default_model_path)

    assert info.version in (2, 3)
    assert info.architecture == "llama"
    assert info.block_count == 30
    assert info.chat_template is not None
    assert "im_start" in info.chat_template
    assert "Q4_1" in info.quant_types
    assert 1.2e8 < info.parameter_count < 1.5e8
    assert info.eos_token
    assert info.file_type == "Q4_1"
    assert info.head_count_kv is not None
    assert info.head_dim is not None
    assert info.vocab_size is not None
    assert info.vocab_size > 1000
    assert 0 < info.tensor_data_bytes < info.file_size
    assert str(info.metadata["tokenizer.ggml.tokens"]).startswith("<array of ")
    assert str(info.metadata["tokenizer.ggml.merges"]).startswith("<array of ")


# -- hostile files ------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        read_gguf(tmp_path / "nope.gguf")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="directory"):
        read_gguf(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"^empty\.gguf: .*file is empty"):
        read_gguf(write(tmp_path, b"", name="empty.gguf"))


@pytest.mark.parametrize(
    "page",
    [
        b"<!DOCTYPE html>\n<html><head><title>Hugging Face</title>",
        b"\n  <html lang='en'><body>404</body></html>",
        b"\xef\xbb\xbf<!doctype HTML><html>",
    ],
)
def test_html_page(tmp_path: Path, page: bytes) -> None:
    path = write(tmp_path, page + b"x" * 500, name="model.Q4_K_M.gguf")
    with pytest.raises(ModelFileError, match=r"^model\.Q4_K_M\.gguf: looks like an HTML page"):
        read_gguf(path)
    with pytest.raises(ModelFileError, match="downloaded from a web page"):
        read_gguf(path)


def test_git_lfs_pointer(tmp_path: Path) -> None:
    pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 98362432\n"
    with pytest.raises(ModelFileError, match="Git LFS pointer"):
        read_gguf(write(tmp_path, pointer))


def test_legacy_ggml_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="GGJT"):
        read_gguf(write(tmp_path, b"tjgg" + b"\0" * 100))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"ABCD" + b"\0" * 60, "starts with 'ABCD'"),
        (b"\x00\x01\x02\x03" + b"\0" * 60, "starts with 00 01 02 03"),
        (b"GG", "starts with 'GG'"),
    ],
)
def test_wrong_magic(tmp_path: Path, data: bytes, expected: str) -> None:
    with pytest.raises(ModelFileError, match=f"not a GGUF model: it {expected}"):
        read_gguf(write(tmp_path, data))


def test_unsupported_version(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="version 99"):
        read_gguf(write(tmp_path, preamble(0, 0, version=99)))


def test_version_1(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="version 1 "):
        read_gguf(write(tmp_path, preamble(0, 0, version=1)))


def test_big_endian_file(tmp_path: Path) -> None:
    data = b"GGUF" + struct.pack(">IQQ", 3, 0, 0)
    with pytest.raises(ModelFileError, match="big-endian"):
        read_gguf(write(tmp_path, data))


@pytest.mark.parametrize("fraction", [0.5, 0.95])
def test_truncated_in_tensor_data(tmp_path: Path, fraction: float) -> None:
    data = valid_builder().build()
    cut = data[: int(len(data) * fraction)]
    with pytest.raises(ModelFileError, match=r"data ends at byte .* the file is truncated"):
        read_gguf(write(tmp_path, cut))


def test_truncated_mid_header(tmp_path: Path) -> None:
    data = valid_builder().build()
    cut = data[:200]
    with pytest.raises(ModelFileError, match="truncated"):
        read_gguf(write(tmp_path, cut))


@pytest.mark.timeout(30)
def test_every_truncation_point_says_truncated(tmp_path: Path) -> None:
    data = valid_builder().build()
    header_end = len(data) - read_gguf(write(tmp_path, data)).tensor_data_bytes
    path = tmp_path / "cut.gguf"
    # Every cut inside the header, then a sample of cuts inside the tensor data.
    for n in [*range(4, header_end + 1), *range(header_end + 1, len(data), 61)]:
        path.write_bytes(data[:n])
        with pytest.raises(ModelFileError, match="truncated") as excinfo:
            read_gguf(path)
        assert str(excinfo.value).startswith("cut.gguf: "), n


@pytest.mark.timeout(5)
def test_huge_array_count_in_57_byte_file(tmp_path: Path) -> None:
    data = preamble(0, 1) + gstr("big.array") + struct.pack("<IIQ", ARRAY, UINT8, 1 << 40)
    assert len(data) == 57
    with pytest.raises(ModelFileError, match="array of 1,099,511,627,776 uint8"):
        read_gguf(write(tmp_path, data))


@pytest.mark.timeout(5)
@pytest.mark.parametrize("elem_type", [STRING, UINT32, ARRAY])
def test_array_count_larger_than_file(tmp_path: Path, elem_type: int) -> None:
    data = preamble(0, 1) + gstr("arr") + struct.pack("<IIQ", ARRAY, elem_type, 50_000)
    with pytest.raises(ModelFileError, match=r"array of 50,000 .* only 8 bytes"):
        read_gguf(write(tmp_path, data + b"\0" * 8))


@pytest.mark.timeout(5)
def test_huge_kv_count(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="4,611,686,018,427,387,904 metadata entries"):
        read_gguf(write(tmp_path, preamble(0, 1 << 62) + b"\0" * 64))


@pytest.mark.timeout(5)
def test_kv_count_larger_than_file(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"truncated.*1,000 metadata entries"):
        read_gguf(write(tmp_path, preamble(0, 1000) + b"\0" * 64))


@pytest.mark.timeout(5)
def test_huge_tensor_count(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="18,446,744,073,709,551,615 tensors"):
        read_gguf(write(tmp_path, preamble(2**64 - 1, 0) + b"\0" * 64))


@pytest.mark.timeout(5)
def test_huge_string_value(tmp_path: Path) -> None:
    data = preamble(0, 1) + gstr("general.name") + struct.pack("<IQ", STRING, 1 << 60)
    with pytest.raises(
        ModelFileError, match=r"'general\.name'.*string of 1,152,921,504,606,846,976"
    ):
        read_gguf(write(tmp_path, data + b"x" * 100))


@pytest.mark.timeout(5)
def test_huge_key_length(tmp_path: Path) -> None:
    data = preamble(0, 1) + struct.pack("<Q", 1 << 50)
    with pytest.raises(ModelFileError, match=r"metadata entry #0 .*string of"):
        read_gguf(write(tmp_path, data + b"x" * 100))


@pytest.mark.timeout(5)
def test_string_longer_than_file(tmp_path: Path) -> None:
    data = preamble(0, 1) + gstr("general.name") + struct.pack("<IQ", STRING, 5000)
    with pytest.raises(ModelFileError, match=r"truncated.*'general.name'"):
        read_gguf(write(tmp_path, data + b"x" * 100))


@pytest.mark.timeout(5)
def test_huge_string_inside_token_array(tmp_path: Path) -> None:
    data = preamble(0, 1) + gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", ARRAY, STRING, 3)
    data += gstr("a") + struct.pack("<Q", 1 << 62) + b"x" * 64
    with pytest.raises(ModelFileError, match=r"item 1 of .*tokenizer.ggml.tokens.*string of"):
        read_gguf(write(tmp_path, data))


def test_tensor_data_outside_file(tmp_path: Path) -> None:
    b = valid_builder()
    b.tensor("blk.9.ffn_up.weight", [64, 64], Q4_1, offset=1 << 40)
    with pytest.raises(
        ModelFileError,
        match=r"tensor 'blk\.9\.ffn_up\.weight' data ends at byte [\d,]+ but the file has "
        r"[\d,]+ bytes — the file is truncated \(incomplete download\?\)",
    ):
        read_gguf(write(tmp_path, b.build()))


def test_misaligned_tensor_offset(tmp_path: Path) -> None:
    b = valid_builder()
    b.tensor("odd.weight", [32], F32, offset=3)
    with pytest.raises(ModelFileError, match="not a multiple of the alignment"):
        read_gguf(write(tmp_path, b.build()))


def test_row_not_a_multiple_of_block_size(tmp_path: Path) -> None:
    b = GGUFBuilder()
    b.tensors.append(("bad.weight", [33], Q4_1, 0))
    data = b.build() + b"\0" * 64
    with pytest.raises(ModelFileError, match="block size 32"):
        read_gguf(write(tmp_path, data))


def test_too_many_dimensions(tmp_path: Path) -> None:
    data = preamble(1, 0) + gstr("t") + struct.pack("<I", 9) + b"\1" * 200
    with pytest.raises(ModelFileError, match="9 dimensions"):
        read_gguf(write(tmp_path, data))


def test_unknown_tensor_type_is_named_not_rejected(tmp_path: Path) -> None:
    out = bytearray(preamble(1, 0))
    out += gstr("mystery") + struct.pack("<IQIQ", 1, 16, 200, 0)
    out += b"\0" * (-len(out) % 32) + b"\0" * 32
    info = read_gguf(write(tmp_path, bytes(out)))
    assert info.quant_types == {"type200": 1}
    assert info.parameter_count == 16


def test_duplicate_tensor_name(tmp_path: Path) -> None:
    b = GGUFBuilder()
    b.tensor("same", [8], F32)
    b.tensor("same", [8], F32)
    with pytest.raises(ModelFileError, match="'same' appears twice"):
        read_gguf(write(tmp_path, b.build()))


def test_invalid_utf8_key(tmp_path: Path) -> None:
    b = GGUFBuilder()
    b.kv(b"general.\xff\xfename", STRING, "x")
    with pytest.raises(ModelFileError, match=r"metadata entry #0 .*not valid UTF-8"):
        read_gguf(write(tmp_path, b.build()))


def test_duplicate_key(tmp_path: Path) -> None:
    b = GGUFBuilder()
    b.kv("general.name", STRING, "a")
    b.kv("general.name", STRING, "b")
    with pytest.raises(ModelFileError, match=r"'general\.name' appears twice"):
        read_gguf(write(tmp_path, b.build()))


def test_unknown_value_type(tmp_path: Path) -> None:
    data = preamble(0, 1) + gstr("k") + struct.pack("<I", 77) + b"\0" * 16
    with pytest.raises(ModelFileError, match="unknown value type 77"):
        read_gguf(write(tmp_path, data))


def test_unknown_array_element_type(tmp_path: Path) -> None:
    data = preamble(0, 1) + gstr("k") + struct.pack("<IIQ", ARRAY, 77, 1) + b"\0" * 16
    with pytest.raises(ModelFileError, match="unknown element type 77"):
        read_gguf(write(tmp_path, data))


@pytest.mark.timeout(5)
def test_huge_array_of_arrays(tmp_path: Path) -> None:
    data = preamble(0, 1) + gstr("k") + struct.pack("<IIQ", ARRAY, ARRAY, 10_000_000)
    with pytest.raises(ModelFileError, match="array of 10,000,000 array items"):
        read_gguf(write(tmp_path, data + b"\0" * 100))


@pytest.mark.timeout(5)
def test_deeply_nested_arrays(tmp_path: Path) -> None:
    nest = struct.pack("<IQ", ARRAY, 1) * 1000
    data = preamble(0, 1) + gstr("k") + struct.pack("<I", ARRAY) + nest + b"\0" * 64
    with pytest.raises(ModelFileError, match="nests arrays"):
        read_gguf(write(tmp_path, data))


@pytest.mark.parametrize("alignment", [0, 3, 1 << 30])
def test_bad_alignment(tmp_path: Path, alignment: int) -> None:
    b = GGUFBuilder()
    b.kv("general.alignment", UINT32, alignment)
    with pytest.raises(ModelFileError, match=r"general\.alignment"):
        read_gguf(write(tmp_path, b.build()))


@pytest.mark.timeout(60)
def test_random_corruption_only_raises_model_file_error(tmp_path: Path) -> None:
    rng = random.Random(1234)
    original = valid_builder().build()
    header_end = len(original) - read_gguf(write(tmp_path, original)).tensor_data_bytes
    path = tmp_path / "fuzz.gguf"
    messages: list[str] = []
    for _ in range(1000):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(header_end)
            data[pos] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        path.write_bytes(bytes(data))
        try:
            info = read_gguf(path)
        except ModelFileError as exc:
            messages.append(str(exc))
        else:
            assert info.tensor_data_bytes <= info.file_size
    assert messages
    assert all(m.startswith("fuzz.gguf: ") for m in messages)
