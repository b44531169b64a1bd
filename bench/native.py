"""llama.cpp's own benchmarks as the yardstick: ``llama-bench`` and ``llama-batched-bench``, built
from the source that the pinned llama-cpp-python sdist vendors, so they compute with the same
llama.cpp as the app.

``python bench/native.py build`` (``make bench-native``) builds them once under ``.cache/native``;
:func:`tools` finds them for ``make bench``. A machine without cmake or a C++ compiler gets a
message and no build: the native rows are then left out of the tables, never guessed.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "native"
VERSION = importlib.metadata.version("llama-cpp-python")
SDIST = CACHE / f"llama_cpp_python-{VERSION}.tar.gz"
SOURCE = CACHE / f"llama.cpp-{VERSION}"
BUILD = CACHE / f"build-{VERSION}"
TOOLS = ("llama-bench", "llama-batched-bench")
#: CPU only and nothing the two tools do not need: no curl, no server, no tests.
CMAKE_OPTIONS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DLLAMA_CURL=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
    "-DGGML_CUDA=OFF",
    "-DGGML_METAL=OFF",
    "-DGGML_VULKAN=OFF",
    "-DGGML_HIP=OFF",
)


def tool_path(name: str) -> Path:
    return BUILD / "bin" / name


def tools() -> dict[str, Path] | None:
    """The built tools, or None when ``make bench-native`` has not built them here."""
    found = {name: tool_path(name) for name in TOOLS}
    return found if all(p.is_file() and os.access(p, os.X_OK) for p in found.values()) else None


def missing_toolchain() -> str | None:
    """What stops a build on this machine, in words, or None."""
    if shutil.which("cmake") is None:
        return "cmake is not installed"
    if not any(shutil.which(c) for c in ("c++", "g++", "clang++")):
        return "no C++ compiler (c++, g++ or clang++) is installed"
    return None


def _fetch_sdist() -> None:
    """pip's own client fetches the sdist (from its cache when it holds it)."""
    if SDIST.is_file():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", f"llama-cpp-python=={VERSION}", "--no-deps",
         "--no-binary", ":all:", "-d", str(CACHE)],
        check=True,
    )


def _extract_source() -> None:
    """Only ``vendor/llama.cpp`` of the sdist, into :data:`SOURCE`."""
    if (SOURCE / "CMakeLists.txt").is_file():
        return
    prefix = f"llama_cpp_python-{VERSION}/vendor/llama.cpp/"
    staging = CACHE / f"extract-{VERSION}"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(SDIST) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
        archive.extractall(staging, members=members, filter="data")
    shutil.rmtree(SOURCE, ignore_errors=True)
    (staging / prefix).rename(SOURCE)
    shutil.rmtree(staging, ignore_errors=True)


def build() -> int:
    if tools() is not None:
        print(f"llama-bench and llama-batched-bench {VERSION} are built: {BUILD / 'bin'}")
        return 0
    reason = missing_toolchain()
    if reason is not None:
        print(f"bench-native skipped: {reason}; make bench leaves out the native rows")
        return 0
    _fetch_sdist()
    _extract_source()
    subprocess.run(["cmake", "-S", str(SOURCE), "-B", str(BUILD), *CMAKE_OPTIONS], check=True)
    # CMAKE_BUILD_PARALLEL_LEVEL comes from the Makefile, as for llama-cpp-python's own build.
    subprocess.run(["cmake", "--build", str(BUILD), "--config", "Release", "--target", *TOOLS],
                   check=True)
    if tools() is None:
        print("the build finished but the tools are not where expected", file=sys.stderr)
        return 1
    print(f"built llama-bench and llama-batched-bench {VERSION}: {BUILD / 'bin'}")
    return 0


@dataclass(frozen=True)
class NativeSpeeds:
    """``llama-bench``: prompt processing and generation speed, tokens per second."""

    pp: float
    tg: float
    #: Generation after ``n_prompt`` tokens already in the cache, as the app generates.
    tg_at_depth: float
    n_prompt: int
    n_gen: int


def llama_bench(model: Path, threads: int, n_prompt: int = 64, n_gen: int = 128,
                repetitions: int = 3) -> NativeSpeeds:
    """pp and tg as llama-bench measures them, flash attention on as the app loads models; tg
    also at a depth of ``n_prompt`` (``-d``), where the app's generation starts."""
    found = tools()
    assert found is not None
    out = subprocess.run(
        [str(found["llama-bench"]), "-m", str(model), "-t", str(threads), "-p", str(n_prompt),
         "-n", str(n_gen), "-d", f"0,{n_prompt}", "-fa", "1", "-ngl", "0",
         "-r", str(repetitions), "-o", "json"],
        check=True, capture_output=True, text=True,
    ).stdout
    speeds: dict[tuple[int, int, int], float] = {
        (int(row["n_prompt"]), int(row["n_gen"]), int(row.get("n_depth", 0))): float(row["avg_ts"])
        for row in json.loads(out)
    }
    try:
        return NativeSpeeds(speeds[(n_prompt, 0, 0)], speeds[(0, n_gen, 0)],
                            speeds[(0, n_gen, n_prompt)], n_prompt, n_gen)
    except KeyError as exc:
        raise RuntimeError(f"llama-bench gave no row for {exc}: {sorted(speeds)}") from exc


@dataclass(frozen=True)
class BatchedSpeed:
    """One ``llama-batched-bench`` row: N sequences of a prompt each, then generation."""

    n_parallel: int
    n_prompt: int
    n_gen: int
    generation_tps: float  # aggregate over the N sequences
    total_s: float
    total_tps: float  # prompt + generated tokens over the whole time


def batched_bench(model: Path, threads: int, parallel: tuple[int, ...], n_prompt: int = 64,
                  n_gen: int = 128) -> dict[int, BatchedSpeed]:
    found = tools()
    assert found is not None
    n_ctx = max(parallel) * (n_prompt + n_gen) + 64
    proc = subprocess.run(
        [str(found["llama-batched-bench"]), "-m", str(model), "-t", str(threads),
         "-c", str(n_ctx), "-b", "2048", "-ub", "512", "-fa", "on", "-ngl", "0",
         "-npp", str(n_prompt), "-ntg", str(n_gen), "-npl", ",".join(map(str, parallel)),
         "--output-format", "jsonl"],
        check=True, capture_output=True, text=True,
    )
    rows: dict[int, BatchedSpeed] = {}
    for line in (proc.stdout + "\n" + proc.stderr).splitlines():
        line = line.strip()
        if not line.startswith("{") or '"pl"' not in line:
            continue
        row = json.loads(line)
        rows[int(row["pl"])] = BatchedSpeed(int(row["pl"]), int(row["pp"]), int(row["tg"]),
                                            float(row["speed_tg"]), float(row["t"]),
                                            float(row["speed"]))
    if set(rows) != set(parallel):
        raise RuntimeError(f"llama-batched-bench gave rows for {sorted(rows)}, not {parallel}")
    return rows


if __name__ == "__main__":
    if sys.argv[1:] != ["build"]:
        sys.exit("usage: python bench/native.py build")
    sys.exit(build())
