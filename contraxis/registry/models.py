"""The registry's tables, as SQLAlchemy 2 declarative classes (the schema at the newest migration).

::

    patients ──┬── identities (0..1)     identifying data, apart: name, birth date, record number
               ├── visits ──┬── assessments    each assessment of the visit's case, with the
               │            │                  knowledge-base version and HPO release
               │            ├── scale_scores   one rating scale's items and computed scores
               │            ├── toxin_injections  product, muscles with side and units, response
               │            └── dbs_settings   stimulation settings programmed at the visit
               └── dbs_implants                device, target, side, date of surgery
    audit_entries                              every read and write: who, what, which patient

A patient is known by a pseudonymous id (``pseudonym``) only; whatever identifies a person is
kept in ``identities``, which exports for research never read. A visit keeps the case as it
was read (canonical JSON, with its SHA-256, so that damage is seen) and the format it came in.
Constraints live in the database: foreign keys, closed sets as CHECKs, one scale of a kind per
visit. Every schema change is a migration in :mod:`contraxis.registry.migrations`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "AMPLITUDE_UNITS",
    "AUDIT_ACTIONS",
    "AssessmentRow",
    "AuditEntry",
    "Base",
    "DBS_SIDES",
    "DBS_TARGETS",
    "DbsImplant",
    "DbsSetting",
    "INPUT_FORMATS",
    "Identity",
    "Patient",
    "ScaleScore",
    "ToxinInjection",
    "Visit",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names, the same on every engine (migrations refer to them)."""

INPUT_FORMATS = ("native", "vignette", "fhir", "phenopacket")
DBS_TARGETS = ("GPi", "STN", "VIM", "other")
DBS_SIDES = ("left", "right", "bilateral")
AMPLITUDE_UNITS = ("mA", "V")
AUDIT_ACTIONS = ("create", "read", "update", "export", "import", "reassess")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """The registry's declarative base, with stable constraint names."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Patient(Base):
    """A patient of the registry, under a pseudonymous id."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    identity: Mapped[Identity | None] = relationship(back_populates="patient", cascade="all, delete-orphan")
    visits: Mapped[list[Visit]] = relationship(back_populates="patient", cascade="all, delete-orphan",
                                               order_by="(Visit.date, Visit.id)")
    implants: Mapped[list[DbsImplant]] = relationship(back_populates="patient", cascade="all, delete-orphan",
                                                      order_by="(DbsImplant.surgery_date, DbsImplant.id)")


class Identity(Base):
    """What identifies a person, kept apart from the clinical record (clinicians only)."""

    __tablename__ = "identities"

    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    identifier: Mapped[str | None] = mapped_column(String(100))
    identifier_system: Mapped[str | None] = mapped_column(String(200))

    patient: Mapped[Patient] = relationship(back_populates="identity")


class Visit(Base):
    """One visit: the case as read (canonical JSON) and the format it came in."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(_one_of("input_format", INPUT_FORMATS), name="input_format"),
        Index(None, "patient_id", "date"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(Date)
    input_format: Mapped[str] = mapped_column(String(20))
    case_json: Mapped[str] = mapped_column(Text)
    case_sha256: Mapped[str] = mapped_column(String(64))
    regions: Mapped[list[Any]] = mapped_column(JSON)
    not_read: Mapped[list[Any]] = mapped_column(JSON)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))

    patient: Mapped[Patient] = relationship(back_populates="visits")
    assessments: Mapped[list[AssessmentRow]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="AssessmentRow.id")
    scales: Mapped[list[ScaleScore]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                    order_by="ScaleScore.id")
    injections: Mapped[list[ToxinInjection]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                            order_by="ToxinInjection.id")
    stimulation: Mapped[list[DbsSetting]] = relationship(back_populates="visit", cascade="all, delete-orphan",
                                                         order_by="DbsSetting.id")


class AssessmentRow(Base):
    """One assessment of a visit's case: the whole answer (canonical JSON, zlib-compressed; its
    SHA-256 is of the JSON) and the fields the cohort counts."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    knowledge_base_version: Mapped[str] = mapped_column(String(40))
    hpo_release: Mapped[str] = mapped_column(String(40))
    assessed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    phenomenology: Mapped[str | None] = mapped_column(String(40))
    distribution: Mapped[str | None] = mapped_column(String(40))
    focal_type: Mapped[str | None] = mapped_column(String(40))
    etiology: Mapped[str | None] = mapped_column(String(40))
    body_zlib: Mapped[bytes] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))

    visit: Mapped[Visit] = relationship(back_populates="assessments")


class ScaleScore(Base):
    """A rating scale given at a visit: its item values and the scores computed from them."""

    __tablename__ = "scale_scores"
    __table_args__ = (UniqueConstraint("visit_id", "scale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    scale: Mapped[str] = mapped_column(String(40))
    items: Mapped[dict[str, Any]] = mapped_column(JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)

    visit: Mapped[Visit] = relationship(back_populates="scales")


class ToxinInjection(Base):
    """A botulinum toxin treatment at a visit: one product, its muscles, the response and the checks."""

    __tablename__ = "toxin_injections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(String(60))
    total_units: Mapped[float] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    warnings: Mapped[list[Any]] = mapped_column(JSON)

    visit: Mapped[Visit] = relationship(back_populates="injections")


class DbsImplant(Base):
    """A deep brain stimulation system: device, target and side, and the date of surgery."""

    __tablename__ = "dbs_implants"
    __table_args__ = (
        CheckConstraint(_one_of("target", DBS_TARGETS), name="target"),
        CheckConstraint(_one_of("side", DBS_SIDES), name="side"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    surgery_date: Mapped[dt.date] = mapped_column(Date)
    device: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(10))
    side: Mapped[str] = mapped_column(String(10))

    patient: Mapped[Patient] = relationship(back_populates="implants")


class DbsSetting(Base):
    """Stimulation settings of one side programmed at a visit."""

    __tablename__ = "dbs_settings"
    __table_args__ = (
        CheckConstraint(_one_of("side", ("left", "right")), name="side"),
        CheckConstraint(_one_of("amplitude_unit", AMPLITUDE_UNITS), name="amplitude_unit"),
        CheckConstraint("amplitude >= 0 AND pulse_width_us > 0 AND frequency_hz > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    implant_id: Mapped[int] = mapped_column(ForeignKey("dbs_implants.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(10))
    contacts: Mapped[str] = mapped_column(String(60))
    amplitude: Mapped[float] = mapped_column(Float)
    amplitude_unit: Mapped[str] = mapped_column(String(4))
    pulse_width_us: Mapped[float] = mapped_column(Float)
    frequency_hz: Mapped[float] = mapped_column(Float)

    visit: Mapped[Visit] = relationship(back_populates="stimulation")
    implant: Mapped[DbsImplant] = relationship()


class AuditEntry(Base):
    """One read or write of the registry: when, who (and in which role), what, which patient."""

    __tablename__ = "audit_entries"
    __table_args__ = (CheckConstraint(_one_of("action", AUDIT_ACTIONS), name="action"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    patient: Mapped[str | None] = mapped_column(String(64), index=True)
    what: Mapped[str] = mapped_column(String(200))
