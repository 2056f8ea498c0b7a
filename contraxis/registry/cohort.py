"""The cohort overview: patients, visits, distributions, scores, treatments, computed in the
database (a few aggregate queries, whatever the number of visits).

Every figure is counted over the newest assessment of each visit; "first" and "latest" are a
patient's first and newest visit by date. The follow-up of a patient is the days from the
first visit to the newest (:func:`~contraxis.registry.database.days_between`, the same
expression on SQLite and PostgreSQL).
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, extract, func, select

from .database import days_between
from .models import AssessmentRow, DbsImplant, Patient, ScaleScore, ToxinInjection, Visit

__all__ = ["CohortOverview", "overview"]


@dataclass(frozen=True, slots=True)
class CohortOverview:
    """The figures of a cohort overview (all counts are of patients unless named otherwise)."""

    patients: int
    visits: int
    visits_per_patient: dict[str, float]
    follow_up_days: dict[str, float]
    visits_per_year: dict[int, int]
    phenomenology: dict[str, int]
    distribution_first: dict[str, int]
    distribution_latest: dict[str, int]
    distribution_changes: dict[str, int]
    knowledge_base_versions: dict[str, int]
    scales: dict[str, dict[str, float]]
    toxin: dict[str, Any]
    dbs: dict[str, int]
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "patients": self.patients, "visits": self.visits, "visits_per_patient": self.visits_per_patient,
            "follow_up_days": self.follow_up_days,
            "visits_per_year": {str(k): v for k, v in sorted(self.visits_per_year.items())},
            "phenomenology": self.phenomenology, "distribution_first": self.distribution_first,
            "distribution_latest": self.distribution_latest, "distribution_changes": self.distribution_changes,
            "knowledge_base_versions": self.knowledge_base_versions, "scales": self.scales, "toxin": self.toxin,
            "dbs": self.dbs, "seconds": round(self.seconds, 3),
        }


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {"min": 0, "median": 0, "max": 0, "mean": 0}
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "mean": round(statistics.fmean(values), 2)}


def _counts(pairs: Any) -> dict[str, int]:
    return {str(k) if k is not None else "none": int(n) for k, n in sorted(pairs, key=lambda p: (-p[1], str(p[0])))}


def overview(engine: Engine) -> CohortOverview:
    """Compute the cohort overview.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The registry's database (SQLite or PostgreSQL).

    Returns
    -------
    CohortOverview
        Counts and spreads; ``seconds`` is the time the queries took.
    """
    start = time.perf_counter()
    newest = (select(AssessmentRow.visit_id, func.max(AssessmentRow.id).label("aid"))
              .group_by(AssessmentRow.visit_id).subquery())
    ranked = (
        select(Visit.patient_id, Visit.id.label("vid"), AssessmentRow.distribution, AssessmentRow.phenomenology,
               func.row_number().over(partition_by=Visit.patient_id, order_by=(Visit.date, Visit.id)).label("first"),
               func.row_number().over(partition_by=Visit.patient_id,
                                      order_by=(Visit.date.desc(), Visit.id.desc())).label("latest"))
        .join(newest, newest.c.visit_id == Visit.id).join(AssessmentRow, AssessmentRow.id == newest.c.aid)
    ).subquery()
    per_patient = (select(Visit.patient_id, func.count(Visit.id).label("n"),
                          days_between(func.max(Visit.date), func.min(Visit.date)).label("days"))
                   .group_by(Visit.patient_id))
    with engine.connect() as db:
        patients = db.scalar(select(func.count(Patient.id))) or 0
        visits = db.scalar(select(func.count(Visit.id))) or 0
        spans = db.execute(per_patient).all()
        year = extract("year", Visit.date)
        per_year = {int(y): int(n) for y, n in db.execute(select(year, func.count(Visit.id)).group_by(year)).all()}
        latest = db.execute(select(ranked.c.patient_id, ranked.c.distribution, ranked.c.phenomenology)
                            .where(ranked.c.latest == 1)).all()
        first = dict(db.execute(select(ranked.c.patient_id, ranked.c.distribution).where(ranked.c.first == 1)).all())
        versions = db.execute(select(AssessmentRow.knowledge_base_version, func.count(AssessmentRow.id))
                              .join(newest, newest.c.aid == AssessmentRow.id)
                              .group_by(AssessmentRow.knowledge_base_version)).all()
        scale_rows = db.execute(select(ScaleScore.scale, func.count(ScaleScore.id), func.avg(ScaleScore.total))
                                .group_by(ScaleScore.scale)).all()
        toxin_rows = db.execute(select(ToxinInjection.product, func.count(ToxinInjection.id),
                                       func.count(func.distinct(Visit.patient_id)))
                                .join(Visit, Visit.id == ToxinInjection.visit_id)
                                .group_by(ToxinInjection.product)).all()
        dbs_rows = db.execute(select(DbsImplant.target, func.count(func.distinct(DbsImplant.patient_id)))
                              .group_by(DbsImplant.target)).all()
    changes: Counter[str] = Counter()
    for patient_id, dist, _ in latest:
        before = first.get(patient_id)
        changes["unchanged" if before == dist else f"{before or 'none'} → {dist or 'none'}"] += 1
    return CohortOverview(
        patients=int(patients), visits=int(visits),
        visits_per_patient=_spread([float(n) for _, n, _ in spans]),
        follow_up_days=_spread([float(d or 0) for _, _, d in spans]),
        visits_per_year=per_year,
        phenomenology=_counts(Counter(p for _, _, p in latest).items()),
        distribution_first=_counts(Counter(first.values()).items()),
        distribution_latest=_counts(Counter(d for _, d, _ in latest).items()),
        distribution_changes=_counts(changes.items()),
        knowledge_base_versions=_counts(versions),
        scales={s: {"ratings": int(n), "mean_total": round(float(m), 2) if m is not None else None}  # type: ignore[dict-item]
                for s, n, m in scale_rows},
        toxin={"treatments": sum(int(n) for _, n, _ in toxin_rows),
               "products": {p: {"treatments": int(n), "patients": int(k)} for p, n, k in toxin_rows}},
        dbs={str(t): int(n) for t, n in dbs_rows},
        seconds=time.perf_counter() - start,
    )
