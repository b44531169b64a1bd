"""Searching and listing GGUF repositories, reading headers by range requests and judging what
fits, against a local fake of the hub's API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.engine import hub
from playground.engine.gguf import read_gguf
from playground.errors import HubAccessError, HubNotFoundError, HubOfflineError
from tests import gguf_factory
from tests.fake_hub import FakeHub, serve

REPO = "test-org/Tiny-GGUF"


def tiny_model(tmp_path: Path, name: str = "tiny.gguf", pad: int = 512) -> Path:
    """A valid GGUF with ``pad`` rows of Q8_0 weights, so its size can be chosen."""
    builder = gguf_factory.valid_builder()
    builder.tensor("blk.0.ffn_pad.weight", [1024, pad], gguf_factory.Q8_0)
    return gguf_factory.write(tmp_path, builder.build(), name)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    server = serve(tmp_path, monkeypatch)
    small = tiny_model(tmp_path, "small.gguf", pad=64)
    big = tiny_model(tmp_path, "big.gguf", pad=6144)  # over two header blocks
    server.add_file(REPO, "Tiny-Q4_K_M.gguf", small)
    server.add_file(REPO, "Tiny-Q8_0.gguf", big)
    server.add_file(REPO, "mmproj-Tiny-F16.gguf", small)
    server.add_file(REPO, "README.md", small)
    server.repos[REPO].downloads = 10
    server.add_file("test-org/Other-GGUF", "Other.Q4_1.gguf", small)
    server.add_file("gated-org/Gated-GGUF", "Gated-Q4_K_M.gguf", small)
    server.repos["gated-org/Gated-GGUF"].gated = True
    yield server
    server.stop()


@pytest.mark.parametrize(("name", "quant"), [
    ("Qwen2.5-7B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
    ("qwen2.5-0.5b-instruct-q8_0.gguf", "Q8_0"),
    ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
    ("google_gemma-3-4b-it-IQ4_XS.gguf", "IQ4_XS"),
    ("Llama-3.2-1B-Instruct-f16.gguf", "F16"),
    ("big-Q4_K_M-00001-of-00003.gguf", "Q4_K_M"),
    ("model.gguf", None),
])
def test_the_quantization_is_read_from_the_file_name(name: str, quant: str | None) -> None:
    assert hub.parse_quant(name) == quant


def test_search_finds_gguf_repositories_most_downloaded_first(fake: FakeHub) -> None:
    found = hub.search_models("gguf")
    assert found[0].repo_id == REPO
    assert {r.repo_id for r in found} == set(fake.repos)
    assert [r.repo_id for r in hub.search_models("other")] == ["test-org/Other-GGUF"]
    search = [r for r in fake.requests if r[1] == "/api/models"]
    assert search, "the search went to the configured endpoint"


def test_files_are_listed_with_size_quant_and_the_hubs_hash(fake: FakeHub) -> None:
    files = hub.list_gguf_files(REPO)
    assert [f.filename for f in files] == ["Tiny-Q4_K_M.gguf", "Tiny-Q8_0.gguf"]  # by size
    for f in files:
        served = fake.repos[REPO].files[f.filename]
        assert (f.size, f.sha256) == (served.length, served.sha256)
    assert [f.quant for f in files] == ["Q4_K_M", "Q8_0"]


def test_a_remote_header_reads_as_the_local_file_does_without_fetching_it_all(
    fake: FakeHub, tmp_path: Path
) -> None:
    big = hub.pick_file(hub.list_gguf_files(REPO), "q8_0")
    info = hub.read_remote_header(big)
    local = read_gguf(tmp_path / "big.gguf")
    assert (info.architecture, info.block_count, info.tensor_data_bytes, info.context_length) == (
        local.architecture, local.block_count, local.tensor_data_bytes, local.context_length)
    ranges = [r[2] for r in fake.resolve_requests() if r[2]]
    assert ranges and all(r.startswith("bytes=") for r in ranges)
    fetched = sum(int(b) - int(a) + 1 for a, b in (r[6:].split("-") for r in ranges))
    assert big.size > 3 * hub.HEADER_BLOCK
    assert fetched < big.size // 2  # the header's first block or so, not the whole file


def test_fits_tight_and_will_not_fit_follow_the_estimate(fake: FakeHub) -> None:
    files = hub.list_gguf_files(REPO)
    needed = {a.file.filename: a.estimate.cpu_bytes
              for a in hub.assess_files(files, 512, available=1 << 40) if a.estimate}
    small, big = needed["Tiny-Q4_K_M.gguf"], needed["Tiny-Q8_0.gguf"]
    assert small < big
    # Memory for the big one at exactly 80 %: both fit, the big one is recommended.
    roomy = hub.assess_files(files, 512, available=int(big / hub.FIT_SHARE) + 1)
    assert [a.fit for a in roomy] == ["fits", "fits"]
    best = hub.recommended(roomy)
    assert best is not None and best.file.filename == "Tiny-Q8_0.gguf"
    # Between the two: the big one is tight (over 80 % but under 100 %), the small one fits.
    tight = hub.assess_files(files, 512, available=big)
    assert [a.fit for a in tight] == ["fits", "tight"]
    best = hub.recommended(tight)
    assert best is not None and best.file.filename == "Tiny-Q4_K_M.gguf"
    none = hub.assess_files(files, 512, available=small - 1)
    assert [a.fit for a in none] == ["will not fit", "will not fit"]
    assert hub.recommended(none) is None


def test_a_truncated_remote_file_gets_a_reason_instead_of_an_estimate(
    fake: FakeHub, tmp_path: Path
) -> None:
    full = tmp_path / "big.gguf"
    fake.add_file(REPO, "Tiny-Q6_K.gguf", full, length=full.stat().st_size // 2)
    assessed = {a.file.filename: a for a in hub.assess_files(hub.list_gguf_files(REPO), 512)}
    broken = assessed["Tiny-Q6_K.gguf"]
    assert broken.estimate is None and broken.fit is None
    assert broken.error is not None and "truncated" in broken.error


def test_a_gated_repository_says_how_to_get_access(fake: FakeHub) -> None:
    files = hub.list_gguf_files("gated-org/Gated-GGUF")  # listing is public, as on the hub
    with pytest.raises(HubAccessError, match=hub.GATED_MESSAGE):
        hub.assess_files(files, 512)


def test_hf_token_is_sent(fake: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fake_hub import TOKEN

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    files = hub.list_gguf_files("gated-org/Gated-GGUF")
    assert hub.read_remote_header(files[0]).architecture == "llama"


def test_a_missing_repository_or_file_is_named(fake: FakeHub) -> None:
    with pytest.raises(HubNotFoundError, match="no such repository"):
        hub.list_gguf_files("test-org/Nothing-Here")
    with pytest.raises(HubNotFoundError, match="no file or quantization 'Q2_K'"):
        hub.pick_file(hub.list_gguf_files(REPO), "Q2_K")


def test_offline_mode_and_an_unreachable_hub_are_said_plainly(
    fake: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubOfflineError, match="offline mode is on"):
        hub.search_models("tiny")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    fake.stop()
    with pytest.raises(HubOfflineError, match="could not reach"):
        hub.list_gguf_files(REPO)


def test_the_recommended_list_names_repos_and_files_not_sizes() -> None:
    recommended = hub.load_recommended()
    assert len(recommended) >= 10
    for model in recommended:
        assert "/" in model.repo_id and model.license and model.context_length > 0
        assert model.files and all(f.endswith(".gguf") for f in model.files.values())
        assert all(hub.parse_quant(f) == q for q, f in model.files.items())
