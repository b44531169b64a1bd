"""Output constraints as llama.cpp grammars, and what a run's record keeps of them.

llama.cpp enforces a constraint while sampling: a grammar sampler in the chain masks every
token that would leave the grammar. llama-cpp-python converts a JSON Schema to GBNF
(``json_schema_to_gbnf``, what ``LlamaGrammar.from_json_schema`` calls) and ships the grammar of
any JSON (``JSON_GBNF``); the converter refuses some schema features (``not``, remote ``$ref``,
unanchored patterns...) with a bare assertion, which becomes a :class:`ConstraintError` naming
the feature here, before anything runs.
"""

from __future__ import annotations

import hashlib
from typing import Any

from playground.errors import ConstraintError
from playground.output_constraint import KIND_LABELS, OutputConstraint

__all__ = ["check_local", "constraint_record", "gbnf_for", "llama_grammar"]


def gbnf_for(constraint: OutputConstraint) -> str:
    """The GBNF grammar llama.cpp samples under for this constraint."""
    from llama_cpp import llama_grammar as grammars

    if constraint.kind == "json":
        return str(grammars.JSON_GBNF)
    if constraint.kind == "grammar":
        return constraint.text
    try:
        return str(grammars.json_schema_to_gbnf(constraint.text))
    except RecursionError:
        raise ConstraintError("the JSON Schema refers to itself too deeply for local "
                              "generation to enforce it") from None
    except (AssertionError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        detail = str(exc).replace("stdin#", "#") or type(exc).__name__
        raise ConstraintError(
            f"local generation cannot enforce this JSON Schema (llama.cpp's converter refused "
            f"it: {detail}); simplify the schema or choose 'any JSON'") from None


def check_local(constraint: OutputConstraint) -> None:
    """Refuse a schema the local grammar converter cannot enforce, before a model is asked."""
    gbnf_for(constraint)


def llama_grammar(lib: Any, vocab: Any, constraint: OutputConstraint) -> tuple[Any, str]:
    """The ``LlamaGrammar`` for ``Llama.generate`` and its GBNF text.

    The grammar is parsed once by llama.cpp here: the sampler chain would otherwise be handed
    a null sampler for a grammar it cannot parse and crash the worker.
    """
    from llama_cpp.llama_grammar import LlamaGrammar

    gbnf = gbnf_for(constraint)
    probe = lib.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
    if not probe:
        raise ConstraintError(
            f"llama.cpp could not parse the {KIND_LABELS[constraint.kind]}: it needs a 'root' "
            "rule, every rule it names defined, and GBNF syntax (name ::= \"text\" | other)")
    lib.llama_sampler_free(probe)
    return LlamaGrammar.from_string(gbnf, verbose=False), gbnf


def constraint_record(constraint: OutputConstraint, gbnf: str | None = None) -> dict[str, Any]:
    """What a run's reproducibility record keeps: the kind and hashes of the constraint and of
    the grammar it became (a converter change shows up as another grammar hash)."""
    record: dict[str, Any] = {"kind": constraint.kind, "sha256": constraint.digest()}
    if gbnf is not None:
        record["grammar_sha256"] = hashlib.sha256(gbnf.encode("utf-8")).hexdigest()[:16]
    return record
