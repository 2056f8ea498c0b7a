"""Deep brain stimulation follow-up: each system's rating scales before surgery and at 1, 3, 6
and 12 months after, with the percentage improvement, and the settings programmed over time.

The visit that counts for a milestone is the one with the scale rated closest to the
milestone's day (months x 30.44 days after surgery) within its window; the baseline is the
newest rating on or before the day of surgery, at most a year before it. Windows are the
registry's follow-up protocol (:data:`MILESTONES`), wide enough for the visits a clinic
actually books.

Improvement is ``(baseline - score) / baseline x 100`` for each score of the scale (BFMDRS
movement and disability, TWSTRS severity...): every scale the registry scores rates worse
with a higher number, so a positive percentage is an improvement (the measure reported by
the GPi stimulation trials, e.g. Vidailhet et al. 2005, Kupsch et al. 2006). It is not
computed when the baseline score is 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .records import ImplantRecord, PatientRecord, StimulationRecord

__all__ = ["BASELINE_DAYS", "MILESTONES", "DbsFollowUp", "Milestone", "dbs_followup", "improvement"]

MILESTONES: tuple[tuple[int, int, int], ...] = ((1, 15, 45), (3, 60, 120), (6, 150, 240), (12, 300, 450))
"""``(months, first day, last day)`` after surgery of each follow-up milestone's window."""

BASELINE_DAYS = 365
"""The baseline rating is at most this many days before surgery."""

DAYS_PER_MONTH = 30.44


def improvement(baseline: float, value: float) -> float | None:
    """The percentage improvement from ``baseline`` to ``value`` (higher scores are worse);
    None when the baseline is 0.

    Examples
    --------
    >>> improvement(40, 20), improvement(40, 50), improvement(0, 3)
    (50.0, -25.0, None)
    """
    if baseline == 0:
        return None
    return round((baseline - value) / baseline * 100, 1)


@dataclass(frozen=True, slots=True)
class Milestone:
    """A scale's scores at one point of the follow-up."""

    label: str
    months: int | None
    visit_id: int
    date: dt.date
    days_from_surgery: int
    scores: dict[str, float]
    improvement: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "months": self.months, "visit_id": self.visit_id, "date": self.date.isoformat(),
                "days_from_surgery": self.days_from_surgery, "scores": self.scores, "improvement": self.improvement}


@dataclass(frozen=True, slots=True)
class DbsFollowUp:
    """One system's follow-up on one scale."""

    implant: ImplantRecord
    scale: str
    baseline: Milestone | None
    milestones: tuple[Milestone, ...]
    settings: tuple[tuple[dt.date, StimulationRecord], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"implant": self.implant.to_json(), "scale": self.scale,
                "baseline": self.baseline.to_json() if self.baseline else None,
                "milestones": [m.to_json() for m in self.milestones],
                "settings": [{"date": d.isoformat(), **s.to_json()} for d, s in self.settings]}


def _ratings(record: PatientRecord, scale: str) -> list[tuple[int, dt.date, dict[str, float]]]:
    out = []
    for visit in record.visits:
        for rating in visit.scales:
            if rating.scale == scale:
                scores = {k: float(v) for k, v in (rating.scores.get("scores") or {}).items()}
                if scores:
                    out.append((visit.id, visit.date, scores))
    return out


def _milestones(implant: ImplantRecord, ratings: Sequence[tuple[int, dt.date, dict[str, float]]],
                baseline: Milestone | None) -> tuple[Milestone, ...]:
    out = []
    for months, first, last in MILESTONES:
        target = months * DAYS_PER_MONTH
        inside = [(abs((d - implant.surgery_date).days - target), vid, d, s) for vid, d, s in ratings
                  if first <= (d - implant.surgery_date).days <= last]
        if not inside:
            continue
        _, vid, day, scores = min(inside, key=lambda r: (r[0], r[2]))
        gained = {k: improvement(baseline.scores[k], v) for k, v in scores.items()
                  if baseline is not None and k in baseline.scores}
        out.append(Milestone(f"{months} month{'s' if months > 1 else ''}", months, vid, day,
                             (day - implant.surgery_date).days, scores, gained))
    return tuple(out)


def dbs_followup(record: PatientRecord) -> tuple[DbsFollowUp, ...]:
    """Every system's follow-up, one per scale rated around it (before or after surgery).

    Parameters
    ----------
    record : PatientRecord
        The patient, with visits (their scales and stimulation) and implants.

    Returns
    -------
    tuple of DbsFollowUp
        Per implant and scale: the baseline, the milestones reached, and the settings
        programmed on that system at each visit.
    """
    out = []
    scales = sorted({r.scale for v in record.visits for r in v.scales})
    for implant in record.implants:
        settings = tuple((v.date, s) for v in record.visits for s in v.stimulation if s.implant_id == implant.id)
        for scale in scales:
            ratings = _ratings(record, scale)
            before = [(vid, d, s) for vid, d, s in ratings
                      if 0 <= (implant.surgery_date - d).days <= BASELINE_DAYS]
            baseline = None
            if before:
                vid, day, scores = max(before, key=lambda r: (r[1], r[0]))
                baseline = Milestone("before surgery", None, vid, day, (day - implant.surgery_date).days, scores)
            milestones = _milestones(implant, ratings, baseline)
            if baseline is None and not milestones:
                continue
            out.append(DbsFollowUp(implant, scale, baseline, milestones, settings))
    return tuple(out)
