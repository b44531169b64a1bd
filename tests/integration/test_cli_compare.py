"""`playground compare`, `history`, `show` and `export`, run as a user runs them."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PLAYGROUND_DB": str(tmp_path / "playground.db"),
            "XDG_DATA_HOME": str(tmp_path / "data")}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True,
                          text=True, timeout=300, check=False, env=env)


COMPARE = ("compare", "-T", "sentiment-zero-shot", "-T", "sentiment-few-shot", "-d", "sentiment",
           "--rows", "4", "-k", "2", "--param", "max_tokens=4")


@pytest.mark.model
def test_compare_saves_scores_and_reports(env: dict[str, str], tmp_path: Path) -> None:
    proc = run(env, *COMPARE)
    assert proc.returncode == 0, proc.stderr
    assert "saved as #1" in proc.stderr
    assert "| sentiment-few-shot | 8 | 0 |" in proc.stdout
    assert "Paired comparisons on accuracy" in proc.stdout  # sentiment: the task metric decides
    history = json.loads(run(env, "history", "--json").stdout)
    assert history[0]["runs"] == history[0]["expected_runs"] == 16
    db = sqlite3.connect(env["PLAYGROUND_DB"])
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 16
    metrics = {m for (m,) in db.execute("SELECT DISTINCT metric FROM scores")}
    assert {"rougeL_f", "bleu", "chrf", "ref_ppl", "accuracy"} <= metrics
    shown = run(env, "show", "1")
    assert shown.stdout.startswith("#1: ")
    exported = run(env, "export", "1", "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 16
    page = tmp_path / "report.html"
    assert run(env, "export", "1", "-o", str(page)).returncode == 0
    assert "<svg" in page.read_text(encoding="utf-8")


@pytest.mark.model
def test_history_search_finds_outputs(env: dict[str, str]) -> None:
    assert run(env, *COMPARE).returncode == 0
    found = json.loads(run(env, "history", "--search", "Review", "--json").stdout)
    assert found
    assert all(r["comparison_id"] == 1 for r in found)
    none = run(env, "history", "--search", 'zzqx "AND* NEAR(')
    assert none.returncode == 0
    assert "no runs match" in none.stdout


@pytest.mark.model
def test_an_interrupted_comparison_resumes_where_it_stopped(env: dict[str, str]) -> None:
    args = [sys.executable, "-m", "playground", "compare", "-T", "sentiment-few-shot", "-d",
            "sentiment", "--rows", "10", "-k", "3", "--param", "max_tokens=24", "--no-perplexity"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    assert proc.stderr is not None
    proc.stderr.read(len("#1: 30 runs\n  1/30"))  # wait for the first run
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "cancelled" in err
    assert "--resume 1" in err
    saved = json.loads(run(env, "history", "--json").stdout)[0]
    assert 0 < saved["runs"] < 30
    resumed = run(env, "compare", "--resume", "1", "--no-perplexity")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{saved['runs']} already done" in resumed.stderr
    final = json.loads(run(env, "history", "--json").stdout)[0]
    assert final["runs"] == 30


@pytest.mark.model
def test_a_killed_comparison_keeps_every_finished_run(env: dict[str, str]) -> None:
    args = [sys.executable, "-m", "playground", "compare", "-T", "sentiment-zero-shot", "-d",
            "sentiment", "--rows", "10", "-k", "3", "--param", "max_tokens=24", "--no-perplexity"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    assert proc.stderr is not None
    proc.stderr.read(len("#1: 30 runs\n  1/30 runs"))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    db = sqlite3.connect(env["PLAYGROUND_DB"])
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    done = db.execute("SELECT count(*) FROM runs WHERE status = 'ok'").fetchone()[0]
    assert done >= 1
    unscored = ("SELECT count(*) FROM runs r "
                "WHERE NOT EXISTS (SELECT 1 FROM scores s WHERE s.run_id = r.id)")
    assert db.execute(unscored).fetchone()[0] == 0
    resumed = run(env, "compare", "--resume", "1", "--no-perplexity")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(run(env, "history", "--json").stdout)[0]["runs"] == 30


def test_compare_errors_are_messages(env: dict[str, str], tmp_path: Path) -> None:
    proc = run(env, "compare", "-T", "sentiment-zero-shot", "-d", "no-such-dataset")
    assert proc.returncode == 2
    assert "no dataset named 'no-such-dataset'" in proc.stderr
    bad = tmp_path / "data.csv"
    bad.write_bytes("review,expected\ncaf\xe9,positive\n".encode("latin-1"))
    proc = run(env, "compare", "-T", "sentiment-zero-shot", "-d", str(bad))
    assert proc.returncode == 2
    assert "UTF-8" in proc.stderr
    spec = tmp_path / "spec.yaml"
    spec.write_text("dataset: sentiment\nvariants: [{template: nope}]\n", encoding="utf-8")
    proc = run(env, "compare", "--spec", str(spec))
    assert proc.returncode == 2
    assert "variants[1]: no template named 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.model
def test_a_spec_file_runs(env: dict[str, str], tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: shots\ndataset: sentiment\nrows: 3\nparams: {max_tokens: 4}\nvariants:\n"
        "  - sentiment-zero-shot\n"
        "  - {template: sentiment-few-shot, name: one shot, values: {n_examples: 1}}\n",
        encoding="utf-8",
    )
    proc = run(env, "compare", "--spec", str(spec), "--no-perplexity", "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {r["variant"] for r in records} == {"sentiment-zero-shot", "one shot"}
    assert len(records) == 6


@pytest.mark.model
def test_required_content_checks_are_scored(env: dict[str, str], tmp_path: Path) -> None:
    spec = tmp_path / "checks.yaml"
    spec.write_text(
        "name: checks\ndataset: sentiment\nrows: 2\nparams: {max_tokens: 6}\n"
        "variants: [sentiment-zero-shot]\n"
        "checks: {must_contain: ['(?i)positive|negative|neutral'], must_not_contain: ['http'],"
        " regex: true}\n", encoding="utf-8")
    proc = run(env, "compare", "--spec", str(spec), "--no-perplexity", "--format", "jsonl")
    assert proc.returncode == 0, proc.stderr
    for record in map(json.loads, proc.stdout.splitlines()):
        assert record["forbidden_ok"] == 1.0
        has_label = any(w in record["output"].lower() for w in ("positive", "negative", "neutral"))
        assert record["required_recall"] == (1.0 if has_label else 0.0)
        assert record["checks_pass"] == record["required_recall"]
    spec.write_text("dataset: sentiment\nvariants: [sentiment-zero-shot]\n"
                    "checks: {must_contain: ['(unclosed'], regex: true}\n", encoding="utf-8")
    bad = run(env, "compare", "--spec", str(spec))
    assert bad.returncode == 2
    assert "invalid regular expression" in bad.stderr


@pytest.mark.model
def test_a_temperature_sweep_stores_every_cell_and_charts_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        "name: temperature sweep\ndataset: sentiment\nrows: 2\nsamples: 2\n"
        "sweep: {template: sentiment-zero-shot, param: temperature, values: [0, 0.7, 1.4],"
        " params: {max_tokens: 6}}\n", encoding="utf-8")
    proc = run(env, "compare", "--spec", str(spec), "--no-perplexity")
    assert proc.returncode == 0, proc.stderr
    assert "## Sweep over temperature" in proc.stdout
    for value in ("| 0 |", "| 0.7 |", "| 1.4 |"):
        assert value in proc.stdout
    history = json.loads(run(env, "history", "--json").stdout)[0]
    assert history["runs"] == history["expected_runs"] == 3 * 2 * 2
    page = run(env, "export", "1", "-f", "html").stdout
    assert 'aria-label="sweep"' in page
    assert page.count("<polyline") == 2
    greedy = run(env, "export", "1", "-f", "jsonl").stdout.splitlines()
    at_zero = [json.loads(r) for r in greedy if json.loads(r)["variant"] == "temperature=0"]
    assert len(at_zero) == 4
    # Greedy samples of one input are identical: no variety at temperature 0.
    by_input: dict[str, set[str]] = {}
    for r in at_zero:
        by_input.setdefault(r["input_id"], set()).add(r["output"])
    assert all(len(outputs) == 1 for outputs in by_input.values())
