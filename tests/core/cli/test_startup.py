"""Commands that load no model start without the heavy libraries: importing the CLI must not
import the scorers, numpy, the Hugging Face client, the store or Qt, and listing templates or
the history must not import what only a comparison, a report or a model needs. Checked in a
fresh interpreter (this one has imported everything already); behaviour, not timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("sacrebleu", "rouge_score", "nltk", "numpy", "huggingface_hub", "requests",
         "sqlite_utils", "jinja2", "psutil", "llama_cpp", "PySide6")


def _imported_after(code: str, tmp_path: Path) -> set[str]:
    """The HEAVY modules present in ``sys.modules`` after running ``code`` in a fresh child."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_imports_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    assert _imported_after("import playground.cli", tmp_path) == set()


def test_help_imports_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    code = ("import contextlib, io\nfrom playground.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(['--help'])\n    except SystemExit:\n        pass")
    assert _imported_after(code, tmp_path) == set()


def test_listing_templates_reads_the_library_without_store_scorers_or_model(
    tmp_path: Path,
) -> None:
    code = ("import contextlib, io\nfrom playground.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    assert main(['templates', 'list']) == 0\n"
            "assert out.getvalue().strip()")
    # Jinja and YAML read the templates; nothing else heavy is needed to list them.
    assert _imported_after(code, tmp_path) - {"jinja2"} == set()
    # The built-in schemas were checked by the start above; the next start need not import
    # the checker to know them valid.
    _imported_after(code + "\nimport sys\nassert 'jsonschema' not in sys.modules", tmp_path)


def test_history_opens_the_store_without_scorers_hub_or_model(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    code = ("import contextlib, io\nfrom playground.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['history', '--db', {str(db)!r}]) == 0")
    # sqlite-utils is the store, and it imports numpy itself.
    assert _imported_after(code, tmp_path) - {"sqlite_utils", "numpy"} == set()
    # Naming the runs' models reads the saved endpoints, not the HTTP client that reaches them.
    code += ("\nimport sys\nassert 'playground.engine.remote' not in sys.modules\n"
             "assert 'http.client' not in sys.modules")
    _imported_after(code, tmp_path)


def test_scoring_runs_rouge_without_importing_the_rest_of_nltk(tmp_path: Path) -> None:
    code = ("import contextlib, io\nfrom playground.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    assert main(['score', '--hyp', 'the cats sat', '--ref', 'a cat sat']) == 0\n"
            "assert 'rouge1_f' in out.getvalue()\n"
            # NLTK's package, its parsers and corpus readers: none of it is needed to stem.
            "assert not [m for m in sys.modules if m.startswith(('nltk.chunk', 'nltk.corpus'))]")
    imported = _imported_after("import sys\n" + code, tmp_path)
    assert {"rouge_score", "sacrebleu"} <= imported
    assert "nltk" not in imported
