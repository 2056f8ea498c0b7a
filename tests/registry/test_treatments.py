"""Scales, toxin and deep brain stimulation kept with visits: scores computed, label checks
kept with the injection, the follow-up's milestones and percentage improvement."""

from __future__ import annotations

import datetime as dt

import pytest

from contraxis.errors import CaseError
from contraxis.registry.dbs import MILESTONES, dbs_followup, improvement
from contraxis.registry.errors import RegistryError
from contraxis.registry.store import Registry

D = dt.date
TSUI = {"A.rotation": 2, "A.tilt": 1, "A.flexion": 0, "B": 2, "C": 1, "D.severity": 1, "D.duration": 2}
"""(2 + 1 + 0) x 2 + 1 + 1 x 2 = 9."""
DYSPORT = {"product": "Dysport", "indication": "cervical-dystonia", "guidance": "emg",
           "muscles": [{"muscle": "sternocleidomastoid", "side": "left", "units": 150},
                       {"muscle": "splenius capitis", "side": "right", "units": 250}],
           "response": {"onset_days": 7, "peak_days": 28, "duration_weeks": 12}, "adverse_effects": ["dysphagia"]}


@pytest.fixture
def registry(sqlite_url, kb, cervical):
    registry = Registry.init(sqlite_url, kb=kb)
    for day in ("2024-01-10", "2024-02-20", "2024-05-01"):
        registry.add_visit("P-1", cervical, date=day)
    return registry


def test_a_scale_is_scored_never_typed(registry) -> None:
    """Check that a scale's total is computed from its items and kept with the visit; a value
    out of range or a total typed as an item is refused, naming the item."""
    visit = registry.visits("P-1")[0]
    record = registry.add_scale("P-1", visit.id, "tsui", TSUI)
    assert record.total == 9 and record.scores["scores"] == {"total": 9.0}
    assert registry.visits("P-1")[0].scales[0].total == 9
    with pytest.raises(CaseError, match="A.rotation"):
        registry.add_scale("P-1", visit.id, "twstrs", {"A.rotation": 9})
    with pytest.raises(RegistryError, match="'tsui' is already scored at visit"):
        registry.add_scale("P-1", visit.id, "tsui", TSUI)


def test_toxin_checks_are_kept_with_the_injection(registry) -> None:
    """Check that a second Dysport treatment six weeks after the first carries the label's
    12-week interval warning, and the first none; response and adverse effects are kept."""
    first, second, _ = registry.visits("P-1")
    ok = registry.add_injection("P-1", first.id, DYSPORT)
    assert (ok.product, ok.total_units, ok.warnings) == ("abobotulinumtoxinA", 400.0, ())
    assert ok.detail["response"]["duration_weeks"] == 12 and ok.detail["adverse_effects"] == ["dysphagia"]
    early = registry.add_injection("P-1", second.id, DYSPORT)
    assert [w["rule"] for w in early.warnings] == ["abobotulinumtoxinA.cervical-dystonia-interval"]
    assert "5 weeks 6 days since the previous" in early.warnings[0]["message"]
    kept = registry.visits("P-1")[1].injections[0]
    assert kept.warnings == early.warnings


@pytest.mark.parametrize("change, where", [
    ({"adverse_effects": ["headache"]}, "adverse_effects[0]"),
    ({"response": {"onset_days": -1}}, "response.onset_days"),
    ({"date": "2023-01-01"}, "date"),
    ({"product": "Xeomin-ish"}, "injection.product"),
])
def test_bad_injections_are_refused(registry, change, where) -> None:
    """Check that a bad injection is refused naming the field."""
    visit = registry.visits("P-1")[0]
    with pytest.raises(CaseError) as error:
        registry.add_injection("P-1", visit.id, {**DYSPORT, **change})
    assert error.value.problems[0].where == where


@pytest.mark.parametrize("baseline, value, expected", [(40, 20, 50.0), (40, 40, 0.0), (30, 36, -20.0), (0, 4, None)])
def test_improvement(baseline, value, expected) -> None:
    """Check the percentage improvement (higher scores are worse)."""
    assert improvement(baseline, value) == expected


def test_dbs_follow_up_milestones(sqlite_url, kb, cervical) -> None:
    """Check that the baseline is the newest rating before surgery and each milestone the
    rating closest to its day within its window, with the percentage improvement of each score;
    a rating outside every window is no milestone."""
    registry = Registry.init(sqlite_url, kb=kb)
    surgery = D(2024, 1, 15)
    ratings = {D(2023, 6, 1): 12, D(2024, 1, 5): 11, D(2024, 2, 16): 9, D(2024, 4, 10): 6, D(2024, 4, 25): 5,
               D(2024, 7, 20): 4, D(2024, 10, 1): 5, D(2025, 1, 20): 3}
    for day, total in ratings.items():
        visit = registry.add_visit("P-2", cervical, date=day)
        parts = [min(3, max(0, total - 3 * k)) for k in range(4)]  # with B = 1: rotation + tilt + flexion + C
        items = {"A.rotation": parts[0], "A.tilt": parts[1], "A.flexion": parts[2], "B": 1, "C": parts[3],
                 "D.severity": 0, "D.duration": 0}
        assert registry.add_scale("P-2", visit.id, "tsui", items).total == total
    implant = registry.add_implant("P-2", surgery_date=surgery, device="Percept PC", target="GPi", side="bilateral")
    last = registry.visits("P-2")[-1]
    registry.add_stimulation("P-2", last.id, implant_id=implant.id, side="left", contacts="1-, C+", amplitude=3.5,
                             amplitude_unit="mA", pulse_width_us=90, frequency_hz=130)
    (follow,) = dbs_followup(registry.record("P-2"))
    assert follow.baseline.date == D(2024, 1, 5) and follow.baseline.scores["total"] == 11
    got = {m.months: m.date for m in follow.milestones}
    assert got == {1: D(2024, 2, 16), 3: D(2024, 4, 10), 6: D(2024, 7, 20), 12: D(2025, 1, 20)}
    three = next(m for m in follow.milestones if m.months == 3)
    assert three.improvement["total"] == 45.5  # (11 - 6) / 11
    assert [s.amplitude for _, s in follow.settings] == [3.5]
    assert [m for m, _, _ in MILESTONES] == [1, 3, 6, 12]


@pytest.mark.parametrize("kwargs, where", [
    ({"target": "thalamus"}, "target"), ({"side": "both"}, "side"), ({"device": ""}, "device"),
])
def test_bad_implants(registry, kwargs, where) -> None:
    """Check that an implant with a target or side outside the vocabulary is refused naming it."""
    values = {"surgery_date": "2024-01-01", "device": "Percept PC", "target": "GPi", "side": "bilateral", **kwargs}
    with pytest.raises(RegistryError) as error:
        registry.add_implant("P-1", **values)
    assert error.value.problems[0].where == where


def test_settings_need_a_matching_implant_after_surgery(registry) -> None:
    """Check that settings before the surgery, or on a side the implant lacks, are refused."""
    first, _, last = registry.visits("P-1")
    implant = registry.add_implant("P-1", surgery_date="2024-03-01", device="Vercise", target="STN", side="left")
    settings = {"implant_id": implant.id, "contacts": "2-", "amplitude": 2.0, "amplitude_unit": "mA",
                "pulse_width_us": 60, "frequency_hz": 130}
    with pytest.raises(RegistryError, match="is before the surgery"):
        registry.add_stimulation("P-1", first.id, side="left", **settings)
    with pytest.raises(RegistryError, match="implant .* is left"):
        registry.add_stimulation("P-1", last.id, side="right", **settings)
    with pytest.raises(RegistryError, match="frequency_hz"):
        registry.add_stimulation("P-1", last.id, side="left", **{**settings, "frequency_hz": 0})
