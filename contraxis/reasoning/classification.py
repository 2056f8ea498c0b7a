"""Step 2: Axis I of the 2013 consensus classification (onset band, body distribution,
named focal type, isolated or combined, temporal pattern, named forms)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..assessment import Conclusion, Explanation
from ..knowledge import KnowledgeBase
from ..knowledge.view import Used
from ..vocabulary import Course, Distribution, OnsetBand
from .distribution import distribution, segments
from .facts import Concluded, Facts
from .tables import explain, first_match, matches

__all__ = ["ClassificationResult", "NamedForm", "classify", "onset_band"]


@dataclass(frozen=True, slots=True)
class NamedForm:
    """A named form of dystonia whose rule holds, with the rule and the facts it used."""

    name: str
    rule: str
    facts: Used


@dataclass(frozen=True, slots=True)
class ClassificationResult:
    """Axis I, as far as the movement allows.

    ``conclusions`` are the onset band (any movement) and, for a dystonia, its distribution,
    focal type and whether it is isolated or combined; ``segments`` (sorted), ``variability``
    (the temporal pattern's words) and ``named_forms`` are the detail of a dystonia (None and
    () otherwise); ``course`` is the case's. ``concluded`` adds the Axis I values to what the
    steps before concluded.
    """

    conclusions: tuple[Conclusion, ...]
    concluded: Concluded
    course: Course | None = None
    segments: tuple[str, ...] | None = None
    variability: tuple[str, ...] | None = None
    named_forms: tuple[NamedForm, ...] = ()

    def detail(self) -> dict[str, Any]:
        """The detail of Axis I as JSON-ready data: segments (when a region counts), temporal
        pattern and named forms; {} for a movement that is not a dystonia."""
        if self.variability is None:
            return {}
        out: dict[str, Any] = {}
        if self.segments is not None:
            out["segments"] = list(self.segments)
        out["temporal_pattern"] = {"course": self.course, "variability": list(self.variability)}
        out["named_forms"] = [{"name": f.name, "rule": f.rule, "facts": list(f.facts)} for f in self.named_forms]
        return out


def onset_band(age: float, *, kb: KnowledgeBase) -> tuple[OnsetBand, str] | None:
    """The consensus band (and its label) of an age at onset, in years."""
    for band in kb.onset_bands.bands:
        if age >= band.from_ and (band.below is None or age < band.below):
            return band.band, band.label
    return None


def _onset(onset: float, band: OnsetBand, label: str, kb: KnowledgeBase) -> Conclusion:
    source = kb.onset_bands.source
    return Conclusion(
        field="onset_band",
        value=band,
        label=label,
        why=Explanation(
            rule="onset-band." + band,
            facts=(f"onset_age: {onset:g}",),
            source=source,
            citation=kb.citation(source),
            rationale=f"Onset at {onset:g} years falls in {label}.",
        ),
    )


def _distribution(dist: Distribution, regions: tuple[str, ...], segs: tuple[str, ...], kb: KnowledgeBase) -> Conclusion:
    rule = kb.distribution_rules[dist]
    source = kb.distribution_source
    return Conclusion(
        field="distribution",
        value=dist,
        label=dist,
        why=Explanation(
            rule=rule.id,
            facts=tuple(f"region: {r}" for r in regions) + (f"segments: {', '.join(segs)}",),
            source=source,
            citation=kb.citation(source),
            rationale=rule.rationale,
        ),
    )


def classify(facts: Facts, before: Concluded, kb: KnowledgeBase) -> ClassificationResult:
    """Classify the movement named in ``before``.

    The onset band applies to every movement; the rest to a dystonia only. Each table reads
    the values concluded before it: the focal type the distribution, the associated features
    the focal type, the temporal pattern and named forms all of Axis I.
    """
    conclusions: list[Conclusion] = []
    onset = facts.case.onset_age
    band = onset_band(onset, kb=kb) if onset is not None else None
    if onset is not None and band is not None:
        conclusions.append(kb.intern(("onset conclusion", onset, band), lambda: _onset(onset, band[0], band[1], kb)))
    if before.phenomenology != "dystonia":
        seen = before._replace(onset_band=band[0]) if band is not None else before
        return ClassificationResult(conclusions=tuple(conclusions), concluded=seen)

    regions = facts.case.regions
    dist = distribution(regions, layout=kb.regions)
    seen = before._replace(onset_band=band[0] if band is not None else before.onset_band, distribution=dist)
    segs: tuple[str, ...] | None = None
    if dist is not None:
        segs = tuple(sorted(segments(regions, layout=kb.regions)))
        conclusions.append(kb.intern(("distribution conclusion", dist, tuple(regions), segs),
                                     functools.partial(_distribution, dist, tuple(regions), segs, kb)))
    if dist == "focal":
        focal = first_match(kb.focal_type, facts.view(seen))
        if focal is not None:
            row, used = focal
            seen = seen._replace(focal_type=row.row.value)
            conclusions.append(
                Conclusion(field="focal_type", value=row.row.value, label=row.row.value, why=explain(kb, row, used))
            )
    associated = first_match(kb.associated, facts.view(seen))
    if associated is not None:
        arow, aused = associated
        seen = seen._replace(associated=arow.row.value)
        conclusions.append(
            Conclusion(field="associated", value=arow.row.value, label=arow.row.value, why=explain(kb, arow, aused))
        )
    view = facts.view(seen)
    variability = tuple(row.row.value for row, _ in matches(kb.temporal_pattern, view)) or ("persistent",)
    named_forms = tuple(NamedForm(row.row.value, row.id, used) for row, used in matches(kb.named_forms, view))
    return ClassificationResult(
        conclusions=tuple(conclusions),
        concluded=seen,
        course=facts.case.course,
        segments=segs,
        variability=variability,
        named_forms=named_forms,
    )
