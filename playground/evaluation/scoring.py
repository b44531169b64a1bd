"""Reference-based scores for model outputs: ROUGE, BLEU and chrF, in any script.

Scales are the libraries' own, so numbers can be compared with published results: ROUGE
precision, recall and F1 are 0–1 (rouge_score), BLEU and chrF are 0–100 (sacreBLEU).

Policies, decided once here so every caller reports the same thing:

* **An empty output is a wrong answer.** An empty (or whitespace-only) output against a
  non-empty reference scores 0 on every metric, as sacreBLEU and rouge-score score it, and
  counts in every mean, interval, test and corpus score (``reason`` notes that it was empty).
  Leaving it out would let a prompt that makes the model say nothing on hard inputs score
  higher than one that tries.
* **Not applicable is not zero.** Only the reference side makes a metric *not applicable*:
  no reference, or only empty ones. Its :class:`Score` then has ``value=None`` and a
  ``reason``. Empty references next to non-empty ones are ignored.
* **Several references: the best one counts.** ROUGE scores the hypothesis against each
  reference and keeps, per ROUGE type, the precision/recall/F1 of the reference with the
  highest F1 (the first one on a tie) — the policy of rouge_score's own ``score_multi``.
  BLEU and chrF use sacreBLEU's native multi-reference scoring (BLEU clips n-gram counts
  against the union of references and takes the closest reference length; chrF keeps the
  reference with the best F-score).
* **ROUGE-N needs N tokens in a reference.** A reference too short to hold a single N-gram is
  ignored for ROUGE-N; when no reference is long enough, ROUGE-N is not applicable rather
  than a misleading zero (a one-word answer has no bigrams to recall).
* **Every script is tokenized.** rouge_score's own tokenizer keeps only ``[a-z0-9]``, so two
  identical Chinese answers score 0 and ``café`` matches ``cafe``. ROUGE here always uses
  :class:`ScriptAwareTokenizer`, which gives the same tokens as rouge_score's on ASCII text.
* **BLEU's tokenizer follows the target language** (given, or guessed from the references'
  script), because sacreBLEU's default ``13a`` treats a whole unspaced Chinese, Japanese or
  Thai sentence as a single word.
* **Every score carries a signature** naming metric, tokenizer, options and library version,
  so a number stored today can be told apart from one computed with other settings.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from typing import Any, cast

from sacrebleu.metrics.bleu import BLEU, BLEUSignature
from sacrebleu.metrics.chrf import CHRF, CHRFSignature

from playground.errors import PlaygroundError
from playground.scores import Score

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")
#: Each ROUGE entry expands to three scores (``_p``, ``_r``, ``_f``); BLEU and chrF to one.
DEFAULT_METRICS: tuple[str, ...] = (*ROUGE_TYPES, "bleu", "chrf")

#: sacreBLEU tokenizers a caller may force. The sentencepiece ones (spm, flores101/200) are
#: left out on purpose: they download a model on first use and this app works offline.
BLEU_TOKENIZERS: tuple[str, ...] = ("13a", "intl", "zh", "char", "ja-mecab", "ko-mecab", "none")

TOKENIZER_NAME = "script-aware-v1"
#: Name of the sentence-splitting rule used for ROUGE-Lsum, part of its signature.
SENTENCE_SPLIT_NAME = "lines+punct-v1"

#: The note on the zero an empty output scores (not a reason for N/A).
EMPTY_HYPOTHESIS = "empty output"
NO_REFERENCE = "no reference"
EMPTY_REFERENCE = "empty reference"
NO_REFERENCE_WORDS = "reference has no words"


class ScoringError(PlaygroundError, ValueError):
    """A scoring request is malformed: unknown metric or tokenizer, or mis-shaped references."""


# --- Script-aware tokenization ----------------------------------------------------------

# Scripts written without spaces between words: every character is a token. Han (Chinese
# characters, Japanese kanji) and kana; Korean Hangul is left out because it is written with
# spaces, so its words stay whole.
_CJK = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3038-\u303c"
    "\u3041-\u3096\u3099-\u309f\u30a1-\u30fa\u30fc-\u30ff\u3100-\u312f\u31a0-\u31bf"
    "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\U00020000-\U0003ffff"
)
# Thai, Lao, Myanmar and Khmer: unspaced too. A token is a base character with the vowel and
# tone marks written on it, so marks never stand alone.
_NO_SPACE = (
    "\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\u19e0-\u19ff\ua9e0-\ua9ff\uaa60-\uaa7f"
)
# Emoji skin-tone modifiers are symbols (Sk) that belong to the emoji before them.
_EMOJI_MODIFIERS = "\U0001f3fb-\U0001f3ff"

# Script detection for choosing a BLEU tokenizer.
_HAN = "\u3005\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_KANA = "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9d"
_HANGUL = "\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3"
_LETTER = r"[^\W\d_]"


def _letters_of(ranges: str) -> re.Pattern[str]:
    return re.compile(f"(?={_LETTER})[{ranges}]")


_HAN_RE = _letters_of(_HAN)
_KANA_RE = _letters_of(_KANA)
_HANGUL_RE = _letters_of(_HANGUL)
_NO_SPACE_RE = _letters_of(_NO_SPACE)
_LETTER_RE = re.compile(_LETTER)


def _char_class(code_points: Iterable[int]) -> str:
    """Contents of a regex character class, as escaped ranges, for a sorted set of code points."""
    parts: list[str] = []
    for _, run in itertools.groupby(enumerate(code_points), lambda pair: pair[1] - pair[0]):
        points = [cp for _, cp in run]
        first, last = points[0], points[-1]
        parts.append(f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}")
    return "".join(parts)


#: The token pattern's words on case-folded ASCII text (see :func:`_token_pattern`).
_ASCII_WORD = re.compile(r"[a-z0-9]+")


@functools.cache
def _token_pattern() -> re.Pattern[str]:
    """The token regex; built on first use because it walks the Unicode database (~15 ms).

    Python's ``\\w`` excludes combining marks, which would cut Devanagari, Arabic with
    vowel signs or decomposed accents into pieces, so marks are added back explicitly; ``So``
    symbols (emoji, ©) become tokens so that an answer made of them can still match.
    Marks and ``So`` symbols are only assigned in planes 0, 1 and 14, so only those are read.
    """
    marks: list[int] = []
    symbols: list[int] = []
    for cp in itertools.chain(range(0x20000), range(0xE0000, 0xE1000)):
        category = unicodedata.category(chr(cp))
        if category[0] == "M":
            marks.append(cp)
        elif category == "So":
            symbols.append(cp)
    mark = _char_class(marks)
    symbol = _char_class(symbols)
    unspaced = _CJK + _NO_SPACE
    return re.compile(
        # One character of an unspaced script, with its marks.
        f"(?=[^\\W_])[{unspaced}][{mark}]*"
        # A word: letters and digits (not underscore, as rouge_score) plus combining marks.
        f"|(?:(?![{unspaced}])[^\\W_]|[{mark}])+"
        # A symbol such as an emoji, with its variation selector or skin tone.
        f"|[{symbol}][{mark}{_EMOJI_MODIFIERS}]*"
    )


class ScriptAwareTokenizer:
    """Tokenizer for rouge_score that keeps every script instead of only ``[a-z0-9]``.

    Text is NFKC-normalized (full-width and ligature forms match their plain forms) and
    case-folded; words are runs of Unicode letters, digits and combining marks; Han, kana,
    Thai, Lao, Khmer and Myanmar characters are one token each because those scripts put no
    spaces between words; emoji and other ``So`` symbols are one token each; punctuation
    separates tokens. With stemming, only ASCII words longer than three characters go through
    the Porter stemmer, exactly as rouge_score does — so on ASCII text the tokens are the same
    as rouge_score's default tokenizer, and ROUGE numbers stay comparable with published ones.
    """

    name = TOKENIZER_NAME

    def __init__(self, stem: bool = True) -> None:
        self._stem: Callable[[str], str] | None = None
        if stem:
            from playground.evaluation.nltk_lite import porter_stemmer

            # Same stemmer and mode as rouge_score; cached because stemming dominates the cost.
            self._stem = functools.lru_cache(maxsize=1 << 16)(porter_stemmer()().stem)
        # rouge_score re-tokenizes the hypothesis for every reference and every ROUGE type.
        self._cached = functools.lru_cache(maxsize=1024)(self._tokenize)

    def tokenize(self, text: str) -> list[str]:
        return list(self._cached(text))

    def _tokenize(self, text: str) -> tuple[str, ...]:
        folded = unicodedata.normalize("NFKC", text).casefold()
        # ASCII has no marks, no So symbols and no unspaced script: the full pattern finds
        # exactly the runs of letters and digits there, and is only built for other text.
        pattern = _ASCII_WORD if folded.isascii() else _token_pattern()
        tokens: list[str] = pattern.findall(folded)
        stem = self._stem
        if stem is not None:
            tokens = [stem(t) if len(t) > 3 and t.isascii() else t for t in tokens]
        return tuple(tokens)


_SENTENCE_END = re.compile(
    # Latin-style terminators need whitespace after them, so "3.5" and "example.com" stay whole.
    r"([.!?…؟।॥]+[\"'’”»)\]]*)\s+"
    # Chinese and Japanese terminators are not followed by a space.
    r"|([。！？｡]+[」』）\"”]*)\s*"
)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, for ROUGE-Lsum.

    rouge_score's ROUGE-Lsum treats each line as a sentence and does not split lines itself
    (its optional splitter needs nltk's punkt data, a download), so model output written as
    one paragraph would be scored as a single sentence. Lines are split first, then each line
    after sentence-final punctuation. The rule is deliberately simple and applied to both
    sides alike: an abbreviation followed by a space ("e.g. this") also ends a sentence.
    """
    marked = _SENTENCE_END.sub(lambda m: (m.group(1) or m.group(2)) + "\n", text)
    return [line.strip() for line in marked.splitlines() if line.strip()]


# --- BLEU tokenizer choice --------------------------------------------------------------

_LANGUAGE_TOKENIZERS = {
    "zh": "zh",
    "cmn": "zh",
    "yue": "zh",
    "ja": "ja-mecab",
    "ko": "ko-mecab",
    "th": "char",
    "lo": "char",
    "km": "char",
    "my": "char",
}
# MeCab tokenizers need extra packages (sacrebleu[ja], sacrebleu[ko]) and their dictionaries.
# Without them, characters are the next best unit: word-level 13a would see a Japanese
# sentence as one word, and Korean words carry particles that make whole-word matches rare.
_MECAB_FALLBACK = "char"


@functools.cache
def _bleu_tokenizer_available(name: str) -> bool:
    try:
        BLEU(tokenize=name)
    except (ImportError, RuntimeError, AssertionError, OSError):
        return False
    return True


def _primary_language(language: str | None) -> str | None:
    if language is None:
        return None
    if not isinstance(language, str):
        raise ScoringError(f"language must be a language code such as 'en', got {language!r}")
    primary = language.strip().replace("_", "-").split("-")[0].lower()
    return primary or None


def guess_language(texts: Iterable[str]) -> str | None:
    """A language code standing for the texts' script, or None for spaced scripts.

    Only used to pick a BLEU tokenizer, so it answers the one question that matters there —
    does this script separate words with spaces? A script wins when at least a quarter of the
    letters are in it (Latin words are several letters long, so mixed Chinese-English text
    still counts as Chinese); Han text with a fifth or more kana is Japanese.
    """
    text = "".join(texts)
    letters = len(_LETTER_RE.findall(text))
    if not letters:
        return None
    han = len(_HAN_RE.findall(text))
    kana = len(_KANA_RE.findall(text))
    cjk = han + kana
    if 4 * cjk >= letters:
        return "ja" if 5 * kana >= cjk else "zh"
    if 4 * len(_HANGUL_RE.findall(text)) >= letters:
        return "ko"
    if 4 * len(_NO_SPACE_RE.findall(text)) >= letters:
        return "th"
    return None


def choose_bleu_tokenizer(language: str | None, references: Iterable[str] = ()) -> str:
    """The sacreBLEU tokenizer for a target language, or for the references' script.

    ``zh`` → ``zh``; ``ja``/``ko`` → ``ja-mecab``/``ko-mecab`` when installed, else ``char``;
    Thai, Lao, Khmer, Myanmar → ``char``; anything else → ``13a`` (sacreBLEU's default).
    """
    primary = _primary_language(language)
    if primary is None:
        primary = guess_language(references)
    name = _LANGUAGE_TOKENIZERS.get(primary or "", "13a")
    if name.endswith("-mecab") and not _bleu_tokenizer_available(name):
        name = _MECAB_FALLBACK
    return name


# --- Scorer -----------------------------------------------------------------------------

_ROUGE_N = re.compile(r"rouge([1-9])")


def _metric_plan(metrics: Sequence[str]) -> list[str]:
    if isinstance(metrics, str):
        metrics = (metrics,)
    plan: list[str] = []
    for name in metrics:
        known = name in ("rougeL", "rougeLsum", "bleu", "chrf") or (
            isinstance(name, str) and _ROUGE_N.fullmatch(name) is not None
        )
        if not known:
            raise ScoringError(
                f"unknown metric {name!r}; choose from {', '.join(DEFAULT_METRICS)} "
                "(or rouge3 to rouge9)"
            )
        if name not in plan:
            plan.append(name)
    return plan


def _reference_list(references: Sequence[str], where: str = "references") -> list[str]:
    # A bare string is a sequence too: it would silently become one reference per character.
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise ScoringError(f"{where} must be a list of strings, got {type(references).__name__}")
    for ref in references:
        if not isinstance(ref, str):
            raise ScoringError(f"{where} must hold strings, got {type(ref).__name__}")
    return list(references)


def is_empty_output(text: str) -> bool:
    """Whether an output says nothing: it then scores 0 against any non-empty reference."""
    return not text.strip()


def _not_applicable(references: Sequence[str], usable: Sequence[str]) -> str | None:
    """Why no score can be given, from the references alone: the output cannot make a score
    not applicable (see the module's policies)."""
    if not references:
        return NO_REFERENCE
    if not usable:
        return EMPTY_REFERENCE
    return None


@functools.cache
def _rouge_version() -> str:
    return metadata.version("rouge-score")


def _chrf_name(metric: CHRF) -> str:
    # The name sacreBLEU prints for its chrF scores (chrF2, chrF2++...).
    return f"chrF{metric.beta}" + "+" * metric.word_order


class Scorer:
    """Scores hypotheses against references, reusing the metric objects between calls.

    Each RougeScorer (per set of ROUGE types) and sacreBLEU metric (per BLEU tokenizer) is
    built once and kept, together with the tokenizer whose stem and tokenization caches make
    repeated scoring cheaper: rouge_score tokenizes the hypothesis again for every reference
    and ROUGE type, and model outputs repeat the same words. Building them per pair would
    also throw those caches away.
    ``language`` (a code such as ``"zh"`` or ``"pt-BR"``) picks BLEU's tokenizer; without it
    the tokenizer is chosen from each reference set's script. ``tokenize`` forces a sacreBLEU
    tokenizer, e.g. ``"intl"``. A Scorer may be shared between threads.
    """

    def __init__(
        self, *, stem: bool = True, language: str | None = None, tokenize: str | None = None
    ) -> None:
        self._stem = stem
        self._tokenizer = ScriptAwareTokenizer(stem)
        self._fixed_tokenize: str | None = None
        if tokenize is not None:
            if tokenize not in BLEU_TOKENIZERS:
                raise ScoringError(
                    f"unknown BLEU tokenizer {tokenize!r}; choose from {', '.join(BLEU_TOKENIZERS)}"
                )
            if not _bleu_tokenizer_available(tokenize):
                raise ScoringError(
                    f"the BLEU tokenizer {tokenize!r} needs packages that are not installed "
                    f"(pip install 'sacrebleu[{tokenize[:2]}]')"
                )
            self._fixed_tokenize = tokenize
        elif _primary_language(language) is not None:
            self._fixed_tokenize = choose_bleu_tokenizer(language)
        self._rouge_scorers: dict[tuple[str, ...], Any] = {}
        self._sentence_bleus: dict[str, BLEU] = {}
        self._corpus_bleus: dict[str, BLEU] = {}
        self._chrf = CHRF()
        # sacreBLEU metrics record the reference count of their last call in the object, and
        # the signature is read from there: a call and its signature must not interleave.
        self._lock = threading.Lock()

    # Metric objects ---------------------------------------------------------------------

    def _rouge_scorer(self, rouge_types: tuple[str, ...]) -> Any:
        with self._lock:
            scorer = self._rouge_scorers.get(rouge_types)
            if scorer is None:
                from playground.evaluation.nltk_lite import rouge_scorer_class

                scorer = rouge_scorer_class()(list(rouge_types), tokenizer=self._tokenizer)
                self._rouge_scorers[rouge_types] = scorer
            return scorer

    def _bleu(self, tokenize: str, *, sentence: bool) -> BLEU:
        cache = self._sentence_bleus if sentence else self._corpus_bleus
        with self._lock:
            metric = cache.get(tokenize)
            if metric is None:
                # Effective order for single sentences: without it any sentence shorter than
                # four tokens scores 0. Corpus BLEU keeps the standard definition.
                metric = BLEU(tokenize=tokenize, effective_order=sentence)
                cache[tokenize] = metric
            return metric

    def _bleu_tokenize(self, references: Iterable[str]) -> str:
        return self._fixed_tokenize or choose_bleu_tokenizer(None, references)

    # ROUGE ------------------------------------------------------------------------------

    def _rouge_signature(self, rouge_type: str, nrefs: int) -> str:
        parts = [
            f"rouge:{rouge_type.removeprefix('rouge')}",
            f"tok:{TOKENIZER_NAME}",
            f"stem:{'yes' if self._stem else 'no'}",
            "multi:max-f1",
            f"nrefs:{nrefs}",
        ]
        if rouge_type == "rougeLsum":
            parts.append(f"split:{SENTENCE_SPLIT_NAME}")
        parts.append(f"version:rouge_score-{_rouge_version()}")
        return "|".join(parts)

    def _rouge_scores(
        self,
        rouge_type: str,
        signature: str,
        values: tuple[float, float, float] | None,
        reason: str | None,
    ) -> list[Score]:
        if values is None:
            return [Score(f"{rouge_type}_{k}", None, signature, reason) for k in "prf"]
        return [
            Score(f"{rouge_type}_{k}", float(v), signature, reason)
            for k, v in zip("prf", values, strict=True)
        ]

    def _rouge(
        self, hypothesis: str, usable: list[str], rouge_types: tuple[str, ...], na: str | None
    ) -> dict[str, list[Score]]:
        if na is not None:
            return {
                t: self._rouge_scores(t, self._rouge_signature(t, len(usable)), None, na)
                for t in rouge_types
            }
        if "rougeLsum" in rouge_types:
            # Newlines are separators for every other type, so one text serves all of them.
            hypothesis = "\n".join(split_sentences(hypothesis))
            usable = ["\n".join(split_sentences(ref)) for ref in usable]
        lengths = [len(self._tokenizer.tokenize(ref)) for ref in usable]
        scorer = self._rouge_scorer(rouge_types)
        per_reference = [
            scorer.score(ref, hypothesis) if n else None
            for ref, n in zip(usable, lengths, strict=True)
        ]
        out: dict[str, list[Score]] = {}
        for rouge_type in rouge_types:
            match = _ROUGE_N.fullmatch(rouge_type)
            need = int(match.group(1)) if match else 1
            candidates = [
                scores[rouge_type]
                for scores, n in zip(per_reference, lengths, strict=True)
                if scores is not None and n >= need
            ]
            signature = self._rouge_signature(rouge_type, len(candidates))
            if not candidates:
                reason = (
                    NO_REFERENCE_WORDS
                    if need == 1 or not any(lengths)
                    else f"reference has fewer than {need} tokens, so no {need}-grams"
                )
                out[rouge_type] = self._rouge_scores(rouge_type, signature, None, reason)
                continue
            # max() keeps the first of equals, as rouge_score's score_multi (numpy argmax).
            best = max(candidates, key=lambda s: s.fmeasure)
            values = (best.precision, best.recall, best.fmeasure)
            note = EMPTY_HYPOTHESIS if is_empty_output(hypothesis) else None
            out[rouge_type] = self._rouge_scores(rouge_type, signature, values, note)
        return out

    # sacreBLEU --------------------------------------------------------------------------

    def _sentence_bleu(self, hypothesis: str, usable: list[str], na: str | None) -> Score:
        metric = self._bleu(self._bleu_tokenize(usable), sentence=True)
        if na is not None:
            signature = BLEUSignature({**vars(metric), "num_refs": len(usable)}).format()
            return Score("bleu", None, f"BLEU|{signature}", na)
        with self._lock:
            result = metric.sentence_score(hypothesis, usable)
            signature = metric.get_signature().format()
        return Score("bleu", float(result.score), f"{result.name}|{signature}",
                     _empty_note(hypothesis))

    def _sentence_chrf(self, hypothesis: str, usable: list[str], na: str | None) -> Score:
        metric = self._chrf
        if na is not None:
            signature = CHRFSignature({**vars(metric), "num_refs": len(usable)}).format()
            return Score("chrf", None, f"{_chrf_name(metric)}|{signature}", na)
        with self._lock:
            result = metric.sentence_score(hypothesis, usable)
            signature = metric.get_signature().format()
        return Score("chrf", float(result.score), f"{result.name}|{signature}",
                     _empty_note(hypothesis))

    # Public API -------------------------------------------------------------------------

    def score_pair(
        self,
        hypothesis: str,
        references: Sequence[str],
        *,
        metrics: Sequence[str] = DEFAULT_METRICS,
    ) -> list[Score]:
        """Scores of one output against its references, in the order of ``metrics``.

        A metric that cannot be computed still appears, with ``value=None`` and a reason, so a
        results table always has the same columns. An empty output scores what the libraries
        give it, 0, with the note :data:`EMPTY_HYPOTHESIS`.
        """
        plan = _metric_plan(metrics)
        if not isinstance(hypothesis, str):
            raise ScoringError(f"hypothesis must be a string, got {type(hypothesis).__name__}")
        refs = _reference_list(references)
        usable = [ref for ref in refs if ref.strip()]
        na = _not_applicable(refs, usable)

        rouge_types = tuple(name for name in plan if name.startswith("rouge"))
        rouge = self._rouge(hypothesis, usable, rouge_types, na) if rouge_types else {}
        scores: list[Score] = []
        for name in plan:
            if name == "bleu":
                scores.append(self._sentence_bleu(hypothesis, usable, na))
            elif name == "chrf":
                scores.append(self._sentence_chrf(hypothesis, usable, na))
            else:
                scores.extend(rouge[name])
        return scores

    def corpus_bleu(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> Score:
        """Corpus BLEU of one variant: n-gram statistics summed over inputs, then combined.

        This is the standard BLEU, not the mean of sentence BLEUs (which over-rewards short
        outputs). Empty outputs count, as in sacreBLEU: they add reference length and no
        matches. Inputs without a non-empty reference are left out; ``reason`` says how many,
        and how many outputs were empty.
        """
        hyps, refs, note = _corpus_inputs(hypotheses, references)
        metric = self._bleu(
            self._bleu_tokenize(itertools.chain.from_iterable(refs)), sentence=False
        )
        if not hyps:
            signature = BLEUSignature({**vars(metric), "num_refs": 0}).format()
            return Score("bleu", None, f"BLEU|{signature}", note)
        with self._lock:
            result = metric.corpus_score(hyps, _reference_streams(refs))
            signature = metric.get_signature().format()
        return Score("bleu", float(result.score), f"{result.name}|{signature}", note)

    def corpus_chrf(self, hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> Score:
        """Corpus chrF of one variant, with the same input policy as :meth:`corpus_bleu`."""
        hyps, refs, note = _corpus_inputs(hypotheses, references)
        metric = self._chrf
        if not hyps:
            signature = CHRFSignature({**vars(metric), "num_refs": 0}).format()
            return Score("chrf", None, f"{_chrf_name(metric)}|{signature}", note)
        with self._lock:
            result = metric.corpus_score(hyps, _reference_streams(refs))
            signature = metric.get_signature().format()
        return Score("chrf", float(result.score), f"{result.name}|{signature}", note)


def _corpus_inputs(
    hypotheses: Sequence[str], references: Sequence[Sequence[str]]
) -> tuple[list[str], list[list[str]], str | None]:
    """Scorable inputs (each with its non-empty references) and a note on those skipped."""
    hyps = _reference_list(hypotheses, "hypotheses")
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise ScoringError("references must be a list with one list of references per input")
    if len(references) != len(hyps):
        raise ScoringError(
            f"got {len(hyps)} hypotheses but {len(references)} reference lists; "
            "each input needs one list of references"
        )
    kept_hyps: list[str] = []
    kept_refs: list[list[str]] = []
    skipped: dict[str, int] = {}
    for i, (hyp, input_refs) in enumerate(zip(hyps, references, strict=True)):
        refs = _reference_list(input_refs, f"references[{i}]")
        usable = [ref for ref in refs if ref.strip()]
        na = _not_applicable(refs, usable)
        if na is not None:
            skipped[na] = skipped.get(na, 0) + 1
            continue
        kept_hyps.append(hyp)
        kept_refs.append(usable)
    if not hyps:
        return kept_hyps, kept_refs, "no inputs"
    empty = sum(1 for hyp in kept_hyps if is_empty_output(hyp))
    notes = [f"{empty} {EMPTY_HYPOTHESIS}{'s' * (empty != 1)} included"] if empty else []
    if skipped:
        details = ", ".join(f"{count} {reason}" for reason, count in skipped.items())
        if not kept_hyps:
            return kept_hyps, kept_refs, f"no scorable input ({details})"
        skipped_total = sum(skipped.values())
        notes.insert(0, f"skipped {skipped_total} of {len(hyps)} inputs ({details})")
    return kept_hyps, kept_refs, "; ".join(notes) or None


def _empty_note(hypothesis: str) -> str | None:
    return EMPTY_HYPOTHESIS if is_empty_output(hypothesis) else None


def _reference_streams(references: Sequence[Sequence[str]]) -> list[list[str]]:
    """Per-input reference lists turned into sacreBLEU's streams (``streams[k][i]`` is the k-th
    reference of input ``i``).

    Inputs with fewer references are padded with ``None``, which sacreBLEU drops; an empty
    string would instead count as a zero-length reference and distort the brevity penalty.
    """
    width = max(len(refs) for refs in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(width)]
    # sacreBLEU documents None padding but annotates its streams as strings only.
    return cast("list[list[str]]", streams)


@functools.lru_cache(maxsize=32)
def _shared_scorer(stem: bool, language: str | None, tokenize: str | None) -> Scorer:
    return Scorer(stem=stem, language=language, tokenize=tokenize)


def score_pair(
    hypothesis: str,
    references: Sequence[str],
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    language: str | None = None,
    stem: bool = True,
    tokenize: str | None = None,
) -> list[Score]:
    """Scores of one output against its references; see :meth:`Scorer.score_pair`.

    Uses a Scorer shared per option set, so calling this in a loop is as fast as holding one.
    """
    scorer = _shared_scorer(stem, _primary_language(language), tokenize)
    return scorer.score_pair(hypothesis, references, metrics=metrics)


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    language: str | None = None,
    tokenize: str | None = None,
) -> Score:
    """Corpus BLEU of one variant; ``references[i]`` lists the references of input ``i``."""
    return _shared_scorer(True, _primary_language(language), tokenize).corpus_bleu(
        hypotheses, references
    )


def corpus_chrf(hypotheses: Sequence[str], references: Sequence[Sequence[str]]) -> Score:
    """Corpus chrF of one variant; ``references[i]`` lists the references of input ``i``."""
    return _shared_scorer(True, None, None).corpus_chrf(hypotheses, references)
