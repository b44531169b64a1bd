"""What a report says about a judge model's verdicts on a comparison, beside the metrics.

A judge's rubric scores are metrics like ROUGE (``judge:<criterion>``, in the score table, the
intervals and the paired tests); what a metric table cannot say is written here: how many
outputs the judge could not score and why, how many scores were read from its sampled text
rather than its probabilities, how often its pairwise verdict followed the order the outputs
were shown in, the ranking its pairwise verdicts give, and how far it agrees with the people
who rated the same outputs (:mod:`playground.evaluation.agreement`), in plain words.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from playground.evaluation.agreement import Agreement
from playground.evaluation.judge_pairs import PositionBias
from playground.evaluation.judge_scores import JUDGE_PREFIX, criterion_of
from playground.evaluation.preferences import Rating
from playground.evaluation.stats import Estimate
from playground.scores import Score
from playground.wording import plural

__all__ = [
    "FROM_TEXT_NOTE",
    "JudgeEvaluation",
    "PairwiseSummary",
    "RubricSummary",
    "judge_html",
    "judge_lines",
    "judge_markdown",
    "judge_name",
    "rubric_summary",
]

#: Why scores read from the text are counted apart.
FROM_TEXT_NOTE = ("read from the judge's sampled text (the server sent no log-probabilities): "
                  "a noisier measurement than an expected score")


@dataclass(frozen=True)
class RubricSummary:
    """One criterion's rubric scores over a comparison's outputs."""

    criterion: str
    #: Which judge made them: model and template, from the scores' signatures.
    judge: str
    scored: int
    not_applicable: int
    #: The N/A reasons with how often each was given, most frequent first.
    reasons: tuple[tuple[str, int], ...]
    #: Scores read from the judge's sampled text rather than its probabilities.
    from_text: int
    #: With the people's Likert ratings on the same criterion; None when nobody rated it.
    agreement: Agreement | None = None


@dataclass(frozen=True)
class PairwiseSummary:
    """One criterion's pairwise verdicts, each from both orders."""

    criterion: str
    judge: str
    #: Pairs with a verdict (a flip counts as a tie); pairs whose answer could not be read
    #: are in ``bias.not_read``.
    verdicts: int
    bias: PositionBias
    #: The Bradley–Terry ranking from the judge's verdicts, best first.
    ranking: tuple[Rating, ...]
    #: With the people's blind pairwise judgements; None when nobody judged pairs.
    agreement: Agreement | None = None


@dataclass(frozen=True)
class JudgeEvaluation:
    rubric: tuple[RubricSummary, ...] = ()
    pairwise: tuple[PairwiseSummary, ...] = ()

    @property
    def agreements(self) -> tuple[Agreement, ...]:
        rubric = [s.agreement for s in self.rubric]
        return tuple(a for a in (*rubric, *(s.agreement for s in self.pairwise)) if a is not None)


def judge_name(signature: str) -> str:
    """The judge named in a rubric score's signature (``model:…|template:…``), as a reader
    reads it: ``SmolLM2 with judge-rubric``."""
    fields: dict[str, str] = {}
    for part in signature.split("|"):
        key, _, value = part.partition(":")
        fields.setdefault(key, value)
    model, template = fields.get("model", ""), fields.get("template", "").partition("@")[0]
    return " with ".join(p for p in (model, template) if p) or "the judge"


def rubric_summary(
    criterion: str, scores: Iterable[Score], agreement: Agreement | None = None
) -> RubricSummary:
    """Count one criterion's stored scores: scored, N/A with their reasons, read from text."""
    listed = [s for s in scores if criterion_of(s.metric) == criterion]
    scored = [s for s in listed if s.value is not None]
    reasons = Counter(s.reason or "no reason recorded" for s in listed if s.value is None)
    judges = list(dict.fromkeys(judge_name(s.signature) for s in listed))
    return RubricSummary(
        criterion=criterion,
        judge=", ".join(judges) or "the judge",
        scored=len(scored),
        not_applicable=len(listed) - len(scored),
        reasons=tuple(reasons.most_common()),
        from_text=sum(1 for s in scored if "|source:text|" in s.signature),
        agreement=agreement,
    )


# -- words ------------------------------------------------------------------------------------


def _interval(estimate: Estimate | None) -> str:
    if estimate is None:
        return "N/A"
    return f"{estimate.mean:.2f} [{estimate.low:.2f}, {estimate.high:.2f}]"


def _rubric_sentences(s: RubricSummary) -> list[str]:
    total = s.scored + s.not_applicable
    out = [f"{JUDGE_PREFIX} {s.criterion} by {s.judge}: {s.scored} of "
           f"{plural(total, 'output')} scored, {s.not_applicable} N/A."]
    out += [f"N/A ×{n}: {reason}" for reason, n in s.reasons]
    if s.from_text:
        out.append(f"{plural(s.from_text, 'score')} {FROM_TEXT_NOTE}.")
    return out


def _pairwise_sentences(s: PairwiseSummary) -> list[str]:
    out = [f"Pairwise on {s.criterion} by {s.judge}: {plural(s.verdicts, 'verdict')} from both "
           f"orders" + (f", {s.bias.not_read} not read" if s.bias.not_read else "") + ".",
           s.bias.describe()]
    if s.ranking:
        out.append("Judge's ranking (Bradley–Terry): " + ", ".join(
            f"{r.variant} {r.strength:.2f}" for r in s.ranking) + ".")
    return out


def _agreement_cells(a: Agreement) -> list[str]:
    second = ("Spearman ρ " + _interval(a.spearman) if a.kind == "likert"
              else "agreement rate " + _interval(a.rate))
    what = "Likert ratings" if a.kind == "likert" else "pairwise judgements"
    return [a.criterion, what, str(a.pairs), "κ " + _interval(a.kappa), second, a.sentence]


_AGREEMENT_HEADERS = ("criterion", "compared with", "outputs", "Cohen's κ [95% CI]",
                      "second measure [95% CI]", "verdict")
_AGREEMENT_NOTE = ("κ is quadratic-weighted for Likert ratings and unweighted for pairwise "
                   "verdicts; intervals are bootstraps over inputs.")


def judge_lines(judge: JudgeEvaluation) -> list[str]:
    """The judge's section as plain lines, for a terminal."""
    lines: list[str] = []
    for r in judge.rubric:
        lines += _rubric_sentences(r)
    for p in judge.pairwise:
        lines += _pairwise_sentences(p)
    for a in judge.agreements:
        cells = _agreement_cells(a)
        lines.append(f"Agreement on {cells[0]} with your {cells[1]} ({cells[2]} outputs): "
                     f"{cells[3]}, {cells[4]}. {cells[5]}")
    return lines


def judge_markdown(judge: JudgeEvaluation) -> list[str]:
    lines = ["## Judge", ""]
    for r in judge.rubric:
        lines += [f"- {line}" for line in _rubric_sentences(r)]
    for p in judge.pairwise:
        lines += [f"- {line}" for line in _pairwise_sentences(p)]
    if judge.agreements:
        lines += ["", "### Judge agreement", "", _AGREEMENT_NOTE, "",
                  "| " + " | ".join(_AGREEMENT_HEADERS) + " |",
                  "|" + "---|" * len(_AGREEMENT_HEADERS)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in _agreement_cells(a)) + " |"
                  for a in judge.agreements]
    return lines


def judge_html(judge: JudgeEvaluation) -> str:
    esc = html.escape
    items = [*(line for r in judge.rubric for line in _rubric_sentences(r)),
             *(line for p in judge.pairwise for line in _pairwise_sentences(p))]
    out = ["<h2>Judge</h2><ul>", *(f"<li>{esc(line)}</li>" for line in items), "</ul>"]
    if judge.agreements:
        out.append(f"<h3>Judge agreement</h3><p>{esc(_AGREEMENT_NOTE)}</p><table><tr>"
                   + "".join(f"<th>{esc(h)}</th>" for h in _AGREEMENT_HEADERS) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _agreement_cells(a)) + "</tr>"
                for a in judge.agreements]
        out.append("</table>")
    return "".join(out)

