"""What the registry hands out: frozen records built from its rows, plain data for the course,
the exports and the pages (none of them touches the database).

A :class:`PatientRecord` holds a patient's visits in date order, each a :class:`VisitRecord`
with its case as read, its newest assessment (with the knowledge-base version and HPO
release), the scales given, the toxin injected and the stimulation programmed; the patient's
deep brain stimulation systems; and the identifying data only when a clinician asked for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Actor",
    "IdentityData",
    "ImplantRecord",
    "InjectionRecord",
    "PatientRecord",
    "Role",
    "ROLES",
    "ScaleRecord",
    "StimulationRecord",
    "VisitRecord",
]

Role = Literal["clinician", "researcher", "admin"]
ROLES: tuple[str, ...] = ("clinician", "researcher", "admin")
"""Who may do what: a ``clinician`` sees and edits patients (names included); a ``researcher``
gets pseudonymous exports and the cohort overview only; an ``admin`` reads the audit."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is reading or writing, as the audit records them.

    Attributes
    ----------
    name : str
        The user, API key or operating-system account.
    role : str
        One of :data:`ROLES`.
    """

    name: str
    role: Role = "clinician"


@dataclass(frozen=True, slots=True)
class IdentityData:
    """What identifies a person; kept in its own table, read by clinicians only."""

    name: str | None = None
    birth_date: dt.date | None = None
    identifier: str | None = None
    identifier_system: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "birth_date": self.birth_date.isoformat() if self.birth_date else None,
                "identifier": self.identifier, "identifier_system": self.identifier_system}


@dataclass(frozen=True, slots=True)
class ScaleRecord:
    """One rating scale at a visit: item values as entered, the scores computed from them."""

    id: int
    scale: str
    items: dict[str, Any]
    scores: dict[str, Any]
    total: float | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "scale": self.scale, "items": self.items, "scores": self.scores, "total": self.total}


@dataclass(frozen=True, slots=True)
class InjectionRecord:
    """A botulinum toxin treatment at a visit, with the label checks' warnings made at entry."""

    id: int
    product: str
    total_units: float
    detail: dict[str, Any]
    warnings: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "product": self.product, "total_units": self.total_units, **self.detail,
                "warnings": list(self.warnings)}


@dataclass(frozen=True, slots=True)
class StimulationRecord:
    """The stimulation of one side programmed at a visit."""

    id: int
    implant_id: int
    side: str
    contacts: str
    amplitude: float
    amplitude_unit: str
    pulse_width_us: float
    frequency_hz: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "implant_id": self.implant_id, "side": self.side, "contacts": self.contacts,
                "amplitude": self.amplitude, "amplitude_unit": self.amplitude_unit,
                "pulse_width_us": self.pulse_width_us, "frequency_hz": self.frequency_hz}


@dataclass(frozen=True, slots=True)
class ImplantRecord:
    """A deep brain stimulation system: device, target (GPi, STN...), side, date of surgery."""

    id: int
    surgery_date: dt.date
    device: str
    target: str
    side: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "surgery_date": self.surgery_date.isoformat(), "device": self.device,
                "target": self.target, "side": self.side}


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """One visit as stored.

    Attributes
    ----------
    id, number : int
        The visit's id in the registry, and its place among the patient's visits (1: first).
    date : datetime.date
        The visit's date.
    input_format : str
        What the case was read from: ``native``, ``vignette``, ``fhir``, ``phenopacket``.
    case : dict
        The native case as read (JSON data).
    not_read : list of dict
        What the reader did not use or changed (``path``, ``value``, ``reason``).
    assessment : dict
        The newest assessment of the case (:meth:`Assessment.to_json` data).
    knowledge_base_version, hpo_release : str
        Of that assessment.
    assessments : int
        How many times the visit was assessed (1, and one more per saved re-assessment).
    intact : bool
        Whether the case and the assessment still match the SHA-256 written with them.
    """

    id: int
    number: int
    date: dt.date
    input_format: str
    case: dict[str, Any]
    not_read: list[dict[str, Any]]
    assessment: dict[str, Any]
    knowledge_base_version: str
    hpo_release: str
    assessed_at: dt.datetime
    recorded_by: str
    assessments: int = 1
    intact: bool = True
    scales: tuple[ScaleRecord, ...] = ()
    injections: tuple[InjectionRecord, ...] = ()
    stimulation: tuple[StimulationRecord, ...] = ()

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(self.case.get("regions") or ())

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self.assessment.get("summary") or {})

    def to_json(self, *, assessment: bool = True) -> dict[str, Any]:
        """JSON-ready data (the whole assessment unless ``assessment`` is false)."""
        data: dict[str, Any] = {
            "id": self.id, "number": self.number, "date": self.date.isoformat(), "input_format": self.input_format,
            "case": self.case, "not_read": self.not_read, "knowledge_base_version": self.knowledge_base_version,
            "hpo_release": self.hpo_release, "assessed_at": self.assessed_at.isoformat(),
            "assessments": self.assessments, "intact": self.intact, "summary": self.summary,
            "scales": [s.to_json() for s in self.scales], "injections": [i.to_json() for i in self.injections],
            "stimulation": [s.to_json() for s in self.stimulation],
        }
        if assessment:
            data["assessment"] = self.assessment
        return data


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """Everything the registry holds on one patient (identity only when a clinician asked)."""

    pseudonym: str
    created_at: dt.datetime
    visits: tuple[VisitRecord, ...] = ()
    implants: tuple[ImplantRecord, ...] = ()
    identity: IdentityData | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def visit(self, visit_id: int) -> VisitRecord | None:
        return next((v for v in self.visits if v.id == visit_id), None)
