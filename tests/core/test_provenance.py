"""Reproducibility records: reading llama.cpp's CPU path, naming differences, file hashes
cached by path/size/mtime, the record through the store, and in every export."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from playground import provenance
from playground.engine import machine
from playground.engine.endpoints import Endpoint
from playground.engine.remote import RemoteBackend
from playground.evaluation.exports import export
from playground.evaluation.report import ReportRun, build_report
from playground.events import Finished, GenerationRequest
from playground.runs.history import report_runs
from playground.storage.migrations import migrations
from playground.storage.store import Store
from tests.core.storage.records import make_result

AVX512 = ("CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
          "AVX512 = 1 | AVX512_VBMI = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 |")
AVX2 = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | OPENMP = 1 |"
ARM = "CPU : NEON = 1 | ARM_FMA = 1 | FP16_VA = 1 | DOTPROD = 1 | OPENMP = 1 | REPACK = 1 |"
CUDA = "CUDA : ARCHS = 890 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | " + AVX2


@pytest.mark.parametrize(("info", "path"), [
    (AVX512, "AVX-512"), (AVX2, "AVX2"), (ARM, "NEON"), (CUDA, "CUDA + AVX2"),
    ("CPU : OPENMP = 1 |", "generic"), ("", None),
])
def test_cpu_path_is_read_from_llamas_system_info(info: str, path: str | None) -> None:
    assert machine.cpu_path(info) == path


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "backend": "local", "llama_cpp_python": "0.3.36", "cpu_path": "AVX2",
        "system_info": AVX2, "cpu": "AMD EPYC", "os": "Linux", "n_threads": 2,
        "n_batch": 512, "n_ubatch": 512, "flash_attn": True, "type_k": "f16", "type_v": "f16",
        "n_ctx": 2048, "n_gpu_layers": 0, "model_sha256": "a" * 64,
        "sampler_chain": [{"name": "top-k", "k": 40}, {"name": "dist", "seed": 3}],
        "seed": 3, "prefix_reuse": True, "batching": "single",
    }
    return {**base, **changes}


def test_differences_name_each_field_in_plain_words() -> None:
    then = record(flash_attn=True, cpu_path="AVX-512", system_info=AVX512, batching="batched")
    now = record(flash_attn=False)
    assert provenance.difference_lines(then, now) == [
        "CPU path: AVX-512 then, AVX2 now",
        "flash attention: on then, off now",
        "batching: batched then, single now",
    ]
    assert provenance.difference_lines(record(), record()) == []


def test_a_build_change_on_the_same_cpu_path_shows_the_feature_string() -> None:
    lines = provenance.difference_lines(record(system_info=AVX2 + " REPACK = 1 |"), record())
    assert lines == [f"llama.cpp build features: {AVX2} REPACK = 1 | then, {AVX2} now"]


def test_a_field_missing_then_reads_not_recorded() -> None:
    then = record()
    del then["n_ubatch"]
    assert provenance.difference_lines(then, record()) == [
        "micro-batch size: not recorded then, 512 now"
    ]


def test_sampler_chains_and_hashes_read_briefly() -> None:
    lines = provenance.difference_lines(
        record(sampler_chain=[{"name": "greedy"}], model_sha256="b" * 64), record())
    assert lines == [
        f"model file SHA-256: {'b' * 12} then, {'a' * 12} now",
        "sampler chain: greedy then, top-k(k 40) → dist(seed 3) now",
    ]


def test_mixed_settings_are_said_once_in_plain_words() -> None:
    assert provenance.mixed_settings_note([record(), record(seed=9), None]) is None
    note = provenance.mixed_settings_note(
        [record(), record(), record(flash_attn=False), {"backend": "remote",
                                                        "endpoint": "http://h:8080/v1"}])
    assert note is not None
    assert "backend (local in 3 runs, remote in 1 run)" in note
    assert "flash attention (off in 1 run, on in 2 runs)" in note
    assert note.count("These runs were not all made the same way") == 1


def test_summary_gives_one_value_or_each_with_a_count() -> None:
    rows = dict(provenance.summary([record(), record(n_threads=4), None]))
    assert rows["flash attention"] == "on"
    assert rows["threads"] == "2 (1 run); 4 (1 run)"
    assert rows["runs without a record"] == "1 (made before records were kept)"
    assert "seed" not in rows


# -- file hashes --------------------------------------------------------------------------------


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_file_hash_is_cached_by_path_size_and_mtime(tmp_path: Path, cache_home: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(range(256)) * 1000)
    expected = hashlib.sha256(model.read_bytes()).hexdigest()
    assert machine.cached_sha256(model) is None
    assert machine.file_sha256(model) == expected
    assert machine.hash_cache_path().is_relative_to(cache_home)
    # The cache is what answers next time: a planted value comes back for the unchanged file...
    data = json.loads(machine.hash_cache_path().read_text())
    data[str(model.resolve())]["sha256"] = "0" * 64
    machine.hash_cache_path().write_text(json.dumps(data))
    assert machine.file_sha256(model) == "0" * 64
    # ...and a changed file is hashed again.
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert machine.file_sha256(model) == expected


def test_background_hash_runs_off_the_calling_thread(
    tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"x" * 4096)
    threads: list[str] = []
    real = machine.file_sha256

    def spy(path: Any) -> str:
        threads.append(threading.current_thread().name)
        return real(path)

    monkeypatch.setattr(machine, "file_sha256", spy)
    future = machine.sha256_in_background(model)
    assert future.result(10) == hashlib.sha256(b"x" * 4096).hexdigest()
    assert threads == [threads[0]] and threads[0].startswith("playground-sha256")
    # Asked again for the same file, the same future answers: it is hashed once.
    assert machine.sha256_in_background(model) is future
    with pytest.raises(FileNotFoundError):
        machine.sha256_in_background(tmp_path / "gone.gguf").result(1)


# -- through the store and the reports ----------------------------------------------------------


def test_store_keeps_the_record_and_token_ids(tmp_path: Path) -> None:
    result = dataclasses.replace(make_result("hello there"), record=record(),
                                 token_ids=(5, 6, 7))
    with Store(tmp_path / "h.db") as store:
        run_id = store.save_run(comparison_id=None, variant_id=None, input_id=None, sample=0,
                                seed=3, run_key="k", result=result, status="ok", error=None)
        old_id = store.save_run(comparison_id=None, variant_id=None, input_id=None, sample=0,
                                seed=3, run_key="k2", result=make_result("x"), status="ok",
                                error=None)
        run, old = store.run(run_id), store.run(old_id)
    assert run.record == record()
    assert run.token_ids == (5, 6, 7)
    assert old.record is None and old.token_ids is None


def test_runs_saved_before_records_open_as_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m005_reproducibility_record")
    db.execute("INSERT INTO runs (id, sample, seed, run_key, status, output, created_at) "
               "VALUES (1, 0, 5, 'k', 'ok', 'old text', '2024-01-01T00:00:00+00:00')")
    db.close()
    with Store(path) as store:
        run = store.run(1)
    assert run.output == "old text"
    assert run.record is None and run.token_ids is None
    report = build_report("old", [ReportRun("v", "i", 0, 5, "ok", "p", "old text", (), {},
                                            record=run.record)])
    assert report.how_made == [("runs without a record", "1 (made before records were kept)")]


def report_with_records() -> Any:
    runs = [
        ReportRun("a", "in-1", 0, 3, "ok", "p", "out a", ("ref",), {"bleu": 10.0}, run_id=1,
                  record=record()),
        ReportRun("b", "in-1", 0, 3, "ok", "p", "out b", ("ref",), {"bleu": 20.0}, run_id=2,
                  record=record(flash_attn=False)),
    ]
    return build_report("mixed", runs)


def test_exports_carry_the_record() -> None:
    report = report_with_records()
    rows = list(csv.DictReader(io.StringIO(export(report, "csv"))))
    assert json.loads(rows[1]["record"]) == record(flash_attn=False)
    lines = [json.loads(line) for line in export(report, "jsonl").splitlines()]
    assert lines[0]["record"] == record()


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_reports_say_how_runs_were_made_and_when_they_differ(fmt: str) -> None:
    text = export(report_with_records(), fmt)  # type: ignore[arg-type]
    assert "How these runs were made" in text
    assert "CPU path" in text and "AVX2" in text
    assert text.count("These runs were not all made the same way") == 1
    assert "flash attention (off in 1 run, on in 1 run)" in text
    alike = build_report("same", [dataclasses.replace(r, record=record())
                                  for r in report_with_records().runs])
    assert "not all made the same way" not in export(alike, fmt)  # type: ignore[arg-type]


def test_stored_reports_carry_records(tmp_path: Path) -> None:
    result = dataclasses.replace(make_result("hi"), record=record())
    with Store(tmp_path / "h.db") as store:
        from tests.core.storage.records import make_spec

        cid = store.save_comparison(make_spec())
        store.save_run(comparison_id=cid, variant_id=None, input_id=None, sample=0, seed=3,
                       run_key="k", result=result, status="ok", error=None)
        (run,) = report_runs(store, cid)
    assert run.record == record()


# -- remote runs --------------------------------------------------------------------------------


class _PropsServer(BaseHTTPRequestHandler):
    """A llama.cpp-server-shaped endpoint: /props describes it, /v1/completions streams."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/props":
            body = json.dumps({"build_info": "b4567-abcdef", "model_path": "/srv/m/q.gguf",
                               "total_slots": 2,
                               "default_generation_settings": {"n_ctx": 4096}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for text, finish in (("Hi", None), ("!", "stop")):
            chunk = {"choices": [{"index": 0, "text": text, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def props_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PropsServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_remote_runs_record_the_endpoint_and_what_the_server_says(props_server: str) -> None:
    backend = RemoteBackend(Endpoint("lab", props_server, "served-model"))
    events = list(backend.generate(GenerationRequest(prompt="Say hi")))
    final = events[-1]
    assert isinstance(final, Finished), final
    rec = final.result.record
    assert rec is not None
    assert rec["backend"] == "remote"
    assert rec["endpoint"] == props_server and rec["model_id"] == "served-model"
    assert rec["server"] == {"source": "/props", "build_info": "b4567-abcdef",
                             "model_path": "q.gguf", "total_slots": 2, "n_ctx": 4096}
    assert rec["seed"] == final.result.params.seed
    assert rec["request"] == {"kind": "text"}
