"""What release 0.1.0 left on a user's disk opens and works with this version.

The files in tests/fixtures/release-0.1 were written by that release's own code (its README says
how): a history database, a user library as exported and as installed, and the window's
settings. Every expected value here is read from those files (the database with plain sqlite3),
never typed in, so the tests say "what was written is read back", whatever the model said then.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from playground.prompts.collection import load_collection, template_values
from playground.prompts.library import import_library, library_document
from playground.prompts.templates import parse_template, render_template
from playground.ratings import DEFAULT_CRITERIA
from playground.runs.history import stored_report
from playground.storage.migrations import known_migrations
from playground.storage.store import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1"
PLAYGROUND = [sys.executable, "-m", "playground"]
#: The schema's tables (sqlite-utils' bookkeeping and the search index aside).
TABLES = ("models", "templates", "libraries", "comparisons", "variants", "inputs", "runs",
          "scores", "ratings", "criterion_ratings", "judgements")


@dataclass(frozen=True)
class Profile:
    """A user's profile as release 0.1.0 left it, copied into the test's own folder."""

    home: Path
    db: Path
    libraries: Path
    settings: Path
    #: an untouched copy of the fixture database, read with plain sqlite3
    original: Path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "PLAYGROUND_DB": str(self.db),
            "PLAYGROUND_ENDPOINTS": str(self.home / "endpoints.json"),
        }


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Profile:
    home = tmp_path / "profile"
    libraries = home / "data" / "prompt-playground" / "libraries"
    shutil.copytree(FIXTURES / "libraries", libraries)
    shutil.copy2(FIXTURES / "history.db", home / "history.db")
    shutil.copy2(FIXTURES / "settings.ini", home / "settings.ini")
    shutil.copy2(FIXTURES / "history.db", tmp_path / "original.db")
    result = Profile(home, home / "history.db", libraries, home / "settings.ini",
                     tmp_path / "original.db")
    for name, value in result.env().items():
        if name.startswith(("XDG_", "PLAYGROUND_")):
            monkeypatch.setenv(name, value)
    return result


def rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


def loaded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def cli(profile: Profile, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*PLAYGROUND, *args], capture_output=True, text=True,
                          timeout=timeout, env=profile.env(), check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


# -- the database -------------------------------------------------------------------------------


def test_the_release_database_is_upgraded_after_a_backup(profile: Profile) -> None:
    written = [r[0] for r in rows(profile.original, "SELECT name FROM _sqlite_migrations "
                                  "ORDER BY applied_at, name")]
    assert written and set(written) < set(known_migrations())  # there is something to apply

    with Store(profile.db) as store:
        notices = list(store.notices)
        store.history()
    backups = sorted(profile.home.glob("history.db.bak*"))
    assert len(backups) == 1
    assert str(backups[0]) in " ".join(notices)
    # The backup is the release's file as it was, row for row.
    assert _dump(backups[0]) == _dump(profile.original)
    applied = {r[0] for r in rows(profile.db, "SELECT name FROM _sqlite_migrations")}
    assert applied == set(known_migrations())

    with Store(profile.db) as store:  # upgraded once: no second backup, nothing to say
        assert store.notices == []
    assert sorted(profile.home.glob("history.db.bak*")) == backups


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_every_table_of_the_fixture_has_rows_but_the_unused_libraries_table(
    profile: Profile,
) -> None:
    """The fixture is only worth as much as what it holds."""
    for table in TABLES:
        (count,) = rows(profile.original, f'SELECT count(*) FROM "{table}"')[0]
        assert (count == 0) == (table == "libraries"), table


def test_comparisons_variants_and_inputs_read_back_as_written(profile: Profile) -> None:
    old = {r["id"]: r for r in rows(profile.original, "SELECT * FROM comparisons")}
    with Store(profile.db) as store:
        history = store.history(limit=100)
        assert [c.id for c in history] == sorted(old, reverse=True)
        for row in history:
            was = old[row.id]
            assert (row.name, row.created_at, row.status, row.samples, row.language) == (
                was["name"], was["created_at"], was["status"], was["samples"], was["language"])
            assert list(row.metrics) == json.loads(was["metrics_json"])
            assert row.spec == json.loads(was["spec_json"])
            spec = row.to_spec()  # the saved spec still builds, template sources included
            assert [v.name for v in spec.variants] == [
                r["name"] for r in rows(profile.original, "SELECT name FROM variants WHERE "
                                        "comparison_id = ? ORDER BY position", (row.id,))]
            variants = rows(profile.original, "SELECT v.*, t.source FROM variants v JOIN "
                            "templates t ON t.hash = v.template_hash WHERE comparison_id = ? "
                            "ORDER BY position", (row.id,))
            assert [(v.id, v.name, v.template_id, v.template_source, v.params, v.model,
                     v.values, v.chat, v.key) for v in store.variants(row.id)] == [
                (v["id"], v["name"], v["template_id"], v["source"], json.loads(v["params_json"]),
                 v["model"], json.loads(v["values_json"]), bool(v["chat"]), v["key"])
                for v in variants]
            inputs = rows(profile.original, "SELECT * FROM inputs WHERE comparison_id = ? "
                          "ORDER BY position", (row.id,))
            assert [(i.id, i.input_key, i.values, list(i.references))
                    for i in store.inputs(row.id)] == [
                (i["id"], i["input_key"], json.loads(i["values_json"]),
                 json.loads(i["references_json"])) for i in inputs]


def test_runs_read_back_as_written_and_show_no_record(profile: Profile) -> None:
    old = {r["id"]: r for r in rows(profile.original, "SELECT * FROM runs")}
    with Store(profile.db) as store:
        runs = {r.id: r for c in store.history(limit=100) for r in store.runs(c.id)}
        assert set(runs) == set(old)
        for run_id, run in runs.items():
            was = old[run_id]
            assert (run.comparison_id, run.variant_id, run.input_id, run.sample, run.seed,
                    run.run_key, run.status, run.error, run.rendered_prompt, run.output,
                    run.finish_reason, run.prompt_tokens, run.completion_tokens, run.ttft_s,
                    run.tokens_per_second, run.total_s, run.created_at) == tuple(
                was[k] for k in ("comparison_id", "variant_id", "input_id", "sample", "seed",
                                 "run_key", "status", "error", "rendered_prompt", "output",
                                 "finish_reason", "prompt_tokens", "completion_tokens", "ttft_s",
                                 "tokens_per_second", "total_s", "created_at"))
            assert run.params == loaded(was["params_json"])
            assert run.model == loaded(was["model_json"])
            # Made before reproducibility records were kept: "not recorded", not an error.
            assert run.record is None
            assert run.token_ids is None
            assert store.run(run_id) == run
        with_alternatives = [r for r in old.values() if r["logprobs_json"] is not None]
        assert with_alternatives  # the Playground run with the token view on
        for was in with_alternatives:
            shown = runs[was["id"]].logprobs
            assert shown is not None
            assert [[t.token, t.logprob, [list(a) for a in t.top]] for t in shown] == \
                json.loads(was["logprobs_json"])
        assert all(runs[i].logprobs is None for i, r in old.items() if r["logprobs_json"] is None)
        # The search index came along: a word of an old output finds its run.
        sample = next(r for r in old.values() if (r["output"] or "").strip())
        word = sample["output"].split()[0]
        assert sample["id"] in {r.id for r in store.search(word)}


def test_scores_read_back_and_empty_outputs_now_score_zero(profile: Profile) -> None:
    old = rows(profile.original, "SELECT s.*, r.output FROM scores s JOIN runs r "
               "ON r.id = s.run_id")
    emptied = {(s["run_id"], s["metric"]) for s in old if s["value"] is None
               and s["reason"] == "empty hypothesis" and not (s["output"] or "").strip()}
    assert emptied  # comparison 2 of the fixture stopped before any text
    with Store(profile.db) as store:
        now = {(r.id, s.metric): s for c in store.history(limit=100) for r in store.runs(c.id)
               for s in r.scores}
    assert set(now) == {(s["run_id"], s["metric"]) for s in old}
    for was in old:
        score = now[(was["run_id"], was["metric"])]
        assert score.signature == was["signature"]
        if (was["run_id"], was["metric"]) in emptied:
            # m006: what was N/A for an empty output is now the 0 a new run would get.
            assert (score.value, score.reason) == (0.0, "empty output")
        else:
            assert (score.value, score.reason) == (was["value"], was["reason"])


def test_ratings_criteria_and_judgements_read_back_as_written(profile: Profile) -> None:
    ratings = {r["run_id"]: r for r in rows(profile.original, "SELECT * FROM ratings")}
    likert = rows(profile.original, "SELECT * FROM criterion_ratings")
    judgements = rows(profile.original, "SELECT * FROM judgements ORDER BY id")
    comparisons = rows(profile.original, "SELECT id, criteria_json FROM comparisons")
    assert any(c["criteria_json"] for c in comparisons)  # changed criteria
    assert any(not c["criteria_json"] for c in comparisons)  # the defaults
    with Store(profile.db) as store:
        runs = [r for c in store.history(limit=100) for r in store.runs(c.id)]
        for run in runs:
            rating = store.rating(run.id)
            was = ratings.get(run.id)
            if was is None:
                assert rating is None and run.rating is None
                continue
            assert rating is not None
            assert (rating.thumbs, rating.stars, rating.note, rating.updated_at) == (
                was["thumbs"], was["stars"], was["note"], was["updated_at"])
            assert run.rating == rating
        for comparison in comparisons:
            cid = comparison["id"]
            criteria = store.criteria(cid)
            assert criteria == (tuple(json.loads(comparison["criteria_json"]))
                                if comparison["criteria_json"] else DEFAULT_CRITERIA)
            run_ids = {r.id for r in store.runs(cid)}
            assert {(r.run_id, r.criterion, r.score, r.note, r.updated_at)
                    for r in store.criterion_ratings(cid)} == {
                (r["run_id"], r["criterion"], r["score"], r["note"], r["updated_at"])
                for r in likert if r["run_id"] in run_ids and r["criterion"] in criteria}
            assert [(j.id, j.input_id, j.run_a, j.run_b, j.choice, j.created_at)
                    for j in store.judgements(cid)] == [
                (j["id"], j["input_id"], j["run_a"], j["run_b"], j["choice"], j["created_at"])
                for j in judgements if j["comparison_id"] == cid]
            # The whole report builds from them: Likert means and the pairwise ranking.
            report = stored_report(store, cid)
            assert report.name == store.comparison(cid).name
    rated = {r["run_id"] for r in likert}
    assert rated and judgements and ratings


def test_the_cli_lists_shows_and_exports_the_release_history(profile: Profile) -> None:
    old = rows(profile.original, "SELECT * FROM comparisons ORDER BY id DESC")
    listed = []
    for kind in ([], ["--runs"]):
        proc = cli(profile, "history", "--json", *kind)
        assert proc.returncode == 0, proc.stderr
        listed += json.loads(proc.stdout)
    # Comparisons and Playground runs are listed apart, each under the number it had.
    assert sorted((c["id"], c["number"], c["name"], c["status"]) for c in listed) == sorted(
        (c["id"], c["id"], c["name"], c["status"]) for c in old)
    assert {c["name"] for c in listed if c["kind"] == "run"} == {
        c["name"] for c in old if c["name"].startswith("Playground: ")}

    for comparison in old:
        # The number the release showed still finds it, a Playground run's too.
        cid = str(comparison["id"])
        runs = rows(profile.original, "SELECT * FROM runs WHERE comparison_id = ? ORDER BY id",
                    (comparison["id"],))
        shown = cli(profile, "show", cid)
        assert shown.returncode == 0, shown.stderr
        assert comparison["name"] in shown.stdout

        exported = cli(profile, "export", cid, "--format", "jsonl")
        assert exported.returncode == 0, exported.stderr
        lines = [json.loads(line) for line in exported.stdout.splitlines() if line.strip()]
        assert sorted((r["run_id"], r["output"], r["seed"]) for r in lines) == [
            (r["id"], r["output"], r["seed"]) for r in runs]
        assert all(r["record"] is None for r in lines)

        for fmt in ("csv", "md", "html"):
            out = profile.home / f"export-{cid}.{fmt}"
            written = cli(profile, "export", cid, "--format", fmt, "--output", str(out))
            assert written.returncode == 0, written.stderr
            assert out.stat().st_size > 0

    sample = rows(profile.original, "SELECT id, output FROM runs WHERE trim(output) != '' "
                  "ORDER BY id LIMIT 1")[0]
    found = cli(profile, "history", "--search", sample["output"].split()[0], "--json")
    assert found.returncode == 0, found.stderr
    assert sample["id"] in {r["run_id"] for r in json.loads(found.stdout)}


@pytest.mark.model
def test_a_new_comparison_is_appended_to_the_release_database(profile: Profile) -> None:
    old_runs = rows(profile.original, "SELECT * FROM runs ORDER BY id")
    (last_comparison,) = rows(profile.original, "SELECT max(id) FROM comparisons")[0]
    proc = cli(profile, "compare", "-T", "sentiment-zero-shot", "-d", "sentiment", "--rows",
               "1", "--param", "max_tokens=4", "--no-perplexity", "--name", "after the upgrade",
               "--output", str(profile.home / "report.md"), timeout=240)
    assert proc.returncode == 0, proc.stderr

    with Store(profile.db) as store:
        history = store.history(limit=100)
        new = history[0]
        assert new.name == "after the upgrade" and new.id > last_comparison
        assert new.status == "done" and new.run_count == 1
        (run,) = store.runs(new.id)
        assert run.id > old_runs[-1]["id"]
        assert run.record is not None  # new runs keep their record
        kept = {r.id: r for c in history[1:] for r in store.runs(c.id)}
        assert sorted(kept) == [r["id"] for r in old_runs]
        assert all(r.record is None for r in kept.values())
        assert [(r.id, r.output) for r in sorted(kept.values(), key=lambda r: r.id)] == [
            (r["id"], r["output"]) for r in old_runs]


# -- the library --------------------------------------------------------------------------------


def _fixture_document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / "library.json").read_text(encoding="utf-8"))
    return doc


def _sections(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("name", "description", "templates", "example_sets", "presets",
                                "datasets")}


@pytest.mark.parametrize("file_name", ["library.json", "library.yaml"])
def test_the_exported_library_imports_whole(file_name: str) -> None:
    path = FIXTURES / file_name
    report = import_library(path.read_bytes(), filename=path.name)
    assert all(item.status == "ok" for item in report.items), report.items
    assert _sections(library_document(report.library)) == _sections(_fixture_document())
    if file_name.endswith(".yaml"):  # both exports of the release say the same
        assert _sections(yaml.safe_load(path.read_text(encoding="utf-8"))) == \
            _sections(_fixture_document())


def test_the_cli_installs_the_exported_library(profile: Profile, tmp_path: Path) -> None:
    fresh = Profile(tmp_path / "fresh", tmp_path / "fresh" / "history.db",
                    tmp_path / "fresh" / "data" / "prompt-playground" / "libraries",
                    tmp_path / "fresh" / "settings.ini", profile.original)
    proc = cli(fresh, "library", "import", str(FIXTURES / "library.yaml"))
    assert proc.returncode == 0, proc.stderr
    collection = load_collection(fresh.libraries)
    assert collection.problems == ()
    name = _fixture_document()["name"]
    assert _sections(library_document(collection.library(name))) == \
        _sections(_fixture_document())


def test_the_installed_library_loads_and_its_templates_render(profile: Profile) -> None:
    doc = _fixture_document()
    collection = load_collection(profile.libraries)
    assert collection.problems == ()
    library = collection.library(doc["name"])
    assert _sections(library_document(library)) == _sections(doc)
    # Every prompt template of it renders with its defaults, includes resolved in the library.
    partials = {t["id"]: t["source"] for t in doc["templates"] if t["id"].startswith("_")}
    prompts = [t for t in doc["templates"] if not t["id"].startswith("_")]
    assert partials and prompts
    for entry in prompts:
        found_library, template = collection.find(f"{doc['name']}/{entry['id']}")
        assert found_library is library
        assert template.source == entry["source"]
        given = {v.name: f"<{v.name}>" for v in template.meta.variables
                 if v.default is None and v.type == "text"}
        values = template_values(library, template, values=given)
        text = render_template(template, values, library=library.sources()).text
        assert all(value in text for value in given.values())
        header = yaml.safe_load(entry["source"].split("{#---", 1)[1].split("---#}")[0])
        for variable, spec in header["variables"].items():
            if isinstance(spec.get("default"), str):
                assert spec["default"] in text, variable
            if spec.get("default_set"):  # the library's own example set is what fills it
                (examples,) = [e["examples"] for e in doc["example_sets"]
                               if e["name"] == spec["default_set"]]
                assert examples[0]["output"] in text
        for partial_id, source in partials.items():
            body = source.split("---#}", 1)[1].strip()
            if f'include "{partial_id}"' in entry["source"] and "{" not in body:
                assert body in text
    # The CLI finds it too, by its library-qualified id.
    last = parse_template(prompts[-1]["source"], prompts[-1]["id"])
    shown = cli(profile, "templates", "render", f"{doc['name']}/{last.id}")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == render_template(
        last, template_values(library, last), library=library.sources()).text.strip()


# -- the window's settings ----------------------------------------------------------------------


@pytest.fixture
def release_settings(profile: Profile) -> Any:
    """The fixture's INI read by Qt, untouched (the window gets its own copy)."""
    from PySide6.QtCore import QSettings

    pristine = profile.home / "release-settings.ini"
    shutil.copy2(FIXTURES / "settings.ini", pristine)
    return QSettings(str(pristine), QSettings.Format.IniFormat)


def test_the_window_opens_on_the_release_settings(
    qtbot: Any, profile: Profile, release_settings: Any
) -> None:
    from PySide6.QtCore import QByteArray, QSettings, Qt, QThreadPool
    from PySide6.QtWidgets import QMainWindow

    from playground.sampling import SamplingParams
    from ui.context import AppContext
    from ui.main_window import MainWindow

    old = release_settings
    settings = QSettings(str(profile.settings), QSettings.Format.IniFormat)
    context = AppContext(settings, db_path=profile.db, libraries_dir=profile.libraries)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    # The window: the tab it was left on; its geometry and layout are still readable (the
    # size itself depends on the screen, which offscreen is smaller than the saved window).
    assert window.tabs.currentIndex() == int(old.value("window/tab"))
    for key, restore in (("window/geometry", QMainWindow().restoreGeometry),
                         ("window/state", QMainWindow().restoreState)):
        saved = old.value(key)
        assert isinstance(saved, QByteArray) and restore(saved), key

    # Playground: the user library's template, the sliders, the seed, the token view.
    view = window.playground
    assert view.picker.current() == (old.value("playground/template_library"),
                                     old.value("playground/template_id"))
    params = SamplingParams.from_dict(json.loads(old.value("playground/params")))
    assert view.params.params() == params
    assert view.params.seed_spin.value() == int(old.value("playground/seed"))
    assert view.token_check.isChecked() == (old.value("playground/token_view") == "true")
    assert view.live_check.isChecked() == (old.value("playground/live") == "true")

    # Compare: the columns, counts and texts, and the confidence threshold.
    compare = window.compare
    state = json.loads(old.value("compare/state"))
    assert [c.setup().name for c in compare.columns] == [c["name"] for c in state["columns"]]
    assert [c.setup().template for c in compare.columns] == [
        c["template"] for c in state["columns"]]
    first = compare.columns[0].setup()
    assert first.params["temperature"] == state["columns"][0]["params"]["temperature"]
    assert (compare.samples_spin.value(), compare.seed_spin.value(),
            compare.rows_spin.value()) == (state["samples"], state["seed"], state["rows"])
    assert compare.shared_input.toPlainText() == state["input"]
    assert compare.references.toPlainText() == state["references"]
    assert compare.confidence_spin.value() == float(old.value("scoring/low_confidence_below"))

    # Models: the load settings of a model path that is gone now are kept, not dropped.
    options = json.loads(old.value("models/options"))
    for key, saved in options.items():
        assert context.hub.options_for(key).n_ctx == saved["n_ctx"]
    added = old.value("models/added")  # a one-item list, which QSettings reads as a string
    assert window.models.added_paths() == ([added] if isinstance(added, str) else added)

    # Evaluate: the comparison it was on, with the release's judgements counted as done.
    evaluated = int(old.value("evaluate/comparison"))
    qtbot.waitUntil(lambda: window.evaluate.comparison_id == evaluated, timeout=10000)
    qtbot.waitUntil(lambda: not window.evaluate.busy, timeout=10000)
    judged = rows(profile.original, "SELECT count(*) FROM judgements WHERE comparison_id = ?",
                  (evaluated,))[0][0]
    assert judged and window.evaluate.pairs_judged == judged

    # History: the list it had (Playground runs), over the upgraded database, each run under
    # the number the release showed; the Playground run opens back with its output and token
    # alternatives.
    history = window.history
    assert old.value("history/kind") == "run" and history.kind_buttons["run"].isChecked()
    qtbot.waitUntil(lambda: not history.loading, timeout=20000)
    singles = rows(profile.original, "SELECT c.id, r.id AS run_id, r.output, r.logprobs_json "
                   "FROM comparisons c JOIN runs r ON r.comparison_id = c.id WHERE c.name LIKE "
                   "'Playground: %' ORDER BY c.id DESC")
    assert [i.comparison.id for i in history.model.items] == [s["id"] for s in singles]
    assert [i.comparison.label for i in history.model.items] == [
        f"Run {s['id']}" for s in singles]
    rect = history.table.visualRect(history.model.index(0, 1))
    with qtbot.waitSignal(history.details_loaded, timeout=10000):
        qtbot.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(context.open_run, timeout=5000) as opened:
        qtbot.mouseClick(history.open_button, Qt.MouseButton.LeftButton)
    assert opened.args == [singles[0]["run_id"]]
    qtbot.waitUntil(lambda: view.output.toPlainText() == singles[0]["output"], timeout=10000)
    assert window.tabs.currentWidget() is view
    assert len(view.token_view.tokens) == len(json.loads(singles[0]["logprobs_json"]))

    # A comparison of the release opens in Compare, one column per variant, every run there.
    window.tabs.setCurrentWidget(history)
    with qtbot.waitSignal(history.history_loaded, timeout=10000):
        qtbot.mouseClick(history.kind_buttons["comparison"], Qt.MouseButton.LeftButton)
    (chosen,) = rows(profile.original, "SELECT id FROM comparisons ORDER BY id LIMIT 1")
    variants = [r["name"] for r in rows(profile.original, "SELECT name FROM variants WHERE "
                                        "comparison_id = ? ORDER BY position", (chosen["id"],))]
    (run_count,) = rows(profile.original, "SELECT count(*) FROM runs WHERE comparison_id = ?",
                        (chosen["id"],))[0]
    row = history.model.row_of_comparison(chosen["id"])
    assert row is not None
    rect = history.table.visualRect(history.model.index(row, 1))
    with qtbot.waitSignal(compare.comparison_opened, timeout=10000) as shown:
        qtbot.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(history.table.viewport(), Qt.MouseButton.LeftButton,
                          pos=rect.center())
    assert shown.args == [chosen["id"]]
    assert window.tabs.currentWidget() is compare
    assert [c.name_edit.text() for c in compare.columns] == variants
    report = compare.score_model.report
    assert report is not None and len(report.runs) == run_count

    assert QThreadPool.globalInstance().waitForDone(20000)
    assert window.last_error is None
    window.close()

    # Saved again by this version: the release's settings are still there.
    reread = QSettings(str(profile.settings), QSettings.Format.IniFormat)
    for key in ("playground/template_library", "playground/template_id", "playground/seed",
                "library/last_user_library", "evaluate/comparison"):
        assert str(reread.value(key)) == str(old.value(key)), key
    assert json.loads(reread.value("playground/params")) == json.loads(
        old.value("playground/params"))
