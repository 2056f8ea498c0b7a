"""The course of a dystonia over visits: spread to an adjacent region, a change of distribution,
and new features that point away from primary dystonia, each dated and explained.

Visits are compared in date order, each with the one before it. The regions of each visit
are grouped into the body segments of the 2013 consensus and their contiguity
(``contraxis/knowledge/data/regions.yaml``, through the knowledge base: the very table the
assessment computes the distribution with):

========================  ===================================================================
event                     when
========================  ===================================================================
``spread``                a segment involved now and not at the visit before, next to one
                          that was (contiguous segments): spread to an adjacent region
``new-region``            a segment involved now, next to none involved before (a new
                          focus, not contiguous)
``remission``             a segment involved before and not now
``distribution``          the distribution the assessment concluded changed (focal ->
                          segmental -> generalized: a progression; the other way: a regression)
``secondary-feature``     a feature that points away from primary dystonia seen for the first
                          time: a fact behind the assessment's ``secondary-features`` alert
                          (a course, an abnormal MRI, a history, a drug...) or a finding
                          that alert's condition reads (a neurological sign other than
                          dystonia: parkinsonism, ataxia, pyramidal signs...)
========================  ===================================================================

Each event carries the visit it was seen at, its date and the date of the visit before it
(the change happened between the two), and an explanation naming the regions, the
segments and the source of the contiguity (Albanese et al. 2013).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..knowledge import KnowledgeBase
from ..knowledge.schema import Regions
from ..reasoning.distribution import segments

__all__ = [
    "DISTRIBUTION_RANK",
    "CourseEvent",
    "EventKind",
    "VisitState",
    "course_events",
    "SECONDARY_ALERT",
    "Signs",
    "features_of",
    "sign_codes",
    "visit_state",
]

EventKind = Literal["spread", "new-region", "remission", "distribution", "secondary-feature"]

DISTRIBUTION_RANK: Mapping[str, int] = {"focal": 1, "segmental": 2, "multifocal": 2, "hemidystonia": 2,
                                        "generalized": 3}
"""How widespread each distribution is: a change to a higher rank is a progression."""


@dataclass(frozen=True, slots=True)
class VisitState:
    """What the course reads of one visit.

    Attributes
    ----------
    visit_id : int
        The visit's id in the registry.
    date : datetime.date
        The visit's date.
    regions : tuple of str
        The regions involved (the case format's words).
    distribution : str or None
        The distribution the assessment concluded (None when not a dystonia, or no region).
    phenomenology : str or None
        What the assessment named the movement.
    features : tuple of str
        Features that point away from primary dystonia (:func:`features_of`).
    age : float or None
        The patient's age at the visit, years.
    """

    visit_id: int
    date: dt.date
    regions: tuple[str, ...]
    distribution: str | None = None
    phenomenology: str | None = None
    features: tuple[str, ...] = ()
    age: float | None = None


@dataclass(frozen=True, slots=True)
class CourseEvent:
    """One change seen at a visit, with its explanation.

    Attributes
    ----------
    kind : str
        One of :data:`EventKind`.
    visit_id : int
        The visit it was seen at.
    date : datetime.date
        That visit's date.
    since : datetime.date or None
        The date of the visit before (the change happened between ``since`` and ``date``).
    summary : str
        A few words: ``spread to the right arm``.
    explanation : str
        Why: the regions and segments compared, their contiguity, the source.
    detail : dict
        The values compared (``segment``, ``from``, ``to``, ``next_to``, ``feature``).
    source : str
        The source id of the rule (``albanese-2013``).
    """

    kind: EventKind
    visit_id: int
    date: dt.date
    since: dt.date | None
    summary: str
    explanation: str
    detail: dict[str, Any] = field(default_factory=dict)
    source: str = "albanese-2013"

    def to_json(self) -> dict[str, Any]:
        """The event as JSON-ready data (dates in ISO 8601)."""
        return {"kind": self.kind, "visit_id": self.visit_id, "date": self.date.isoformat(),
                "since": self.since.isoformat() if self.since else None, "summary": self.summary,
                "explanation": self.explanation, "detail": self.detail, "source": self.source}


SECONDARY_ALERT = "secondary-features"
"""The alert whose condition says which features point away from primary dystonia."""


_CASE_VALUES = ("mri", "course", "distribution")
"""Variables of an ``is`` test of the alert read from the visit itself (its case, its summary)."""


@dataclass(frozen=True, slots=True)
class Signs:
    """What the ``secondary-features`` alert's condition reads, for :func:`features_of`.

    Attributes
    ----------
    codes : frozenset of str
        Finding codes read as present (concepts expanded).
    values : frozenset of (str, str)
        ``(variable, value)`` of its ``is`` tests on the MRI, the course and the distribution.
    """

    codes: frozenset[str] = frozenset()
    values: frozenset[tuple[str, str]] = frozenset()


def sign_codes(kb: KnowledgeBase) -> Signs:
    """What the ``secondary-features`` alert's condition reads, directly or through the
    definitions it uses, never under a ``not``: the findings (``other-neuro-signs``: pyramidal
    signs, ataxia, parkinsonism...; Kayser-Fleischer rings) and the values of the MRI, the
    course and the distribution (abnormal, acute, hemidystonia)."""
    rule = next((r for r in kb.alerts if r.row.alert == SECONDARY_ALERT), None)
    if rule is None:
        return Signs()
    codes: set[str] = set()
    values: set[tuple[str, str]] = set()
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, Mapping):
            return
        for op, arg in node.items():
            if op in ("all", "any") and isinstance(arg, list):
                for item in arg:
                    walk(item)
            elif op == "finding" and isinstance(arg, str):
                codes.update(kb.concepts.get(arg, frozenset([arg])))
            elif op == "is" and isinstance(arg, Mapping):
                values.update((k, str(v)) for k, v in arg.items() if k in _CASE_VALUES and v is not None)
            elif op == "fact" and isinstance(arg, str) and arg in kb.definitions and arg not in seen:
                seen.add(arg)
                walk(kb.definitions[arg].row.when)

    walk(rule.row.when)
    return Signs(frozenset(codes), frozenset(values))


def features_of(case: Mapping[str, Any], assessment: Mapping[str, Any], *, kb: KnowledgeBase,
                signs: Signs | None = None) -> tuple[str, ...]:
    """The features of a visit that point away from primary dystonia, as the knowledge base
    says them (``present: HP:0001300 Parkinsonism``, ``course: acute``, ``mri: abnormal``).

    The facts of the case behind the assessment's ``secondary-features`` alert (its
    definitions' own descriptions and its phenomenology guard left out), and every finding of
    the case, present, that the alert's condition reads (:func:`sign_codes`; the alert names
    only the first of its reasons that holds, so a sign added to an existing one is found
    here). Empty unless the movement is a dystonia.
    """
    if (assessment.get("summary") or {}).get("phenomenology") != "dystonia":
        return ()
    found: list[str] = []
    for alert in assessment.get("alerts") or ():
        if alert.get("code") == SECONDARY_ALERT:
            for fact in (alert.get("why") or {}).get("facts", ()):
                head = fact.split(":", 1)[0]
                if head in ("phenomenology", "not") or head in kb.definitions:
                    continue
                found.append(fact)
    signs = sign_codes(kb) if signs is None else signs
    seen = {"mri": (case.get("imaging") or {}).get("mri_brain"), "course": case.get("course"),
            "distribution": (assessment.get("summary") or {}).get("distribution")}
    found += [f"{var}: {value}" for var, value in sorted(signs.values) if seen.get(var) == value]
    present = [*(case.get("findings") or ()), *((case.get("imaging") or {}).get("findings") or ())]
    found += [f"present: {code} {kb.label(code)}".rstrip() for code in sorted(set(present) & signs.codes)]
    return tuple(dict.fromkeys(found))


def visit_state(visit_id: int, date: dt.date, case: Mapping[str, Any], assessment: Mapping[str, Any], *,
                kb: KnowledgeBase, signs: Signs | None = None) -> VisitState:
    """The :class:`VisitState` of a visit, from its case and its assessment (both as JSON)."""
    summary = assessment.get("summary") or {}
    return VisitState(
        visit_id=visit_id, date=date, regions=tuple(case.get("regions") or ()),
        distribution=summary.get("distribution"), phenomenology=summary.get("phenomenology"),
        features=features_of(case, assessment, kb=kb, signs=signs), age=case.get("age"),
    )


_SEGMENT_NAMES = {"oromandibular": "oromandibular region (lower face, jaw, tongue)", "trunk": "trunk and back"}


def _segment_name(segment: str) -> str:
    return _SEGMENT_NAMES.get(segment, segment.replace("-", " "))


def _names(values: Iterable[str]) -> str:
    values = [_segment_name(v) for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def _region_words(regions: Iterable[str], segment: str, layout: Regions) -> str:
    labels = [layout.regions[r].label for r in regions if layout.regions[r].segment == segment]
    return ", ".join(labels) or _segment_name(segment)


def _between(previous: VisitState, state: VisitState) -> str:
    days = (state.date - previous.date).days
    return f"between {previous.date.isoformat()} and {state.date.isoformat()} ({days} days)"


def _spread_order(before: frozenset[str], new: frozenset[str], layout: Regions) -> list[tuple[str, list[str]]]:
    """Each new segment with the involved segments it is contiguous with: first those next to a
    segment involved before, then those next to a new one reached that way (spread over two
    segments between visits), in a stable order; a segment reached by neither has ``[]``."""
    reached = set(before)
    order: list[tuple[str, list[str]]] = []
    left = sorted(new)
    while True:
        step = [(seg, sorted(set(layout.contiguous.get(seg, ())) & reached)) for seg in left]
        step = [(seg, near) for seg, near in step if near]
        if not step:
            break
        order += step
        reached.update(seg for seg, _ in step)
        left = [seg for seg in left if seg not in reached]
    return order + [(seg, []) for seg in left]


def _region_events(previous: VisitState, state: VisitState, layout: Regions, source: str) -> list[CourseEvent]:
    before = segments(previous.regions, layout=layout)
    now = segments(state.regions, layout=layout)
    events: list[CourseEvent] = []
    when = _between(previous, state)
    for seg, next_to in _spread_order(before, now - before, layout) if before else []:
        where = _region_words(state.regions, seg, layout)
        regions = [r for r in state.regions if layout.regions[r].segment == seg]
        if next_to:
            also_new = [n for n in next_to if n not in before]
            via = f" (itself newly involved: {_names(also_new)})" if also_new else ""
            events.append(CourseEvent(
                "spread", state.visit_id, state.date, previous.date, f"spread to the {_segment_name(seg)}",
                (f"The {_segment_name(seg)} ({where}) is involved at this visit and was not at the one before; "
                 f"it is contiguous with the {_names(next_to)}{via}: spread to an adjacent region, "
                 f"{when} (contiguity of the body segments: {source})."),
                {"segment": seg, "regions": regions, "next_to": next_to, "before": sorted(before)}, source,
            ))
        else:
            events.append(CourseEvent(
                "new-region", state.visit_id, state.date, previous.date, f"new region: the {_segment_name(seg)}",
                (f"The {_segment_name(seg)} ({where}) is involved at this visit and was not at the one before; "
                 f"it is not contiguous with any segment involved before ({_names(sorted(before))}), "
                 f"{when} (contiguity of the body segments: {source})."),
                {"segment": seg, "regions": regions, "next_to": [], "before": sorted(before)}, source,
            ))
    for seg in sorted(before - now):
        events.append(CourseEvent(
            "remission", state.visit_id, state.date, previous.date, f"no longer involved: the {_segment_name(seg)}",
            f"The {_segment_name(seg)} was involved at the visit before and is not at this one, {when}.",
            {"segment": seg, "before": sorted(before), "now": sorted(now)}, source,
        ))
    return events


def _distribution_event(previous: VisitState, state: VisitState, source: str) -> list[CourseEvent]:
    old, new = previous.distribution, state.distribution
    if old is None or new is None or old == new:
        return []
    rank_old, rank_new = DISTRIBUTION_RANK.get(old, 0), DISTRIBUTION_RANK.get(new, 0)
    verb = "progressed" if rank_new > rank_old else "regressed" if rank_new < rank_old else "changed"
    return [CourseEvent(
        "distribution", state.visit_id, state.date, previous.date, f"{old} → {new}",
        (f"The distribution {verb} from {old} to {new} {_between(previous, state)}: regions "
         f"{', '.join(previous.regions) or 'none'} then {', '.join(state.regions) or 'none'} "
         f"(2013 consensus classification, Axis I: {source})."),
        {"from": old, "to": new, "direction": verb}, source,
    )]


def _feature_events(seen: set[str], previous: VisitState | None, state: VisitState) -> list[CourseEvent]:
    events = []
    for feature in state.features:
        if feature in seen:
            continue
        when = f" ({_between(previous, state)})" if previous is not None else " (at the first visit)"
        events.append(CourseEvent(
            "secondary-feature", state.visit_id, state.date, previous.date if previous else None,
            f"new feature: {feature}",
            (f"{feature} is seen for the first time at this visit{when}: a feature that points away from "
             "primary dystonia; look for a cause (2013 consensus: albanese-2013)."),
            {"feature": feature}, "albanese-2013",
        ))
    return events


def course_events(visits: Sequence[VisitState], *, layout: Regions,
                  source: str = "albanese-2013") -> tuple[CourseEvent, ...]:
    """Every change over a patient's visits, in date order.

    Parameters
    ----------
    visits : sequence of VisitState
        The visits, in any order (sorted by date, then id).
    layout : Regions
        Segments and contiguity of the knowledge base (``kb.regions``).
    source : str
        The source id of the contiguity (``kb.regions.source``).

    Returns
    -------
    tuple of CourseEvent
        Spread, new regions and remissions, distribution changes, new secondary features:
        each at the visit it was first seen. Features of the first visit are flagged there.

    Examples
    --------
    A neck dystonia (focal) that involves the right arm at the next visit: a ``spread`` to
    the right arm (contiguous with the neck) and a ``distribution`` event, focal → segmental.
    """
    ordered = sorted(visits, key=lambda v: (v.date, v.visit_id))
    events: list[CourseEvent] = []
    seen: set[str] = set()
    previous: VisitState | None = None
    for state in ordered:
        if previous is not None:
            events += _region_events(previous, state, layout, source)
            events += _distribution_event(previous, state, source)
        events += _feature_events(seen, previous, state)
        seen.update(state.features)
        previous = state
    return tuple(events)
