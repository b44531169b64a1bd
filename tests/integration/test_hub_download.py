"""The bundled model fetched from a local fake hub, through a dropped connection, checked,
offered as a model, loaded and run; and its truncated copy refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.engine import download, hub, models
from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions
from playground.errors import DownloadError
from playground.events import GenerationRequest
from playground.sampling import SamplingParams
from tests.fake_hub import FakeHub, serve
from tests.integration.conftest import collect

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = serve(tmp_path, monkeypatch)
    monkeypatch.setattr(models, "user_models_dir", lambda: tmp_path / "models")
    yield server
    server.stop()


def test_the_bundled_model_downloads_through_a_drop_checks_loads_and_generates(
    fake: FakeHub, default_model_path: Path
) -> None:
    size = default_model_path.stat().st_size
    served = fake.add_file(REPO, NAME, default_model_path, drop_at=size // 2)
    catalog = models.catalog_entry(default_model_path)
    assert catalog is not None and served.sha256 == catalog["sha256"]

    file = hub.pick_file(hub.list_gguf_files(REPO), "Q4_1")
    assessed = hub.assess_files([file], 512)
    assert assessed[0].estimate is not None and assessed[0].info is not None
    assert assessed[0].info.context_length == 8192
    got = download.download(file)

    assert got.sha256_checked and models.sha256_of(got.path) == catalog["sha256"]
    assert [m.path for m in models.discover_models() if m.source == "user"] == [got.path]
    assert len(fake.resolve_requests("GET")) >= 2  # the drop was resumed, not restarted whole
    request = GenerationRequest(prompt="The capital of France is",
                                params=SamplingParams(temperature=0.0, max_tokens=8, seed=1))
    with LocalBackend(got.path, LoadOptions(n_ctx=512)) as backend:
        _, result = collect(backend, request)
    assert result.finish_reason in ("length", "stop")
    assert 0 < result.completion_tokens <= 8


def test_the_truncated_copy_is_refused_and_never_offered(
    fake: FakeHub, default_model_path: Path
) -> None:
    fake.add_file(REPO, NAME, default_model_path, length=default_model_path.stat().st_size // 2)
    file = hub.list_gguf_files(REPO)[0]
    assert hub.assess_files([file], 512)[0].error is not None
    with pytest.raises(DownloadError, match="not a usable GGUF model and was removed"):
        download.download(file)
    assert not any(m.source == "user" for m in models.discover_models())
