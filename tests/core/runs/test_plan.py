from __future__ import annotations

from playground.comparison import ComparisonSpec, Input, Variant
from playground.runs.runner import plan_runs
from playground.sampling import SamplingParams


def _variant(name: str, source: str) -> Variant:
    return Variant(name=name, template_id=name, template_source=source,
                   params=SamplingParams(max_tokens=4), model="")


def test_a_template_that_does_not_parse_fails_only_its_own_runs() -> None:
    spec = ComparisonSpec(
        name="mixed",
        variants=(_variant("good", "Say {{ word }}."), _variant("broken", "Say {{ word }.")),
        inputs=(Input("a", {"word": "hi"}), Input("b", {"word": "yo"})),
    )
    planned = plan_runs(spec)
    good = [p for p in planned if p.variant.name == "good"]
    broken = [p for p in planned if p.variant.name == "broken"]
    assert [p.prompt_text for p in sorted(good, key=lambda p: p.input.id)] == ["Say hi.", "Say yo."]
    assert all(p.request is not None and p.error is None for p in good)
    assert len(broken) == 2
    assert all(p.request is None for p in broken)
    assert all(p.error and "line 1" in p.error for p in broken)
