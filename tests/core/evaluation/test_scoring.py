"""Scores agree with the reference libraries where those are right, and fix where they are not."""

from __future__ import annotations

import random
import string
import unicodedata
from typing import Any

import pytest
import sacrebleu
from rouge_score import rouge_scorer, tokenizers
from sacrebleu.metrics.bleu import BLEU
from sacrebleu.metrics.chrf import CHRF

from playground.errors import PlaygroundError
from playground.evaluation import scoring
from playground.evaluation.scoring import (
    DEFAULT_METRICS,
    EMPTY_HYPOTHESIS,
    EMPTY_REFERENCE,
    NO_REFERENCE,
    NO_REFERENCE_WORDS,
    ROUGE_TYPES,
    Scorer,
    ScoringError,
    ScriptAwareTokenizer,
    choose_bleu_tokenizer,
    corpus_bleu,
    corpus_chrf,
    guess_language,
    score_pair,
    split_sentences,
)
from playground.scores import Score

MECAB_JA = scoring._bleu_tokenizer_available("ja-mecab")
MECAB_KO = scoring._bleu_tokenizer_available("ko-mecab")

ENGLISH_PAIRS: list[tuple[str, list[str]]] = [
    ("The quick brown fox jumps over the lazy dog", ["The quick brown dog jumps on the log."]),
    ("Running dogs were chasing the cats.", ["A dog runs after two cats."]),
    (
        "The committee approved the budget.\nIt takes effect in March.",
        ["The budget was approved by the committee.\nIt starts in March 2025."],
    ),
    ("don't panic: it's only a test_case (v2.0)!", ["Don't panic, it is only a test case v2."]),
    ("Prices rose 3.5% in 2023", ["In 2023, prices rose by 3.5 percent", "Prices went up"]),
]


def _values(scores: list[Score]) -> dict[str, float | None]:
    return {s.metric: s.value for s in scores}


def _by_metric(scores: list[Score]) -> dict[str, Score]:
    return {s.metric: s for s in scores}


def _rouge_reference(hypothesis: str, references: list[str], stem: bool = True) -> dict[str, Any]:
    """rouge_score's own numbers with its default tokenizer and its max-F1 multi-reference."""
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=stem)
    return dict(scorer.score_multi(references, hypothesis))


# --- ROUGE on Latin text agrees with rouge_score -------------------------------------------


@pytest.mark.parametrize("stem", [True, False])
def test_tokenizer_matches_rouge_score_default_on_ascii(stem: bool) -> None:
    """On ASCII the script-aware tokenizer must not move published-comparable numbers."""
    ours = ScriptAwareTokenizer(stem)
    theirs = tokenizers.DefaultTokenizer(use_stemmer=stem)
    rng = random.Random(1234)
    alphabet = string.printable
    samples = [hyp for hyp, _ in ENGLISH_PAIRS] + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(300)
    ]
    words = [
        "running",
        "runs",
        "generously",
        "conditional",
        "happiness",
        "the",
        "a",
        "cat's",
        "42",
        "x_y",
        "hopping",
    ]
    samples += [" ".join(rng.choice(words) for _ in range(12)) for _ in range(100)]
    for text in samples:
        assert ours.tokenize(text) == theirs.tokenize(text), repr(text)


def test_ascii_text_is_cut_as_the_full_token_pattern_cuts_it() -> None:
    """ASCII text skips building the Unicode-wide pattern; it must lose nothing by that: every
    ASCII character, alone and in random runs, gives the same tokens both ways."""
    rng = random.Random(99)
    every = [chr(c) for c in range(128)]
    samples = every + ["".join(every)] + [
        "".join(rng.choice(every) for _ in range(rng.randint(1, 60))) for _ in range(500)
    ]
    full = scoring._token_pattern()
    for text in samples:
        folded = unicodedata.normalize("NFKC", text).casefold()
        assert scoring._ASCII_WORD.findall(folded) == full.findall(folded), repr(text)
    # Text that only becomes ASCII on normalizing (full-width letters) takes the short path
    # and is cut the same.
    assert ScriptAwareTokenizer(stem=False).tokenize("ＡＢＣ ｄｅｆ１２") == ["abc", "def12"]
    assert ScriptAwareTokenizer(stem=False).tokenize("café naïve") == ["café", "naïve"]


@pytest.mark.parametrize(("hypothesis", "references"), ENGLISH_PAIRS)
@pytest.mark.parametrize("stem", [True, False])
def test_rouge_matches_rouge_score_on_english(
    hypothesis: str, references: list[str], stem: bool
) -> None:
    # Sentences are already one per line, the layout rouge_score's ROUGE-Lsum expects.
    hypothesis = "\n".join(split_sentences(hypothesis))
    references = ["\n".join(split_sentences(ref)) for ref in references]
    expected = _rouge_reference(hypothesis, references, stem)
    got = _values(score_pair(hypothesis, references, metrics=ROUGE_TYPES, stem=stem))
    for rouge_type in ROUGE_TYPES:
        want = expected[rouge_type]
        assert got[f"{rouge_type}_p"] == pytest.approx(want.precision)
        assert got[f"{rouge_type}_r"] == pytest.approx(want.recall)
        assert got[f"{rouge_type}_f"] == pytest.approx(want.fmeasure)


def test_stemming_is_configurable() -> None:
    stemmed = _values(score_pair("running cats", ["runs cat"], metrics=["rouge1"]))
    plain = _values(score_pair("running cats", ["runs cat"], metrics=["rouge1"], stem=False))
    assert stemmed["rouge1_f"] == pytest.approx(1.0)
    assert plain["rouge1_f"] == pytest.approx(0.0)


def test_rouge_lsum_splits_a_paragraph_into_sentences() -> None:
    """Model output rarely puts one sentence per line; Lsum must not collapse to one sentence."""
    hypothesis = "The cat sat down. Then it slept on the mat! Was it happy? Yes."
    reference = "The cat slept on the mat. It sat down first.\nIt was happy."
    got = _by_metric(score_pair(hypothesis, [reference], metrics=["rougeLsum"]))["rougeLsum_f"]
    lines_h = "\n".join(split_sentences(hypothesis))
    lines_r = "\n".join(split_sentences(reference))
    expected = rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=True).score(lines_r, lines_h)
    assert got.value == pytest.approx(expected["rougeLsum"].fmeasure)
    assert "split:lines+punct-v1" in got.signature


def test_split_sentences() -> None:
    assert split_sentences("One. Two! Three? Four") == ["One.", "Two!", "Three?", "Four"]
    assert split_sentences("Pi is 3.14 and example.com works.") == [
        "Pi is 3.14 and example.com works."
    ]
    assert split_sentences('He said "stop." Then left.') == ['He said "stop."', "Then left."]
    assert split_sentences("今天很好。我们去公园！你呢？") == [
        "今天很好。",
        "我们去公园！",
        "你呢？",
    ]
    assert split_sentences("line one\n\n  line two  \n") == ["line one", "line two"]
    assert split_sentences("   ") == []


# --- ROUGE in other scripts ------------------------------------------------------------------


def test_rouge_score_default_cannot_score_chinese() -> None:
    """Why the script-aware tokenizer exists: the library default sees no words at all."""
    default = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    assert default.score("今天天气很好", "今天天气很好")["rouge1"].fmeasure == 0.0
    assert _values(score_pair("今天天气很好", ["今天天气很好"]))["rouge1_f"] == pytest.approx(1.0)


def test_rouge_chinese_one_character_difference_by_hand() -> None:
    # Tokens: 今 天 天 气 很|不 好. Unigrams: 5 of 6 shared. Bigrams: 今天 天天 天气 shared out of
    # 5 on each side (气很 很好 vs 气不 不好). LCS: 5 characters.
    got = _values(score_pair("今天天气不好", ["今天天气很好"]))
    for kind in "prf":
        assert got[f"rouge1_{kind}"] == pytest.approx(5 / 6)
        assert got[f"rouge2_{kind}"] == pytest.approx(3 / 5)
        assert got[f"rougeL_{kind}"] == pytest.approx(5 / 6)
        assert got[f"rougeLsum_{kind}"] == pytest.approx(5 / 6)


def test_rouge_chinese_different_lengths_by_hand() -> None:
    # Hypothesis 我爱北京 (4 chars) inside reference 我爱北京天安门 (7 chars).
    got = _values(score_pair("我爱北京", ["我爱北京天安门"], metrics=["rouge1", "rouge2"]))
    assert got["rouge1_p"] == pytest.approx(1.0)
    assert got["rouge1_r"] == pytest.approx(4 / 7)
    assert got["rouge1_f"] == pytest.approx(2 * (4 / 7) / (1 + 4 / 7))
    assert got["rouge2_p"] == pytest.approx(1.0)
    assert got["rouge2_r"] == pytest.approx(3 / 6)


def test_accents_are_kept() -> None:
    """rouge_score's default drops é and ï: "naïve café" becomes the words na, ve, caf."""
    default = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    assert default.score("na ve caf", "naïve café")["rouge1"].fmeasure == 1.0
    assert _values(score_pair("naïve café", ["na ve caf"]))["rouge1_f"] == 0.0

    different = _values(score_pair("café", ["cafe"], metrics=["rouge1"]))
    assert different["rouge1_f"] == 0.0
    same = _values(score_pair("café", ["café"], metrics=["rouge1"]))
    assert same["rouge1_f"] == pytest.approx(1.0)
    partly = _values(score_pair("I love the café", ["I love the cafe"], metrics=["rouge1"]))
    assert partly["rouge1_f"] == pytest.approx(3 / 4)


def test_composed_and_decomposed_accents_match() -> None:
    composed = unicodedata.normalize("NFC", "Crème brûlée à Paris")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    for score in score_pair(decomposed, [composed], metrics=ROUGE_TYPES):
        assert score.value == pytest.approx(1.0), score


def test_tokenizer_on_several_scripts() -> None:
    tokens = ScriptAwareTokenizer(stem=True).tokenize(
        "Café STRASSE Straße ｆｕｌｌ 中文 ひらがな 한국어 사람 हिन्दी مَرْحَبًا 👍🏽 x_y"
    )
    assert tokens == [
        "café",
        "strass",  # case-folded, then stemmed like any ASCII word
        "strass",  # ß case-folds to ss
        "full",  # full-width letters are NFKC-normalized
        "中",
        "文",
        "ひ",
        "ら",
        "が",
        "な",
        "한국어",  # Hangul is written with spaces: words stay whole
        "사람",
        "हिन्दी",  # combining vowel signs stay inside the word
        "مَرْحَبًا",
        "👍🏽",  # an emoji with its skin tone is one token
        "x",
        "y",
    ]
    thai = ScriptAwareTokenizer(stem=False).tokenize("กินข้าว")
    # Vowel and tone marks stay on their consonant: กิ and ข้ are single tokens.
    assert thai == ["กิ", "น", "ข้", "า", "ว"]


# --- An empty output is a wrong answer; not applicable is not zero ----------------------------


@pytest.mark.parametrize("hypothesis", ["", "   ", "\n\t\u3000"])
def test_empty_output_scores_zero_as_the_libraries_do(hypothesis: str) -> None:
    reference = "A perfectly good reference."
    scores = score_pair(hypothesis, [reference], stem=True)
    assert len(scores) == 14
    for score in scores:
        assert score.value == 0.0, score
        assert score.reason == EMPTY_HYPOTHESIS
        assert score.signature
    # The zero is the libraries' own, not one made up here.
    theirs = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True).score(
        reference, hypothesis)
    assert {f"{t}_f": theirs[t].fmeasure for t in ROUGE_TYPES} == {
        s.metric: s.value for s in scores if s.metric.endswith("_f")}
    by_metric = {s.metric: s.value for s in scores}
    assert by_metric["bleu"] == BLEU(effective_order=True).sentence_score(
        hypothesis, [reference]).score
    assert by_metric["chrf"] == CHRF().sentence_score(hypothesis, [reference]).score


def test_empty_output_against_a_too_short_reference_stays_not_applicable() -> None:
    # ROUGE-2 has nothing to recall from a one-word reference, whatever the output says.
    scores = {s.metric: s for s in score_pair("", ["Paris"], metrics=["rouge1", "rouge2"])}
    assert scores["rouge1_f"].value == 0.0
    assert scores["rouge2_f"].value is None and "2-grams" in (scores["rouge2_f"].reason or "")


@pytest.mark.parametrize(
    ("references", "reason"),
    [([], NO_REFERENCE), ([""], EMPTY_REFERENCE), (["  ", "\n"], EMPTY_REFERENCE)],
)
def test_missing_or_empty_references_are_not_applicable(references: list[str], reason: str) -> None:
    for score in score_pair("Some output.", references):
        assert score.value is None, score
        assert score.reason == reason


def test_empty_references_next_to_real_ones_are_ignored() -> None:
    alone = score_pair("The cat sat.", ["A cat sat down."])
    mixed = score_pair("The cat sat.", ["", "A cat sat down.", "   "])
    assert _values(mixed) == _values(alone)


def test_nothing_in_common_is_a_real_zero() -> None:
    for score in score_pair("apples and oranges", ["the weather is nice today"]):
        if score.metric == "chrf":
            continue  # shares a few letters, so chrF is small but not zero
        assert score.value == 0.0, score
        assert score.reason is None
    chrf = _by_metric(score_pair("xyz", ["abc"]))["chrf"]
    assert chrf.value == 0.0


def test_reference_without_words_is_not_applicable_for_rouge_only() -> None:
    scores = _by_metric(score_pair("...", ["..."]))
    assert scores["rouge1_f"].value is None
    assert scores["rouge1_f"].reason == NO_REFERENCE_WORDS
    assert scores["bleu"].value == pytest.approx(100.0)  # 13a keeps punctuation as tokens


def test_rouge_n_needs_n_tokens_in_the_reference() -> None:
    scores = _by_metric(score_pair("Paris", ["Paris"]))
    assert scores["rouge1_f"].value == pytest.approx(1.0)
    assert scores["rouge2_f"].value is None
    assert scores["rouge2_f"].reason is not None
    assert "fewer than 2 tokens" in scores["rouge2_f"].reason
    assert scores["rougeL_f"].value == pytest.approx(1.0)
    assert scores["bleu"].value == pytest.approx(100.0)
    # A long enough second reference makes ROUGE-2 applicable again, against that reference.
    both = _by_metric(score_pair("Paris France", ["Paris", "Paris France"]))
    assert both["rouge2_f"].value == pytest.approx(1.0)
    assert "nrefs:1" in both["rouge2_f"].signature
    assert "nrefs:2" in both["rouge1_f"].signature


# --- Identical texts score full marks in every script ----------------------------------------

IDENTICAL = {
    "english": "The quick brown fox jumps over the lazy dog.",
    "french": "L'élève a mangé une crème brûlée à côté du château.",
    "german": "Die Straße ist groß und die Bäume sind grün.",
    "chinese": "今天天气很好，我们去公园散步。",
    "japanese": "私は東京に住んでいます。毎日電車で会社に行きます。",
    "korean": "나는 서울에 살고 있습니다. 매일 지하철을 탑니다.",
    "arabic": "ذهب الولد إلى المدرسة في الصباح.",
    "russian": "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "thai": "ฉันชอบกินข้าวผัดกับไข่ดาว",
    "hindi": "मैं हिन्दी बोलता हूँ।",
    "emoji": "🎉🎉 👍🏽 ❤️ 🚀",
    "short-english": "Hi there",
    "short-chinese": "你好",
    "short-japanese": "はい",
}


@pytest.mark.parametrize("text", IDENTICAL.values(), ids=IDENTICAL.keys())
def test_identical_texts_score_full_marks(text: str) -> None:
    scores = score_pair(text, [text])
    assert len(scores) == 14
    for score in scores:
        assert score.value is not None, score
        full = 1.0 if score.metric.startswith("rouge") else 100.0
        assert score.value == pytest.approx(full), score


@pytest.mark.parametrize("text", ["Hello", "你", "OK!", "🎉"])
def test_identical_single_token_texts(text: str) -> None:
    """BLEU's 4-grams do not exist here; effective order still gives 100."""
    for score in score_pair(text, [text]):
        if score.metric.startswith("rouge2"):
            assert score.value is None  # no bigram in the reference to recall
            continue
        full = 1.0 if score.metric.startswith("rouge") else 100.0
        assert score.value == pytest.approx(full), score


# --- BLEU and chrF agree with sacreBLEU -------------------------------------------------------


@pytest.mark.parametrize(("hypothesis", "references"), ENGLISH_PAIRS)
def test_bleu_and_chrf_match_sacrebleu(hypothesis: str, references: list[str]) -> None:
    got = _by_metric(score_pair(hypothesis, references, metrics=["bleu", "chrf"]))
    expected_bleu = sacrebleu.sentence_bleu(hypothesis, references)
    also = BLEU(effective_order=True, tokenize="13a").sentence_score(hypothesis, references)
    assert got["bleu"].value == pytest.approx(expected_bleu.score)
    assert got["bleu"].value == pytest.approx(also.score)
    assert got["chrf"].value == pytest.approx(sacrebleu.sentence_chrf(hypothesis, references).score)
    assert got["chrf"].value == pytest.approx(CHRF().sentence_score(hypothesis, references).score)


@pytest.mark.parametrize("language", [None, "zh", "zh-TW"])
def test_chinese_bleu_matches_sacrebleu_zh(language: str | None) -> None:
    hypothesis = "我们明天去北京看长城。"
    references = ["我们明天要去北京参观长城。", "明天我们去北京的长城。"]
    got = _by_metric(score_pair(hypothesis, references, metrics=["bleu"], language=language))
    expected = sacrebleu.sentence_bleu(hypothesis, references, tokenize="zh")
    assert got["bleu"].value == pytest.approx(expected.score)
    assert "tok:zh" in got["bleu"].signature
    # Without the right tokenizer the whole sentence is one "word" and BLEU collapses.
    assert sacrebleu.sentence_bleu(hypothesis, references, tokenize="13a").score < expected.score


def test_intl_tokenizer_can_be_forced() -> None:
    hypothesis, references = "«Bonjour», dit-il — l'été", ["« Bonjour », dit-il, l'été"]
    got = _by_metric(score_pair(hypothesis, references, metrics=["bleu"], tokenize="intl"))
    expected = sacrebleu.sentence_bleu(hypothesis, references, tokenize="intl")
    assert got["bleu"].value == pytest.approx(expected.score)
    assert "tok:intl" in got["bleu"].signature


# --- Several references -----------------------------------------------------------------------


def test_rouge_takes_the_best_reference() -> None:
    hypothesis = "The cat sat on the mat."
    good, bad = "A cat sat on a mat.", "Dogs bark loudly at night."
    single = _values(score_pair(hypothesis, [good], metrics=ROUGE_TYPES))
    for references in ([good, bad], [bad, good], [bad, good, bad]):
        multi = _values(score_pair(hypothesis, references, metrics=ROUGE_TYPES))
        assert multi == single
    expected = _rouge_reference(hypothesis, [bad, good])
    for rouge_type in ROUGE_TYPES:
        assert single[f"{rouge_type}_f"] == pytest.approx(expected[rouge_type].fmeasure)


def test_adding_a_reference_never_lowers_a_score() -> None:
    rng = random.Random(7)
    words = [
        "the",
        "a",
        "cat",
        "dog",
        "sat",
        "ran",
        "on",
        "under",
        "mat",
        "rug",
        "quickly",
        "猫",
        "狗",
    ]
    for _ in range(60):
        hypothesis = " ".join(rng.choices(words, k=rng.randint(1, 8)))
        references = [" ".join(rng.choices(words, k=rng.randint(1, 8))) for _ in range(3)]
        before = _values(score_pair(hypothesis, references[:2]))
        after = _values(score_pair(hypothesis, references))
        for metric, value in before.items():
            if metric.endswith(("_p", "_r")) or value is None:
                continue  # max-F1 picks one reference: its P or R alone may go down
            now = after[metric]
            assert now is not None
            assert now >= value - 1e-9, (metric, hypothesis, references)


def test_multi_reference_bleu_and_chrf_match_sacrebleu() -> None:
    hypothesis = "The cat is on the mat."
    references = ["There is a cat on the mat.", "A cat is on the mat.", "The mat has a cat."]
    got = _by_metric(score_pair(hypothesis, references))
    assert got["bleu"].value == pytest.approx(sacrebleu.sentence_bleu(hypothesis, references).score)
    assert got["chrf"].value == pytest.approx(sacrebleu.sentence_chrf(hypothesis, references).score)
    assert "nrefs:3" in got["bleu"].signature
    assert "nrefs:3" in got["chrf"].signature


# --- Signatures -------------------------------------------------------------------------------


def test_rouge_signature_names_every_setting() -> None:
    scores = _by_metric(score_pair("a b c", ["a b d"], stem=False))
    assert scores["rouge1_f"].signature == (
        "rouge:1|tok:script-aware-v1|stem:no|multi:max-f1|nrefs:1|version:rouge_score-0.1.2"
    )
    assert scores["rougeL_p"].signature.startswith("rouge:L|")
    assert "stem:yes" in _by_metric(score_pair("a b c", ["a b d"]))["rouge2_r"].signature
    assert scores["rougeLsum_f"].signature.startswith("rouge:Lsum|")
    assert "split:lines+punct-v1" in scores["rougeLsum_f"].signature


def test_sacrebleu_signatures_are_sacrebleus_own() -> None:
    hypothesis, references = "The cat sat.", ["The cat sat down.", "A cat sat."]
    scores = _by_metric(score_pair(hypothesis, references))
    bleu = BLEU(effective_order=True, tokenize="13a")
    bleu.sentence_score(hypothesis, references)
    chrf = CHRF()
    chrf.sentence_score(hypothesis, references)
    assert scores["bleu"].signature == f"BLEU|{bleu.get_signature().format()}"
    assert scores["chrf"].signature == f"chrF2|{chrf.get_signature().format()}"
    assert scores["bleu"].signature == (
        f"BLEU|nrefs:2|case:mixed|eff:yes|tok:13a|smooth:exp|version:{sacrebleu.__version__}"
    )


def test_not_applicable_scores_keep_their_signature() -> None:
    real = _by_metric(score_pair("The cat sat.", ["A cat sat."]))
    missing = _by_metric(score_pair("", ["A cat sat."]))
    for metric, score in missing.items():
        assert score.signature == real[metric].signature


def test_score_is_frozen_and_ordered() -> None:
    scores = score_pair("The cat sat.", ["A cat sat."])
    expected = [f"{t}_{k}" for t in ROUGE_TYPES for k in "prf"] + ["bleu", "chrf"]
    assert [s.metric for s in scores] == expected
    with pytest.raises(AttributeError):
        scores[0].value = 0.5  # type: ignore[misc]
    assert (*ROUGE_TYPES, "bleu", "chrf") == DEFAULT_METRICS
    only = score_pair("The cat sat.", ["A cat sat."], metrics=["chrf", "rouge2", "chrf"])
    assert [s.metric for s in only] == ["chrf", "rouge2_p", "rouge2_r", "rouge2_f"]


# --- Tokenizer choice for BLEU ----------------------------------------------------------------


def test_choose_bleu_tokenizer_by_language() -> None:
    assert choose_bleu_tokenizer("zh") == "zh"
    assert choose_bleu_tokenizer("zh-Hant-TW") == "zh"
    assert choose_bleu_tokenizer("ja") == ("ja-mecab" if MECAB_JA else "char")
    assert choose_bleu_tokenizer("ko_KR") == ("ko-mecab" if MECAB_KO else "char")
    assert choose_bleu_tokenizer("th") == "char"
    assert choose_bleu_tokenizer("en") == "13a"
    assert choose_bleu_tokenizer("fr-CA") == "13a"
    # A given language wins over the references' script.
    assert choose_bleu_tokenizer("en", ["今天天气很好"]) == "13a"


def test_script_is_guessed_from_references() -> None:
    assert guess_language(["今天天气很好"]) == "zh"
    assert guess_language(["使用 Python 的 pandas 库处理数据"]) == "zh"
    assert guess_language(["私は東京に住んでいます"]) == "ja"
    assert guess_language(["ひらがなだけ"]) == "ja"
    assert guess_language(["나는 서울에 산다"]) == "ko"
    assert guess_language(["ฉันชอบกินข้าว"]) == "th"
    assert guess_language(["The cat sat.", "Быстрая лиса"]) is None
    assert guess_language(["123 !!!", ""]) is None
    assert choose_bleu_tokenizer(None, ["私は東京に住んでいます"]) == (
        "ja-mecab" if MECAB_JA else "char"
    )


def test_mecab_tokenizer_refused_when_missing() -> None:
    if MECAB_JA:
        pytest.skip("MeCab for Japanese is installed")
    with pytest.raises(ScoringError, match="ja-mecab"):
        score_pair("はい", ["はい"], tokenize="ja-mecab")


# --- Corpus scores ----------------------------------------------------------------------------

CORPUS_HYPS = [
    "The cat sat on the mat.",
    "It is raining today.",
    "She reads a book every night.",
    "Prices went up by three percent.",
]
CORPUS_REFS = [
    ["A cat sat on the mat.", "The cat was sitting on the mat."],
    ["Today it rains.", "It is rainy today."],
    ["Every night she reads a book.", "She reads books at night."],
    ["Prices rose three percent.", "The prices increased by 3%."],
]


def _streams(references: list[list[str]]) -> list[list[Any]]:
    width = max(len(r) for r in references)
    return [[r[k] if k < len(r) else None for r in references] for k in range(width)]


def test_corpus_bleu_and_chrf_match_sacrebleu() -> None:
    bleu = corpus_bleu(CORPUS_HYPS, CORPUS_REFS)
    chrf = corpus_chrf(CORPUS_HYPS, CORPUS_REFS)
    streams = _streams(CORPUS_REFS)
    assert bleu.value == pytest.approx(sacrebleu.corpus_bleu(CORPUS_HYPS, streams).score)
    assert chrf.value == pytest.approx(sacrebleu.corpus_chrf(CORPUS_HYPS, streams).score)
    assert bleu.reason is None
    assert bleu.signature == (
        f"BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:{sacrebleu.__version__}"
    )
    assert chrf.signature.startswith("chrF2|nrefs:2|")


def test_corpus_bleu_with_different_numbers_of_references() -> None:
    hypotheses = ["The cat sat on the mat.", "Hello", "It is raining today."]
    references = [
        ["A cat sat on the mat.", "The cat was sitting on the mat.", "On the mat sat a cat."],
        ["Hello there my dear old friend"],
        ["Today it rains.", "It is rainy today."],
    ]
    got = corpus_bleu(hypotheses, references)
    expected = sacrebleu.corpus_bleu(hypotheses, _streams(references))
    assert got.value == pytest.approx(expected.score)
    assert "nrefs:var" in got.signature
    # Padding with "" instead would add a zero-length reference that "Hello" is closest to,
    # hiding its brevity penalty.
    width = max(len(r) for r in references)
    padded = [[r[k] if k < len(r) else "" for r in references] for k in range(width)]
    assert got.value is not None
    assert sacrebleu.corpus_bleu(hypotheses, padded).score > got.value
    chrf = corpus_chrf(hypotheses, references)
    assert chrf.value == pytest.approx(
        sacrebleu.corpus_chrf(hypotheses, _streams(references)).score
    )


def test_corpus_bleu_on_chinese_uses_zh() -> None:
    hypotheses = ["我们明天去北京。", "今天天气不好。"]
    references = [["我们明天要去北京。"], ["今天天气很好。"]]
    got = corpus_bleu(hypotheses, references)
    expected = sacrebleu.corpus_bleu(hypotheses, _streams(references), tokenize="zh")
    assert got.value == pytest.approx(expected.score)
    assert "tok:zh" in got.signature


def test_corpus_skips_inputs_without_a_reference_only() -> None:
    hypotheses = [*CORPUS_HYPS, "Lonely output", "Another"]
    references = [*CORPUS_REFS, ["", " "], []]
    got = corpus_bleu(hypotheses, references)
    assert got.value == pytest.approx(corpus_bleu(CORPUS_HYPS, CORPUS_REFS).value)
    assert got.reason is not None
    assert "skipped 2 of 6 inputs" in got.reason
    assert EMPTY_REFERENCE in got.reason and NO_REFERENCE in got.reason

    nothing = corpus_bleu(["a", "b"], [[""], []])
    assert nothing.value is None and nothing.reason is not None
    assert "no scorable input" in nothing.reason
    assert corpus_chrf([], []).value is None


# sacreBLEU's own test case: one output right, two empty.
SACREBLEU_REFS = [
    ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
    ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
]


def test_empty_outputs_count_in_corpus_scores_as_in_sacrebleu() -> None:
    hypotheses = ["The dog bit the man.", "", ""]
    references = [list(refs) for refs in zip(*SACREBLEU_REFS, strict=True)]
    bleu = corpus_bleu(hypotheses, references)
    assert bleu.value == pytest.approx(sacrebleu.corpus_bleu(hypotheses, SACREBLEU_REFS).score)
    assert bleu.value < 50  # the one right answer no longer scores as if it were all of them
    assert bleu.reason == f"2 {EMPTY_HYPOTHESIS}s included"
    chrf = corpus_chrf(hypotheses, references)
    assert chrf.value == pytest.approx(sacrebleu.corpus_chrf(hypotheses, SACREBLEU_REFS).score)

    silent = corpus_bleu(["", "  "], [["ref"], ["ref"]])
    assert silent.value == 0.0
    assert silent.reason == f"2 {EMPTY_HYPOTHESIS}s included"


# --- Errors and reuse -------------------------------------------------------------------------


def test_bad_requests_raise_scoring_error() -> None:
    with pytest.raises(ScoringError, match="unknown metric 'meteor'"):
        score_pair("a", ["a"], metrics=["meteor"])
    with pytest.raises(ScoringError, match="list of strings"):
        score_pair("a", "a single string")
    with pytest.raises(ScoringError, match="unknown BLEU tokenizer"):
        score_pair("a", ["a"], tokenize="flores200")
    with pytest.raises(ScoringError, match="2 hypotheses but 1 reference"):
        corpus_bleu(["a", "b"], [["a"]])
    with pytest.raises(ScoringError, match=r"references\[0\]"):
        corpus_bleu(["a"], ["a"])
    assert issubclass(ScoringError, PlaygroundError)


def test_scorer_builds_metric_objects_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real_rouge = rouge_scorer.RougeScorer

    class CountingRouge(real_rouge):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append("rouge")
            super().__init__(*args, **kwargs)

    class CountingBLEU(BLEU):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append("bleu")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(rouge_scorer, "RougeScorer", CountingRouge)
    monkeypatch.setattr(scoring, "BLEU", CountingBLEU)
    scorer = Scorer(language="en")
    for i in range(20):
        scorer.score_pair(f"The cat sat {i} times.", [f"A cat sat {i} times.", "No."])
    assert built == ["rouge", "bleu"]


def test_score_pair_shares_scorers() -> None:
    assert scoring._shared_scorer(True, None, None) is scoring._shared_scorer(True, None, None)
    score_pair("a b", ["a b"], language="zh-CN")
    score_pair("a b", ["a b"], language="zh-TW")
    assert scoring._shared_scorer.cache_info().currsize <= 32
