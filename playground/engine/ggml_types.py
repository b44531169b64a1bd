"""ggml's tensor types and llama.cpp's file types: their names, and how many bytes a tensor of a
type takes, which the GGUF reader checks a file's declared sizes against."""

from __future__ import annotations

from typing import Final

# ggml tensor types: id -> (name, elements per block, bytes per block). Ids whose block
# layout is unknown here still get a name but cannot be size-checked.
_GGML_TYPES: Final[dict[int, tuple[str, int, int]]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    4: ("Q4_2", 32, 18),
    5: ("Q4_3", 32, 24),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    31: ("Q4_0_4_4", 32, 18),
    32: ("Q4_0_4_8", 32, 18),
    33: ("Q4_0_8_8", 32, 18),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    36: ("IQ4_NL_4_4", 32, 18),
    37: ("IQ4_NL_4_8", 32, 18),
    38: ("IQ4_NL_8_8", 32, 18),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}

GGML_TYPE_NAMES: Final[dict[int, str]] = {i: t[0] for i, t in _GGML_TYPES.items()}
"""ggml tensor type id -> name, as ggml and llama.cpp print it."""

GGML_BLOCK_SIZES: Final[dict[int, tuple[int, int]]] = {
    i: (t[1], t[2]) for i, t in _GGML_TYPES.items()
}
"""ggml tensor type id -> (elements per block, bytes per block), to size tensor data."""

LLAMA_FTYPE_NAMES: Final[dict[int, str]] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    4: "Q4_1_SOME_F16",
    5: "Q4_2",
    6: "Q4_3",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    33: "Q4_0_4_4",
    34: "Q4_0_4_8",
    35: "Q4_0_8_8",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
    1024: "GUESSED",
}
"""``general.file_type`` (llama.cpp's ``llama_ftype``) -> the name used in quantized file names."""


def ggml_type_name(type_id: int) -> str:
    """Name a tensor type so that unknown ids still show up distinctly in summaries."""
    return GGML_TYPE_NAMES.get(type_id, f"type{type_id}")


def tensor_nbytes(type_id: int, dims: tuple[int, ...] | list[int]) -> int | None:
    """Bytes of data a tensor occupies, or ``None`` when its type's block layout is unknown."""
    layout = GGML_BLOCK_SIZES.get(type_id)
    if layout is None:
        return None
    block_elems, block_bytes = layout
    n = 1
    for d in dims:
        n *= d
    return -(-n // block_elems) * block_bytes
