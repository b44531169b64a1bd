"""Task metrics against hand-computed values, including the edge cases that decide rankings."""

from __future__ import annotations

import pytest

from playground.errors import PlaygroundError
from playground.evaluation.scoring import EMPTY_HYPOTHESIS, NO_REFERENCE, ROUGE_TYPES
from playground.evaluation.taskmetrics import (
    DEFAULT_LABELS,
    NO_LABEL,
    NO_LOGPROBS,
    NO_SAMPLES,
    MetricError,
    confidence,
    content_checks,
    default_metrics,
    distinct_n,
    entity_f1,
    exact_match,
    extract_label,
    label_accuracy,
    normalize,
    parse_entities,
    self_bleu,
    token_f1,
)
from playground.scores import Score


def values(scores: list[Score]) -> dict[str, float | None]:
    return {s.metric: s.value for s in scores}


# --- Normalisation and exact match ------------------------------------------------------


def test_normalize_removes_unicode_punctuation_case_and_extra_space() -> None:
    assert normalize("  Hello,\n  WORLD!  ") == "hello world"
    assert normalize("«Bonjour» — dit-il…") == "bonjour ditil"
    assert normalize("The U.S. and an ally", articles=True) == "us and ally"
    assert normalize("The U.S.", articles=False) == "the us"


def test_exact_match_takes_best_reference_and_signs_its_normalisation() -> None:
    score = exact_match("The Eiffel Tower!", ["Big Ben", "eiffel  tower"])
    assert score.value == 1.0
    assert score.signature == "exact_match|norm:lower+ws+punct+articles|nrefs:2|version:1"
    assert exact_match("Eiffel", ["Eiffel Tower"]).value == 0.0
    assert exact_match("the tower", ["tower"], articles=False).value == 0.0


def test_exact_match_without_reference_is_not_applicable_but_empty_answer_is_wrong() -> None:
    na = exact_match("Paris", [])
    assert na.value is None
    assert na.reason == NO_REFERENCE
    assert exact_match("Paris", ["  "]).value is None
    empty = exact_match("  ", ["Paris"])
    assert empty.value == 0.0
    assert empty.reason == EMPTY_HYPOTHESIS


def test_a_bare_string_reference_is_refused() -> None:
    with pytest.raises(MetricError, match="list of strings"):
        exact_match("a", "a")


# --- SQuAD token F1 ---------------------------------------------------------------------


def test_token_f1_on_the_classic_squad_examples() -> None:
    # "denver broncos" vs "broncos" after dropping "the": p = 1/2, r = 1/1, F1 = 2/3.
    scores = values(token_f1("Denver Broncos", ["the Broncos"]))
    assert scores["token_precision"] == pytest.approx(0.5)
    assert scores["token_recall"] == pytest.approx(1.0)
    assert scores["token_f1"] == pytest.approx(2 / 3)
    # Best of several references: the exact one wins.
    assert values(token_f1("Denver Broncos", ["Broncos", "Denver Broncos"]))["token_f1"] == 1.0
    # "in the 10th century" vs "10th century": "in" is extra; p = 2/3, r = 1, F1 = 0.8.
    assert values(token_f1("in the 10th century", ["10th century"]))["token_f1"] == pytest.approx(
        0.8
    )
    # Repeated tokens are clipped: "the the cat" -> "cat" after articles, exact.
    assert values(token_f1("cat cat dog", ["cat dog dog"]))["token_f1"] == pytest.approx(2 / 3)


def test_token_f1_does_not_stem_and_handles_unspaced_scripts() -> None:
    assert values(token_f1("runs", ["run"]))["token_f1"] == 0.0
    # Chinese characters are tokens: 2 of 3 shared, p = r = 2/3.
    assert values(token_f1("北京市", ["北京城"]))["token_f1"] == pytest.approx(2 / 3)


def test_token_f1_not_applicable_and_empty_cases() -> None:
    assert all(s.value is None and s.reason == NO_REFERENCE for s in token_f1("x", []))
    assert values(token_f1("", ["x"])) == {
        "token_precision": 0.0,
        "token_recall": 0.0,
        "token_f1": 0.0,
    }
    # SQuAD's rule: an answer and a reference that both normalise to nothing agree.
    assert values(token_f1("The.", ["a"]))["token_f1"] == 1.0


# --- Labels -----------------------------------------------------------------------------


def test_extract_label_finds_whole_words_ignoring_case_and_punctuation() -> None:
    assert extract_label("Sentiment: POSITIVE.", DEFAULT_LABELS) == "positive"
    assert extract_label("**Negative**", DEFAULT_LABELS) == "negative"
    assert extract_label("positively thrilled", DEFAULT_LABELS) is None
    assert extract_label("I cannot tell.", DEFAULT_LABELS) is None
    assert extract_label("", DEFAULT_LABELS) is None


def test_extract_label_earliest_wins_then_longer() -> None:
    assert extract_label("Neutral, though slightly positive", DEFAULT_LABELS) == "neutral"
    assert extract_label("positive/negative", DEFAULT_LABELS) == "positive"
    labels = ("very", "very positive", "positive")
    assert extract_label("Very positive!", labels) == "very positive"


def test_extract_label_does_not_understand_negation() -> None:
    # Documented: the label word is found even when negated.
    assert extract_label("This is not positive.", DEFAULT_LABELS) == "positive"


def test_extract_label_rejects_bad_label_sets() -> None:
    with pytest.raises(MetricError):
        extract_label("x", [])
    with pytest.raises(MetricError, match="no words"):
        extract_label("x", ["!!"])


def test_label_accuracy_counts_missing_label_as_wrong() -> None:
    right = label_accuracy("The answer is Negative.", ["negative"])
    assert right.value == 1.0
    assert right.signature.startswith(
        "accuracy|extract:first-label|labels:negative,neutral,positive"
    )
    assert label_accuracy("positive", ["Negative"]).value == 0.0
    missing = label_accuracy("Hard to say.", ["neutral"])
    assert missing.value == 0.0
    assert missing.reason == NO_LABEL
    assert label_accuracy("positive", []).value is None
    custom = label_accuracy("Category: sports", ["Sports"], labels=("sports", "politics"))
    assert custom.value == 1.0


# --- Entities ---------------------------------------------------------------------------


def test_parse_entities_reads_bullets_numbering_and_any_case() -> None:
    text = """Here are the entities:
    - PERSON: Ada Lovelace
    2. org: Acme, Inc.
    * Loc: London
    DATE: 10 December 1815
    COLOR: blue
    PERSON:
    """
    assert parse_entities(text) == {
        ("PERSON", "ada lovelace"),
        ("ORG", "acme inc"),
        ("LOC", "london"),
        ("DATE", "10 december 1815"),
    }


def test_entity_f1_with_partial_matches() -> None:
    reference = "PERSON: Ada Lovelace\nLOC: London\nDATE: 1815"
    # One right, one with the wrong type, one extra: tp = 1, p = 1/3, r = 1/3.
    hypothesis = "PERSON: ada lovelace\nORG: London\nLOC: Paris"
    scores = values(entity_f1(hypothesis, [reference]))
    assert scores["entity_precision"] == pytest.approx(1 / 3)
    assert scores["entity_recall"] == pytest.approx(1 / 3)
    assert scores["entity_f1"] == pytest.approx(1 / 3)
    # Two of three found, nothing wrong: p = 1, r = 2/3, F1 = 0.8.
    scores = values(entity_f1("- PERSON: Ada Lovelace\n- LOC: London.", [reference]))
    assert scores["entity_precision"] == 1.0
    assert scores["entity_recall"] == pytest.approx(2 / 3)
    assert scores["entity_f1"] == pytest.approx(0.8)


def test_entity_f1_best_reference_and_empty_sets() -> None:
    scores = values(entity_f1("LOC: Rome", ["LOC: Paris", "LOC: Rome"]))
    assert scores["entity_f1"] == 1.0
    assert values(entity_f1("No entities.", ["None"]))["entity_f1"] == 1.0
    assert values(entity_f1("LOC: Rome", ["None"]))["entity_precision"] == 0.0
    assert values(entity_f1("nothing", ["LOC: Rome"]))["entity_f1"] == 0.0
    assert all(s.value is None for s in entity_f1("LOC: Rome", []))


# --- Content checks ---------------------------------------------------------------------


def test_content_checks_plain_items() -> None:
    scores = content_checks(
        "Summary: Next  Steps are listed.",
        must_contain=["next steps", "summary", "owner"],
        must_not_contain=["lorem ipsum"],
    )
    by_name = {s.metric: s for s in scores}
    assert by_name["required_recall"].value == pytest.approx(2 / 3)
    assert by_name["required_recall"].reason == "missing: 'owner'"
    assert by_name["forbidden_ok"].value == 1.0
    assert by_name["checks_pass"].value == 0.0
    passing = values(content_checks("All good", ["good"], ["bad"]))
    assert passing == {"required_recall": 1.0, "forbidden_ok": 1.0, "checks_pass": 1.0}


def test_content_checks_forbidden_and_empty_lists() -> None:
    scores = values(content_checks("As an AI model, I", must_not_contain=["as an ai"]))
    assert scores == {"required_recall": None, "forbidden_ok": 0.0, "checks_pass": 0.0}
    assert values(content_checks("anything")) == {
        "required_recall": None,
        "forbidden_ok": None,
        "checks_pass": None,
    }


def test_content_checks_regex() -> None:
    scores = values(
        content_checks(
            "Order #1234 shipped",
            must_contain=[r"#\d{4}\b", r"(?i)SHIPPED"],
            must_not_contain=[r"\bTODO\b"],
            regex=True,
        )
    )
    assert scores == {"required_recall": 1.0, "forbidden_ok": 1.0, "checks_pass": 1.0}
    # Patterns are case-sensitive as written.
    assert values(content_checks("shipped", ["SHIPPED"], regex=True))["required_recall"] == 0.0


def test_content_checks_invalid_regex_message() -> None:
    with pytest.raises(MetricError) as info:
        content_checks("text", must_contain=["ok", "(unclosed"], regex=True)
    assert isinstance(info.value, PlaygroundError)
    message = str(info.value)
    assert "invalid regular expression '(unclosed'" in message
    assert "position 0" in message


# --- Defaults per task ------------------------------------------------------------------


def test_default_metrics_per_task() -> None:
    assert default_metrics("summarization") == ROUGE_TYPES
    assert default_metrics("explain") == ROUGE_TYPES
    assert default_metrics("translation") == ("bleu", "chrf")
    assert default_metrics("Sentiment") == ("accuracy",)
    assert default_metrics("classification") == ("accuracy",)
    assert default_metrics("qa") == ("token_f1", "exact_match")
    assert default_metrics("ner") == ("entity_f1",)
    with pytest.raises(MetricError, match="unknown task 'poetry'"):
        default_metrics("poetry")


# --- Diversity --------------------------------------------------------------------------


def test_distinct_n_is_unique_over_total() -> None:
    samples = ["the cat sat", "the cat ran", "a dog"]
    # Unigrams: 8 in total, unique {the, cat, sat, ran, a, dog} = 6.
    distinct_1 = distinct_n(samples, 1)
    assert distinct_1.metric == "distinct_1"
    assert distinct_1.value == pytest.approx(6 / 8)
    # Bigrams within samples only: (the cat) x2, (cat sat), (cat ran), (a dog): 4 / 5.
    assert distinct_n(samples, 2).value == pytest.approx(4 / 5)
    identical = distinct_n(["same words here"] * 4, 1)
    assert identical.value == pytest.approx(3 / 12)
    assert distinct_n(["one"], 2).value is None
    with pytest.raises(MetricError):
        distinct_n(samples, 0)


def test_self_bleu_identical_samples_score_100_and_different_ones_low() -> None:
    identical = self_bleu(["The cat sat on the mat."] * 3)
    assert identical.value == pytest.approx(100.0)
    assert identical.signature.startswith("self_bleu|nrefs:2|")
    assert "eff:yes" in identical.signature
    different = self_bleu(["The cat sat on the mat.", "Quantum fields vibrate silently."])
    assert different.value is not None
    assert different.value < 10.0


def test_self_bleu_is_the_mean_of_leave_one_out_bleu() -> None:
    from sacrebleu.metrics.bleu import BLEU

    samples = ["a b c d", "a b c e", "x y z w"]
    bleu = BLEU(effective_order=True)
    expected = sum(
        bleu.sentence_score(s, samples[:i] + samples[i + 1 :]).score for i, s in enumerate(samples)
    ) / len(samples)
    assert self_bleu(samples).value == pytest.approx(expected)


def test_self_bleu_needs_two_non_empty_samples() -> None:
    for samples in ([], ["only one"], ["one", "  "]):
        score = self_bleu(samples)
        assert score.value is None
        assert score.reason == NO_SAMPLES


# --- Confidence -------------------------------------------------------------------------


def test_confidence_mean_min_and_flag() -> None:
    sure = confidence([-0.1, -0.2, -0.3])
    assert sure.mean_logprob.value == pytest.approx(-0.2)
    assert sure.min_logprob.value == pytest.approx(-0.3)
    assert sure.low_confidence is False
    shaky = confidence([-0.5, -2.5])
    assert shaky.mean_logprob.value == pytest.approx(-1.5)
    assert shaky.low_confidence is True
    assert confidence([-0.5, -2.5], threshold=-2.0).low_confidence is False
    assert [s.metric for s in shaky.scores] == ["mean_logprob", "min_logprob"]


def test_confidence_without_logprobs_is_unknown() -> None:
    none = confidence([])
    assert none.mean_logprob.value is None
    assert none.mean_logprob.reason == NO_LOGPROBS
    assert none.low_confidence is None


def test_confidence_rejects_impossible_logprobs() -> None:
    for bad in ([float("nan")], [0.5], [float("-inf")]):
        with pytest.raises(MetricError):
            confidence(bad)
