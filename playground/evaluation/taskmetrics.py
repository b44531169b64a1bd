"""Task-specific scores: exact answers, labels, entities, required content, diversity, confidence.

ROUGE, BLEU and chrF (:mod:`playground.evaluation.scoring`) measure overlap with a reference
text; many prompts instead have a *right answer* (a label, a short span, a set of entities) or a
contract (must mention X, must not mention Y). These scores use the same :class:`Score` type
and the same conventions, so they land in the same results table:

* **Not applicable is not zero.** No reference (or only blank ones) makes a reference-based
  score *not applicable*: ``value=None`` with a ``reason``.
* **A missing answer is a wrong answer.** An empty output (the rule every score shares:
  :func:`playground.evaluation.scoring.is_empty_output`), or a classification answer in which
  no label can be found, scores 0 with a ``reason``. Hiding those runs as N/A would reward a prompt
  for making the model say nothing.
* **Several references: the best one counts**, as in :mod:`playground.evaluation.scoring`.
* **Every score carries a signature** (metric, normalisation, version), so stored numbers
  computed under other rules can be told apart.

Normalisation (:func:`normalize`) is the SQuAD evaluation script's, made Unicode-aware: NFKC,
casefold, punctuation removed (every Unicode ``P*`` category, not only ASCII), optionally the
English articles *a*, *an*, *the*, then whitespace collapsed and stripped.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sacrebleu.metrics.bleu import BLEU, BLEUSignature

from playground.errors import PlaygroundError
from playground.evaluation.scoring import (
    EMPTY_HYPOTHESIS,
    NO_REFERENCE,
    ROUGE_TYPES,
    ScriptAwareTokenizer,
    choose_bleu_tokenizer,
    is_empty_output,
)
from playground.scores import Score

__all__ = [
    "DEFAULT_LABELS",
    "ENTITY_TYPES",
    "NO_LABEL",
    "TASK_METRICS",
    "Confidence",
    "MetricError",
    "confidence",
    "content_checks",
    "default_metrics",
    "distinct_n",
    "entity_f1",
    "exact_match",
    "extract_label",
    "label_accuracy",
    "normalize",
    "parse_entities",
    "self_bleu",
    "token_f1",
]

VERSION = "1"
#: Label set of sentiment and classification tasks when the caller gives none.
DEFAULT_LABELS: tuple[str, ...] = ("positive", "negative", "neutral")
ENTITY_TYPES: tuple[str, ...] = ("PERSON", "ORG", "LOC", "DATE")

NO_LABEL = "no label found"
NO_SAMPLES = "fewer than 2 non-empty samples"
NO_NGRAMS = "no n-grams in the samples"
NO_LOGPROBS = "no logprobs"
NOTHING_REQUIRED = "nothing required"
NOTHING_FORBIDDEN = "nothing forbidden"
NO_CHECKS = "no checks"

#: Metrics each task is scored with by default. ROUGE names are expanded to scoring's ROUGE
#: types so the tuple can be handed to :func:`playground.evaluation.scoring.score_pair` directly.
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "summarization": ROUGE_TYPES,
    "translation": ("bleu", "chrf"),
    "sentiment": ("accuracy",),
    "classification": ("accuracy",),
    "qa": ("token_f1", "exact_match"),
    "ner": ("entity_f1",),
    "explain": ROUGE_TYPES,
}


class MetricError(PlaygroundError, ValueError):
    """A metric request is malformed: bad regular expression, unknown task, invalid input."""


# --- Normalisation ----------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_SPACES = re.compile(r"\s+")


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def normalize(text: str, *, articles: bool = False) -> str:
    """``text`` reduced to what decides whether two answers are the same answer.

    Punctuation is deleted rather than turned into a space, as in SQuAD's script, so
    ``"U.S."`` matches ``"US"``. Articles are only dropped on request because they are an
    English rule; SQuAD-style scores (:func:`exact_match`, :func:`token_f1`) request it.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if not _is_punct(ch))
    if articles:
        text = _ARTICLES.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def _norm_name(articles: bool) -> str:
    return "norm:lower+ws+punct" + ("+articles" if articles else "")


def _signature(metric: str, *parts: str) -> str:
    return "|".join((metric, *parts, f"version:{VERSION}"))


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise MetricError(f"{what} must be a string, got {type(value).__name__}")
    return value


def _references(references: Sequence[str]) -> list[str]:
    """Non-blank references; a bare string is refused because it would become its characters."""
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise MetricError(f"references must be a list of strings, got {type(references).__name__}")
    for ref in references:
        _check_text(ref, "each reference")
    return [ref for ref in references if ref.strip()]


@functools.cache
def _tokenizer() -> ScriptAwareTokenizer:
    # Stemming would make "runs" match "run": wrong for answers that must be exact.
    return ScriptAwareTokenizer(stem=False)


def _tokens(text: str) -> list[str]:
    return _tokenizer().tokenize(text)


# --- Exact match and SQuAD F1 -----------------------------------------------------------


def exact_match(hypothesis: str, references: Sequence[str], *, articles: bool = True) -> Score:
    """1.0 when the normalised answer equals a normalised reference, else 0.0."""
    _check_text(hypothesis, "hypothesis")
    refs = _references(references)
    signature = _signature("exact_match", _norm_name(articles), f"nrefs:{len(refs)}")
    if not refs:
        return Score("exact_match", None, signature, NO_REFERENCE)
    if is_empty_output(hypothesis):
        return Score("exact_match", 0.0, signature, EMPTY_HYPOTHESIS)
    answer = normalize(hypothesis, articles=articles)
    hit = any(answer == normalize(ref, articles=articles) for ref in refs)
    return Score("exact_match", 1.0 if hit else 0.0, signature)


def _prf(overlap: int, predicted: int, gold: int) -> tuple[float, float, float]:
    """Precision, recall and F1; with nothing on either side, agreeing on nothing is right."""
    if predicted == 0 and gold == 0:
        return 1.0, 1.0, 1.0
    precision = overlap / predicted if predicted else 0.0
    recall = overlap / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return precision, recall, f1


def _prf_scores(
    prefix: str, signature: str, values: tuple[float, float, float] | None, reason: str | None
) -> list[Score]:
    names = (f"{prefix}_precision", f"{prefix}_recall", f"{prefix}_f1")
    if values is None:
        return [Score(name, None, signature, reason) for name in names]
    return [Score(n, float(v), signature, reason) for n, v in zip(names, values, strict=True)]


def token_f1(hypothesis: str, references: Sequence[str], *, articles: bool = True) -> list[Score]:
    """SQuAD token precision, recall and F1, from the reference with the best F1.

    Partial credit matters for short answers: "Denver Broncos" against "the Broncos" is
    neither right nor wrong. Tokens are the script-aware tokenizer's, so Chinese or Thai
    answers are compared character by character instead of as one giant word.
    """
    _check_text(hypothesis, "hypothesis")
    refs = _references(references)
    signature = _signature(
        "token_f1",
        _norm_name(articles),
        "tok:script-aware-v1",
        "multi:max-f1",
        f"nrefs:{len(refs)}",
    )
    if not refs:
        return _prf_scores("token", signature, None, NO_REFERENCE)
    if is_empty_output(hypothesis):
        return _prf_scores("token", signature, (0.0, 0.0, 0.0), EMPTY_HYPOTHESIS)
    hyp = Counter(_tokens(normalize(hypothesis, articles=articles)))
    best: tuple[float, float, float] | None = None
    for ref in refs:
        gold = Counter(_tokens(normalize(ref, articles=articles)))
        overlap = sum((hyp & gold).values())
        values = _prf(overlap, sum(hyp.values()), sum(gold.values()))
        if best is None or values[2] > best[2]:
            best = values
    return _prf_scores("token", signature, best, None)


# --- Labels -----------------------------------------------------------------------------


def _label_tokens(labels: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    if isinstance(labels, str) or not isinstance(labels, Sequence) or not labels:
        raise MetricError("labels must be a non-empty list of strings")
    out: list[tuple[str, tuple[str, ...]]] = []
    for label in labels:
        tokens = tuple(_tokens(_check_text(label, "each label")))
        if not tokens:
            raise MetricError(f"label {label!r} has no words to look for")
        out.append((label, tokens))
    return out


def extract_label(text: str, labels: Sequence[str]) -> str | None:
    """The label the answer gives: the first one that appears in it as whole words.

    Models wrap labels in prose ("Sentiment: Positive."), so the answer is searched rather
    than compared whole. Matching is on tokens, case- and punctuation-blind, so "positive"
    is found in "POSITIVE!" but not in "positively". The earliest label wins because models
    state their answer first and explain after; at the same position the longer label wins
    ("very positive" over "very"). Negation is not understood: "not positive" gives
    ``"positive"`` — a prompt that wants a label should ask for the label alone.
    Returns None when no label appears.
    """
    _check_text(text, "text")
    candidates = _label_tokens(labels)
    words = _tokens(text)
    best: tuple[int, int, str] | None = None  # (position, -length, label)
    for label, tokens in candidates:
        width = len(tokens)
        for start in range(len(words) - width + 1):
            if tuple(words[start : start + width]) == tokens:
                key = (start, -width, label)
                if best is None or key[:2] < best[:2]:
                    best = key
                break
    return None if best is None else best[2]


def label_accuracy(
    hypothesis: str, references: Sequence[str], labels: Sequence[str] = DEFAULT_LABELS
) -> Score:
    """1.0 when the label found in the answer is a gold label, else 0.0.

    An answer with no recognisable label scores 0.0 with reason ``"no label found"``: it is
    a failure of the prompt, and dropping it would make a prompt that confuses the model
    look as accurate as one that does not.
    """
    _check_text(hypothesis, "hypothesis")
    refs = _references(references)
    names = ",".join(sorted(" ".join(tokens) for _, tokens in _label_tokens(labels)))
    signature = _signature(
        "accuracy", "extract:first-label", f"labels:{names}", "tok:script-aware-v1"
    )
    if not refs:
        return Score("accuracy", None, signature, NO_REFERENCE)
    found = extract_label(hypothesis, labels)
    if found is None:
        return Score("accuracy", 0.0, signature, NO_LABEL)
    gold = {tuple(_tokens(ref)) for ref in refs}
    return Score("accuracy", 1.0 if tuple(_tokens(found)) in gold else 0.0, signature)


# --- Entities ---------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[-*•+]|\(?\d+[.)])\s*")
_ENTITY_LINE = re.compile(rf"^({'|'.join(ENTITY_TYPES)})\s*:\s*(.*)$", re.IGNORECASE)


def parse_entities(text: str) -> set[tuple[str, str]]:
    """``(TYPE, normalised text)`` pairs from lines such as ``"- PERSON: Ada Lovelace"``.

    The format is what NER prompts ask models to produce; lines in any other shape (preamble,
    unknown types, empty names) are ignored rather than failing the whole answer, so a model
    that chats before its list still gets credit for the list.
    """
    _check_text(text, "text")
    entities: set[tuple[str, str]] = set()
    for line in text.splitlines():
        match = _ENTITY_LINE.match(_BULLET.sub("", line, count=1).strip())
        if match is None:
            continue
        name = normalize(match.group(2))
        if name:
            entities.add((match.group(1).upper(), name))
    return entities


def entity_f1(hypothesis: str, references: Sequence[str]) -> list[Score]:
    """Entity-level precision, recall and F1 (type and text must both match), best reference.

    A reference with no entity lines means "there are no entities": an answer with none then
    scores 1.0, and any entity it lists is a false positive.
    """
    _check_text(hypothesis, "hypothesis")
    refs = _references(references)
    signature = _signature(
        "entity_f1", "match:type+text", _norm_name(False), "multi:max-f1", f"nrefs:{len(refs)}"
    )
    if not refs:
        return _prf_scores("entity", signature, None, NO_REFERENCE)
    predicted = parse_entities(hypothesis)
    best: tuple[float, float, float] | None = None
    for ref in refs:
        gold = parse_entities(ref)
        values = _prf(len(predicted & gold), len(predicted), len(gold))
        if best is None or values[2] > best[2]:
            best = values
    return _prf_scores("entity", signature, best, None)


# --- Content checks ---------------------------------------------------------------------


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        where = f" at position {err.pos}" if err.pos is not None else ""
        raise MetricError(f"invalid regular expression {pattern!r}: {err.msg}{where}") from err


def _items(items: Sequence[str], what: str) -> list[str]:
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise MetricError(f"{what} must be a list of strings, got {type(items).__name__}")
    return [_check_text(item, f"each {what} item") for item in items]


def content_checks(
    hypothesis: str,
    must_contain: Sequence[str] = (),
    must_not_contain: Sequence[str] = (),
    regex: bool = False,
) -> list[Score]:
    """``required_recall``, ``forbidden_ok`` and ``checks_pass`` for an output's contract.

    Plain items match as substrings, ignoring case and runs of whitespace, because a model
    that writes "Next  Steps" did mention "next steps". With ``regex=True`` items are
    Python regular expressions searched in the raw output, case-sensitive unless they say
    ``(?i)`` — a pattern is taken as written. All patterns are compiled before any is used,
    so a typo is reported even when an earlier item already failed. A score whose list is
    empty is not applicable; the reason of a failing score names the offending items.
    """
    _check_text(hypothesis, "hypothesis")
    required = _items(must_contain, "must_contain")
    forbidden = _items(must_not_contain, "must_not_contain")
    if regex:
        patterns = {item: _compile(item) for item in (*required, *forbidden)}

        def present(item: str) -> bool:
            return patterns[item].search(hypothesis) is not None

        mode = "match:regex"
    else:
        haystack = _SPACES.sub(" ", unicodedata.normalize("NFKC", hypothesis).casefold())

        def present(item: str) -> bool:
            needle = _SPACES.sub(" ", unicodedata.normalize("NFKC", item).casefold()).strip()
            return needle in haystack

        mode = "match:substring+casefold+ws"

    scores: list[Score] = []
    if required:
        missing = [item for item in required if not present(item)]
        recall = (len(required) - len(missing)) / len(required)
        reason = "missing: " + ", ".join(map(repr, missing)) if missing else None
        scores.append(Score("required_recall", recall, _signature("required_recall", mode), reason))
    else:
        scores.append(
            Score("required_recall", None, _signature("required_recall", mode), NOTHING_REQUIRED)
        )
    if forbidden:
        found = [item for item in forbidden if present(item)]
        reason = "found: " + ", ".join(map(repr, found)) if found else None
        value = 0.0 if found else 1.0
        scores.append(Score("forbidden_ok", value, _signature("forbidden_ok", mode), reason))
    else:
        scores.append(
            Score("forbidden_ok", None, _signature("forbidden_ok", mode), NOTHING_FORBIDDEN)
        )
    applicable = [s for s in scores if s.value is not None]
    if applicable:
        failing = [s for s in applicable if s.value != 1.0]
        reason = "; ".join(s.reason or s.metric for s in failing) or None
        value = 0.0 if failing else 1.0
        scores.append(Score("checks_pass", value, _signature("checks_pass", mode), reason))
    else:
        scores.append(Score("checks_pass", None, _signature("checks_pass", mode), NO_CHECKS))
    return scores


# --- Default metrics per task -----------------------------------------------------------


def default_metrics(task: str) -> tuple[str, ...]:
    """Metrics a task is scored with unless the user picks others.

    summarization and explain → ROUGE (every ROUGE type of :mod:`playground.evaluation.scoring`);
    translation → BLEU and chrF; sentiment and classification → ``accuracy`` (label
    extraction, labels positive/negative/neutral by default); qa → ``token_f1`` and
    ``exact_match``; ner → ``entity_f1``. Task names are case-insensitive.
    """
    key = _check_text(task, "task").strip().lower()
    try:
        return TASK_METRICS[key]
    except KeyError:
        raise MetricError(f"unknown task {task!r}; choose from {', '.join(TASK_METRICS)}") from None


# --- Diversity of the samples of one cell -----------------------------------------------


def _samples(samples: Sequence[str]) -> list[str]:
    if isinstance(samples, str) or not isinstance(samples, Sequence):
        raise MetricError(f"samples must be a list of strings, got {type(samples).__name__}")
    return [_check_text(s, "each sample") for s in samples]


def distinct_n(samples: Sequence[str], n: int = 2) -> Score:
    """Unique n-grams over all n-grams of the samples (Li et al. 2016).

    Near 1 when the ``k`` samples say different things, low when they repeat each other (or
    themselves). N-grams do not cross sample boundaries, since the samples are separate texts.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise MetricError(f"n must be a positive integer, got {n!r}")
    texts = _samples(samples)
    signature = _signature(f"distinct_{n}", "tok:script-aware-v1", f"n:{n}")
    grams: list[tuple[str, ...]] = []
    for text in texts:
        tokens = _tokens(text)
        grams.extend(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    if not grams:
        return Score(f"distinct_{n}", None, signature, NO_NGRAMS)
    return Score(f"distinct_{n}", len(set(grams)) / len(grams), signature)


_BLEU_LOCK = threading.Lock()


@functools.cache
def _sentence_bleu(tokenize: str) -> BLEU:
    # Effective order: two short samples that agree would otherwise score 0.
    return BLEU(tokenize=tokenize, effective_order=True)


def self_bleu(samples: Sequence[str]) -> Score:
    """Mean sentence BLEU of each sample against the others (Zhu et al. 2018), 0–100.

    High means the samples repeat each other: 100 for identical samples. Blank samples are
    left out, because an empty sample is not evidence of diversity or of its absence.
    """
    texts = [s for s in _samples(samples) if s.strip()]
    metric = _sentence_bleu(choose_bleu_tokenizer(None, texts))
    if len(texts) < 2:
        signature = BLEUSignature({**vars(metric), "num_refs": max(len(texts) - 1, 0)}).format()
        return Score("self_bleu", None, f"self_bleu|{signature}|agg:mean", NO_SAMPLES)
    total = 0.0
    with _BLEU_LOCK:
        for i, text in enumerate(texts):
            others = texts[:i] + texts[i + 1 :]
            total += float(metric.sentence_score(text, others).score)
        signature = metric.get_signature().format()
    # Summing floats can overshoot 100 by an ulp; the scale's top is 100.
    mean = min(total / len(texts), 100.0)
    return Score("self_bleu", mean, f"self_bleu|{signature}|agg:mean")


# --- Confidence -------------------------------------------------------------------------


@dataclass(frozen=True)
class Confidence:
    """How sure the model was of the tokens it produced.

    ``low_confidence`` is None when there were no logprobs (the backend did not report them),
    so "unknown" is never shown as "confident".
    """

    mean_logprob: Score
    min_logprob: Score
    low_confidence: bool | None
    threshold: float

    @property
    def scores(self) -> list[Score]:
        return [self.mean_logprob, self.min_logprob]


def confidence(logprobs: Sequence[float], threshold: float = -1.0) -> Confidence:
    """Mean and minimum token logprob, flagged low when the mean is below ``threshold``.

    The mean is the log of the geometric-mean token probability; the default ``-1.0`` flags
    outputs whose tokens had on average less than about a 37 % chance, which is where
    answers tend to be guesses. The minimum shows a single shaky token in a confident answer.
    """
    if not isinstance(logprobs, Sequence):
        raise MetricError(f"logprobs must be a list of numbers, got {type(logprobs).__name__}")
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise MetricError(f"threshold must be a finite number, got {threshold!r}")
    values: list[float] = []
    for value in logprobs:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MetricError(f"logprobs must be numbers, got {type(value).__name__}")
        if not math.isfinite(value) or value > 1e-6:
            raise MetricError(f"a logprob must be a finite number ≤ 0, got {value!r}")
        values.append(min(float(value), 0.0))
    sig = f"unit:token|version:{VERSION}"
    if not values:
        return Confidence(
            Score("mean_logprob", None, f"mean_logprob|{sig}", NO_LOGPROBS),
            Score("min_logprob", None, f"min_logprob|{sig}", NO_LOGPROBS),
            None,
            float(threshold),
        )
    mean = math.fsum(values) / len(values)
    return Confidence(
        Score("mean_logprob", mean, f"mean_logprob|{sig}"),
        Score("min_logprob", min(values), f"min_logprob|{sig}"),
        mean < threshold,
        float(threshold),
    )
