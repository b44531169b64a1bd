"""``playground models search|files|get|rm`` against a local fake hub."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.cli import main
from playground.engine import download, models
from tests.core.engine.test_hub import tiny_model
from tests.fake_hub import FakeHub, serve

REPO = "test-org/Tiny-GGUF"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = serve(tmp_path, monkeypatch)
    server.add_file(REPO, "Tiny-Q4_K_M.gguf", tiny_model(tmp_path, "small.gguf", pad=64))
    server.add_file(REPO, "Tiny-Q8_0.gguf", tiny_model(tmp_path, "big.gguf", pad=2048))
    yield server
    server.stop()


def test_search_lists_repositories_and_without_a_query_the_recommended_ones(
    fake: FakeHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "search", "tiny"]) == 0
    assert REPO in capsys.readouterr().out
    assert main(["models", "search"]) == 0
    listing = capsys.readouterr().out
    assert "Qwen2.5 7B Instruct" in listing and "bartowski/Qwen2.5-7B-Instruct-GGUF" in listing


def test_files_shows_size_quant_estimate_fit_and_the_recommended_file(
    fake: FakeHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "files", REPO, "--n-ctx", "512"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert set(rows) == {"Tiny-Q4_K_M.gguf", "Tiny-Q8_0.gguf"}
    assert "Q4_K_M" in rows["Tiny-Q4_K_M.gguf"] and "needs" in rows["Tiny-Q4_K_M.gguf"]
    # A few MiB fit any machine that runs the tests; the largest is the recommendation.
    assert rows["Tiny-Q8_0.gguf"].endswith("fits <- recommended")
    assert not rows["Tiny-Q4_K_M.gguf"].endswith("recommended")


def test_get_downloads_the_recommended_file_lists_it_and_rm_frees_it(
    fake: FakeHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "get", REPO]) == 0
    captured = capsys.readouterr()
    assert "picked Tiny-Q8_0.gguf" in captured.err and "%" in captured.err
    path = models.user_models_dir() / "Tiny-Q8_0.gguf"
    assert path.is_file() and "SHA-256 checked" in captured.out
    size = path.stat().st_size
    assert main(["models", "--json"]) == 0
    assert str(path) in capsys.readouterr().out
    assert main(["models", "rm", "Tiny-Q8_0"]) == 0
    assert "freed" in capsys.readouterr().out and not path.exists()
    assert main(["models", "rm", "Tiny-Q8_0"]) == 2
    assert "not a model this app downloaded" in capsys.readouterr().err
    assert size > 0


def test_ctrl_c_stops_get_cleanly_and_get_again_resumes(
    fake: FakeHub, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.repos[REPO].files["Tiny-Q8_0.gguf"].delay = 0.05
    done = threading.Event()

    def ctrl_c_once_bytes_arrive() -> None:
        while not done.is_set():
            if any(p.stat().st_size for p in download.staging_dir().rglob("*.incomplete")):
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.02)

    presser = threading.Thread(target=ctrl_c_once_bytes_arrive)
    presser.start()
    try:
        assert main(["models", "get", f"{REPO}:Tiny-Q8_0.gguf"]) == 130
    finally:
        done.set()
        presser.join()
    assert "stopped" in capsys.readouterr().err
    assert not (models.user_models_dir() / "Tiny-Q8_0.gguf").exists()
    fake.repos[REPO].files["Tiny-Q8_0.gguf"].delay = 0.0
    assert main(["models", "get", f"{REPO}:q8_0"]) == 0
    assert (models.user_models_dir() / "Tiny-Q8_0.gguf").is_file()
    last = fake.resolve_requests("GET")[-1][2]
    assert last.startswith("bytes=") and not last.startswith("bytes=0-")


def test_a_gated_model_gets_a_plain_message(
    fake: FakeHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_file("gated-org/Gated-GGUF", "Gated-Q4_K_M.gguf", tmp_path / "small.gguf")
    fake.repos["gated-org/Gated-GGUF"].gated = True
    assert main(["models", "get", "gated-org/Gated-GGUF"]) == 2
    err = capsys.readouterr().err
    assert "this model is gated: accept its licence on huggingface.co and set HF_TOKEN" in err
    assert "Traceback" not in err
