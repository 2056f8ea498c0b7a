"""Spread and course over visits: contiguity, distribution changes and new features, dated.

The regions are the case format's and the contiguity the knowledge base's own
(``regions.yaml``: neck next to the face segments, the arms and the trunk; trunk next to the
legs; an arm not next to a leg)."""

from __future__ import annotations

import datetime as dt

import pytest

from contraxis.registry.course import VisitState, course_events, features_of, sign_codes

D = dt.date


def _visits(*rows: tuple) -> list[VisitState]:
    return [VisitState(i + 1, day, tuple(regions), dist, "dystonia", tuple(features))
            for i, (day, regions, dist, features) in enumerate(rows)]


def _kinds(events) -> list[tuple[str, int, str]]:
    return [(e.kind, e.visit_id, e.detail.get("segment") or e.detail.get("to") or e.detail.get("feature"))
            for e in events]


@pytest.mark.parametrize("before, after, expected", [
    (["neck"], ["neck", "right-arm"], [("spread", 2, "right-arm")]),
    (["neck"], ["neck", "jaw"], [("spread", 2, "oromandibular")]),
    (["upper-face"], ["upper-face", "tongue"], [("spread", 2, "oromandibular")]),
    (["right-arm"], ["right-arm", "left-arm"], [("spread", 2, "left-arm")]),
    (["trunk"], ["trunk", "left-foot"], [("spread", 2, "left-leg")]),
    (["right-arm"], ["right-arm", "right-leg"], [("new-region", 2, "right-leg")]),
    (["upper-face"], ["upper-face", "left-leg"], [("new-region", 2, "left-leg")]),
    (["neck"], ["neck", "trunk", "left-leg"], [("spread", 2, "trunk"), ("spread", 2, "left-leg")]),
    (["lower-face"], ["jaw"], []),
    (["trunk"], ["back"], []),
    (["neck", "right-arm"], ["neck"], [("remission", 2, "right-arm")]),
])
def test_spread_by_contiguity(kb, before, after, expected) -> None:
    """Check that a new segment next to one involved before is a spread, one next to none a new
    region, and that regions of one segment (lower face and jaw; trunk and back) are no spread."""
    visits = _visits((D(2020, 1, 1), before, None, ()), (D(2020, 7, 1), after, None, ()))
    events = course_events(visits, layout=kb.regions)
    assert _kinds(events) == expected


def test_spread_is_dated_between_the_two_visits_and_explained(kb) -> None:
    """Check that a spread names both visit dates, the days between them, the contiguous
    segment and the source of the contiguity."""
    visits = _visits((D(2021, 3, 1), ["neck"], "focal", ()), (D(2021, 9, 1), ["neck", "left-arm"], "segmental", ()))
    spread, change = course_events(visits, layout=kb.regions, source=kb.regions.source)
    assert (spread.kind, spread.date, spread.since) == ("spread", D(2021, 9, 1), D(2021, 3, 1))
    assert "between 2021-03-01 and 2021-09-01 (184 days)" in spread.explanation
    assert "contiguous with the neck" in spread.explanation and "albanese-2013" in spread.explanation
    assert spread.detail["next_to"] == ["neck"] and spread.detail["regions"] == ["left-arm"]
    assert (change.kind, change.summary, change.detail["direction"]) == ("distribution", "focal → segmental",
                                                                         "progressed")


@pytest.mark.parametrize("first, second, direction", [
    ("focal", "segmental", "progressed"), ("segmental", "generalized", "progressed"),
    ("generalized", "segmental", "regressed"), ("segmental", "multifocal", "changed"),
])
def test_distribution_change(kb, first, second, direction) -> None:
    """Check that a change of distribution is dated at the visit it is seen and says its direction."""
    visits = _visits((D(2020, 1, 1), ["neck"], first, ()), (D(2020, 5, 1), ["neck"], second, ()))
    (event,) = course_events(visits, layout=kb.regions)
    assert (event.kind, event.visit_id, event.detail["from"], event.detail["to"], event.detail["direction"]) == (
        "distribution", 2, first, second, direction)


def test_visits_are_compared_in_date_order(kb) -> None:
    """Check that visits given out of order are compared by date: the spread is at the later one."""
    later = VisitState(1, D(2022, 1, 1), ("neck", "right-arm"), "segmental")
    earlier = VisitState(2, D(2021, 1, 1), ("neck",), "focal")
    events = course_events([later, earlier], layout=kb.regions)
    assert [(e.kind, e.visit_id, e.since) for e in events] == [("spread", 1, D(2021, 1, 1)),
                                                               ("distribution", 1, D(2021, 1, 1))]


def test_new_feature_flagged_once_at_the_visit_it_appears(kb) -> None:
    """Check that a feature pointing away from primary dystonia is flagged at its first visit only."""
    visits = _visits((D(2020, 1, 1), ["neck"], "focal", ()),
                     (D(2020, 6, 1), ["neck"], "focal", ("present: HP:0001300 Parkinsonism",)),
                     (D(2021, 1, 1), ["neck"], "focal", ("present: HP:0001300 Parkinsonism", "mri: abnormal")))
    events = course_events(visits, layout=kb.regions)
    assert _kinds(events) == [("secondary-feature", 2, "present: HP:0001300 Parkinsonism"),
                              ("secondary-feature", 3, "mri: abnormal")]
    assert events[0].since == D(2020, 1, 1)


def test_features_of_an_assessment(kb) -> None:
    """Check that the features are the alert's case facts and the signs its condition reads,
    never its definitions' descriptions, and none unless the movement is a dystonia."""
    assessment = {"summary": {"phenomenology": "dystonia", "distribution": "focal"}, "alerts": [{
        "code": "secondary-features", "why": {"facts": [
            "phenomenology: dystonia", "other-neuro-signs: neurological signs other than dystonia and tremor",
            "parkinsonism: parkinsonism", "present: HP:0001300 Parkinsonism"]}}]}
    case = {"findings": ["HP:0000473", "HP:0001300", "HP:0001251"], "imaging": {"mri_brain": "abnormal"}}
    found = features_of(case, assessment, kb=kb)
    assert found == ("present: HP:0001300 Parkinsonism", "mri: abnormal", "present: HP:0001251 Ataxia")
    assert "HP:0000473" not in sign_codes(kb).codes  # torticollis is the dystonia itself
    spasm = {**assessment, "summary": {"phenomenology": "spasm"}}
    assert features_of(case, spasm, kb=kb) == ()
