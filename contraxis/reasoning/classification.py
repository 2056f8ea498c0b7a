"""Step 2: Axis I of the 2013 consensus classification (onset band, body distribution,
named focal type, isolated or combined, temporal pattern, named forms)."""

from __future__ import annotations

from typing import Any

from ..assessment import Conclusion, Explanation
from ..knowledge import KnowledgeBase
from .distribution import distribution, segments
from .facts import Facts
from .tables import explain, first_match, matches

__all__ = ["classify", "onset_band"]


def onset_band(age: float, *, kb: KnowledgeBase) -> tuple[str, str] | None:
    """The consensus band (and its label) of an age at onset, in years."""
    for band in kb.onset_bands.bands:
        if age >= band.from_ and (band.below is None or age < band.below):
            return band.band, band.label
    return None


def classify(facts: Facts, kb: KnowledgeBase) -> tuple[list[Conclusion], dict[str, Any]]:
    """Classify the movement; records the Axis I values in the facts.

    The onset band applies to every movement; the rest to a dystonia only.
    """
    conclusions: list[Conclusion] = []
    detail: dict[str, Any] = {}
    onset = facts.case.onset_age
    if onset is not None:
        band = onset_band(onset, kb=kb)
        if band is not None:
            facts.set("onset_band", band[0])
            source = kb.onset_bands.source
            conclusions.append(
                Conclusion(
                    field="onset_band",
                    value=band[0],
                    label=band[1],
                    why=Explanation(
                        rule="onset-band." + band[0],
                        facts=(f"onset_age: {onset:g}",),
                        source=source,
                        citation=kb.citation(source),
                        rationale=f"Onset at {onset:g} years falls in {band[1]}.",
                    ),
                )
            )
    if facts.var("phenomenology") != "dystonia":
        return conclusions, detail

    dist = distribution(facts.case.regions, layout=kb.regions)
    if dist is not None:
        facts.set("distribution", dist)
        rule = kb.distribution_rules[dist]
        source = kb.distribution_source
        segs = sorted(segments(facts.case.regions, layout=kb.regions))
        conclusions.append(
            Conclusion(
                field="distribution",
                value=dist,
                label=dist,
                why=Explanation(
                    rule=rule.id,
                    facts=tuple(f"region: {r}" for r in facts.case.regions) + (f"segments: {', '.join(segs)}",),
                    source=source,
                    citation=kb.citation(source),
                    rationale=rule.rationale,
                ),
            )
        )
        detail["segments"] = segs
    if dist == "focal":
        hit = first_match(kb.focal_type, facts)
        if hit is not None:
            row, used = hit
            facts.set("focal_type", row.row.value)
            conclusions.append(
                Conclusion(field="focal_type", value=row.row.value, label=row.row.value, why=explain(kb, row, used))
            )
    hit = first_match(kb.associated, facts)
    if hit is not None:
        row, used = hit
        facts.set("associated", row.row.value)
        conclusions.append(
            Conclusion(field="associated", value=row.row.value, label=row.row.value, why=explain(kb, row, used))
        )
    variability = [row.row.value for row, _ in matches(kb.temporal_pattern, facts)] or ["persistent"]
    detail["temporal_pattern"] = {"course": facts.case.course, "variability": variability}
    detail["named_forms"] = [
        {"name": row.row.value, "rule": row.id, "facts": list(used)} for row, used in matches(kb.named_forms, facts)
    ]
    return conclusions, detail
