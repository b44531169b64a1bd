"""Downloads from a local fake hub with faults: a dropped connection, a wrong hash, a truncated
file, a gated repository, a slow server and a full disk. Only a checked file becomes a model."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.engine import download, hub, models
from playground.errors import DownloadCancelled, DownloadError, HubAccessError, HubNotFoundError
from tests.core.engine.test_hub import tiny_model
from tests.fake_hub import FakeHub, serve

REPO = "test-org/Tiny-GGUF"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = serve(tmp_path, monkeypatch)
    yield server
    server.stop()


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return tiny_model(tmp_path, "source.gguf", pad=3072)  # about 3 MiB


def listed(name: str) -> hub.HubFile:
    return hub.pick_file(hub.list_gguf_files(REPO), name)


def offered() -> list[Path]:
    return [m.path for m in models.discover_models() if m.source == "user"]


def test_a_download_is_checked_placed_recorded_and_removable(
    fake: FakeHub, model_file: Path
) -> None:
    fake.add_file(REPO, "Tiny-Q8_0.gguf", model_file)
    seen: list[download.Progress] = []
    got = download.download(listed("Q8_0"), on_progress=seen.append)
    assert got.path == models.user_models_dir() / "Tiny-Q8_0.gguf"
    assert got.path.read_bytes() == model_file.read_bytes()
    assert got.sha256_checked and got.info.architecture == "llama"
    assert offered() == [got.path]
    assert not list(download.staging_dir().rglob("*.gguf"))
    assert all(0 <= p.done <= p.total for p in seen)
    [record] = download.downloaded_files()
    assert (record.repo_id, record.filename, record.path) == (REPO, "Tiny-Q8_0.gguf",
                                                              str(got.path))
    # Getting it again finds it there; removing it frees its bytes and forgets it.
    assert download.download(listed("Q8_0")).already_there
    _record, freed = download.remove_downloaded("Tiny-Q8_0")
    assert freed == model_file.stat().st_size and not got.path.exists()
    assert download.downloaded_files() == [] and offered() == []


def test_rm_never_touches_a_file_the_app_did_not_download(fake: FakeHub, tmp_path: Path) -> None:
    other = models.user_models_dir() / "theirs.gguf"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"GGUF not ours")
    with pytest.raises(DownloadError, match="not a model this app downloaded"):
        download.remove_downloaded("theirs")
    assert other.exists()


def test_a_dropped_connection_is_resumed_to_a_complete_file(
    fake: FakeHub, model_file: Path
) -> None:
    size = model_file.stat().st_size
    fake.add_file(REPO, "Tiny-Q8_0.gguf", model_file, drop_at=size // 2)
    got = download.download(listed("Q8_0"))
    assert got.path.read_bytes() == model_file.read_bytes()
    gets = fake.resolve_requests("GET")
    assert len(gets) == 2, gets
    resumed_from = int(gets[1][2].removeprefix("bytes=").split("-")[0])
    assert 0 < resumed_from <= size // 2


def test_a_wrong_hash_is_refused_and_the_file_removed(fake: FakeHub, model_file: Path) -> None:
    fake.add_file(REPO, "Tiny-Q8_0.gguf", model_file, claimed_sha256="0" * 64)
    with pytest.raises(DownloadError, match="failed its SHA-256 check and was removed"):
        download.download(listed("Q8_0"))
    assert offered() == [] and download.downloaded_files() == []
    assert not [p for p in download.staging_dir().rglob("*") if p.suffix == ".gguf"]


def test_a_truncated_file_with_a_matching_hash_fails_the_header_check(
    fake: FakeHub, model_file: Path
) -> None:
    fake.add_file(REPO, "Tiny-Q8_0.gguf", model_file, length=model_file.stat().st_size // 2)
    with pytest.raises(DownloadError, match=r"not a usable GGUF model and was removed: .*trunc"):
        download.download(listed("Q8_0"))
    assert offered() == [] and download.downloaded_files() == []


def test_a_gated_repository_asks_for_a_token(fake: FakeHub, model_file: Path) -> None:
    fake.add_file("gated-org/Gated-GGUF", "Gated-Q8_0.gguf", model_file)
    fake.repos["gated-org/Gated-GGUF"].gated = True
    [file] = hub.list_gguf_files("gated-org/Gated-GGUF")
    with pytest.raises(HubAccessError, match=hub.GATED_MESSAGE):
        download.download(file)
    assert offered() == []


def test_a_file_gone_from_the_hub_is_named(fake: FakeHub, model_file: Path) -> None:
    fake.add_file(REPO, "Tiny-Q8_0.gguf", model_file)
    file = listed("Q8_0")
    del fake.repos[REPO].files["Tiny-Q8_0.gguf"]
    with pytest.raises(HubNotFoundError):
        download.download(file)


def test_a_full_disk_is_refused_before_anything_is_fetched(
    fake: FakeHub, model_file: Path
) -> None:
    fake.add_file(REPO, "Tiny-Q8_0.gguf", model_file)
    file = listed("Q8_0")
    with pytest.raises(DownloadError, match=r"not enough disk space .* nothing was downloaded"):
        download.download(file, free_space=lambda _path: file.size - 1)
    assert fake.resolve_requests("GET") == [] and fake.resolve_requests("HEAD") == []
    assert not download.staging_dir().exists()


def test_cancel_stops_a_slow_download_within_a_second_and_a_later_get_resumes(
    fake: FakeHub, model_file: Path
) -> None:
    served = fake.add_file(REPO, "Tiny-Q8_0.gguf", model_file, delay=0.05)
    file = listed("Q8_0")
    cancel = threading.Event()
    cancelled_at: list[float] = []

    def on_progress(progress: download.Progress) -> None:
        if progress.done > 0 and not cancel.is_set():
            cancelled_at.append(time.monotonic())
            cancel.set()

    with pytest.raises(DownloadCancelled, match="resumes"):
        download.download(file, on_progress=on_progress, cancel=cancel)
    assert cancelled_at and time.monotonic() - cancelled_at[0] < 1.0
    assert offered() == []
    served.delay = 0.0
    got = download.download(file)
    assert got.path.read_bytes() == model_file.read_bytes()
    last_get = fake.resolve_requests("GET")[-1]
    assert last_get[2].startswith("bytes=") and not last_get[2].startswith("bytes=0-")


def test_progress_reads_as_bytes_speed_and_time_left() -> None:
    p = download.Progress(done=50 * 2**20, total=100 * 2**20, speed=10 * 2**20)
    assert p.fraction == 0.5 and p.eta_s == pytest.approx(5.0)
    assert p.describe() == "50.0 MiB of 100.0 MiB, 10.0 MiB/s, 5 s left"
    assert download.Progress(0, 10).eta_s is None
