"""NLTK's Porter stemmer, and rouge-score, without importing the rest of NLTK.

ROUGE stems with NLTK's Porter stemmer (rouge-score's choice, kept so that numbers stay
comparable with published ones). NLTK's package ``__init__`` imports most of the toolkit
(parsers, corpus readers, classifiers, translation metrics): about a quarter of a second, more
than the rest of ``playground score`` together. The stemmer itself needs three small modules.

So the stemmer module is loaded from NLTK's own files with NLTK's package ``__init__`` left
unrun, and rouge-score is imported while ``nltk`` is a stand-in that imports the real package
the first time anything reads from it. rouge-score reads from it only for ``sent_tokenize``,
when a scorer splits summaries itself, which ours never asks for. The stand-ins leave
``sys.modules`` when the import is done: any other code that imports NLTK gets the whole
package as usual. Where any of this fails (another NLTK layout), the plain imports run: slower,
same numbers.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def porter_stemmer() -> Any:
    """NLTK's ``PorterStemmer`` class (the same code, whichever way it was imported)."""
    if "nltk" in sys.modules:
        from nltk.stem.porter import PorterStemmer  # type: ignore[import-untyped]

        return PorterStemmer
    try:
        return _porter_module().PorterStemmer
    except Exception:
        from nltk.stem.porter import PorterStemmer

        return PorterStemmer


def rouge_scorer_class() -> Any:
    """rouge-score's ``RougeScorer``, imported without running NLTK's package ``__init__``."""
    loaded = sys.modules.get("rouge_score.rouge_scorer")
    if loaded is None and "nltk" not in sys.modules:
        try:
            porter = _porter_module()
            with _stand_ins({"nltk": _deferred("nltk"),
                             "nltk.stem": _package_with("nltk.stem", porter=porter),
                             "nltk.stem.porter": porter}):
                importlib.import_module("rouge_score.rouge_scorer")
        except Exception:
            pass  # the plain import below
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer


@functools.cache
def _porter_module() -> types.ModuleType:
    """``nltk.stem.porter``, executed under bare parent packages that are removed afterwards."""
    root = _nltk_root()
    bare = {"nltk": _bare_package("nltk", root), "nltk.stem": _bare_package("nltk.stem",
                                                                            root / "stem")}
    with _stand_ins(bare):
        return importlib.import_module("nltk.stem.porter")


def _nltk_root() -> Path:
    spec = importlib.util.find_spec("nltk")  # finds the package without running it
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("nltk is not installed")
    return Path(spec.origin).parent


def _bare_package(name: str, path: Path) -> types.ModuleType:
    """A package module whose submodules import from ``path`` but whose ``__init__`` never runs."""
    module = types.ModuleType(name)
    module.__path__ = [str(path)]
    module.__spec__ = importlib.util.spec_from_loader(name, loader=None, is_package=True)
    assert module.__spec__ is not None
    module.__spec__.submodule_search_locations = [str(path)]
    return module


def _package_with(name: str, **attributes: types.ModuleType) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    return module


def _deferred(name: str) -> types.ModuleType:
    """A module that imports the real ``name`` when an attribute is first read from it."""
    module = types.ModuleType(name)

    def __getattr__(attribute: str) -> Any:  # noqa: N807 (PEP 562)
        real = importlib.import_module(name)
        if real is module:  # read while the stand-in is still in sys.modules
            raise AttributeError(f"module {name!r} is not imported yet")
        return getattr(real, attribute)

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


@contextmanager
def _stand_ins(modules: dict[str, types.ModuleType]) -> Iterator[None]:
    """``modules`` in ``sys.modules`` for the block; afterwards every ``nltk`` entry the block
    added is removed again."""
    before = {name for name in sys.modules if _is_nltk(name)}
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name in [n for n in sys.modules if _is_nltk(n)]:
            if name not in before:
                del sys.modules[name]


def _is_nltk(name: str) -> bool:
    return name == "nltk" or name.startswith("nltk.")
