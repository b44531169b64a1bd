"""NLTK's stemmer and rouge-score loaded without NLTK's package ``__init__``: the same stems and
ROUGE numbers as the plain imports, and nothing left behind for code that imports NLTK later.
Each check runs in a fresh interpreter, since this one may have imported NLTK already."""

from __future__ import annotations

import json
import subprocess
import sys

WORDS = ["running", "generously", "relational", "conditional", "hopefulness", "cats",
         "agreed", "feudalism", "sensibility", "dying", "skies", "national", "caresses"]


def _run(code: str) -> object:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_stemmer_is_nltks_own_and_nltk_stays_unimported() -> None:
    result = _run(
        "import json, sys\n"
        "from playground.evaluation.nltk_lite import porter_stemmer\n"
        f"ours = [porter_stemmer()().stem(w) for w in {WORDS!r}]\n"
        "left = sorted(m for m in sys.modules if m == 'nltk' or m.startswith('nltk.'))\n"
        "from nltk.stem.porter import PorterStemmer\n"  # the plain import, whole package
        f"plain = [PorterStemmer().stem(w) for w in {WORDS!r}]\n"
        "import nltk\n"
        "print(json.dumps([ours, plain, left, hasattr(nltk, 'word_tokenize')]))")
    assert isinstance(result, list)
    ours, plain, left, whole = result
    assert ours == plain
    assert ours != WORDS  # stemming happened
    assert left == []  # the bare packages it ran under are gone again
    assert whole  # a later `import nltk` gets the real package


def test_rouge_numbers_match_rouge_score_imported_plainly() -> None:
    pairs = [("the cats were running home", "a cat runs home"),
             ("generously relational skies", "relational sky and generous people")]
    code = (
        "import json, sys\n"
        "from playground.evaluation.nltk_lite import porter_stemmer, rouge_scorer_class\n"
        "scorer = rouge_scorer_class()(['rouge1', 'rouge2', 'rougeL'], use_stemmer=True)\n"
        f"ours = [{{k: v.fmeasure for k, v in scorer.score(r, h).items()}} for h, r in {pairs!r}]\n"
        "lazy = 'nltk' in sys.modules\n"
        "for name in [m for m in sys.modules if m.startswith(('rouge_score', 'nltk'))]:\n"
        "    del sys.modules[name]\n"
        "from rouge_score.rouge_scorer import RougeScorer\n"
        "plain_scorer = RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=True)\n"
        f"plain = [{{k: v.fmeasure for k, v in plain_scorer.score(r, h).items()}} "
        f"for h, r in {pairs!r}]\n"
        "print(json.dumps([ours, plain, lazy, 'nltk.chunk' in sys.modules]))")
    result = _run(code)
    assert isinstance(result, list)
    ours, plain, lazy, whole = result
    assert ours == plain
    assert any(v < 1.0 for row in ours for v in row.values())
    assert lazy is False  # rouge-score imported, NLTK's package not
    assert whole is True  # the plain import did load it: the check above can tell


def test_rouge_scores_nltk_reference_resolves_to_the_real_package() -> None:
    # rouge-score calls nltk.sent_tokenize when a scorer splits summaries itself.
    result = _run(
        "import json\n"
        "from playground.evaluation.nltk_lite import rouge_scorer_class\n"
        "rouge_scorer_class()\n"
        "from rouge_score import rouge_scorer\n"
        "import nltk.tokenize\n"
        "print(json.dumps(rouge_scorer.nltk.sent_tokenize is nltk.tokenize.sent_tokenize))")
    assert result is True
