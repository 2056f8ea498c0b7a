"""The registry's store: patients, visits and their assessments, scales, toxin and stimulation,
on SQLite or PostgreSQL, each read and write checked against the role of whoever asks and
recorded in the audit table.

>>> registry = Registry.init("sqlite:///clinic.sqlite")             # doctest: +SKIP
>>> visit = registry.add_visit("P-0001", open("case.yaml").read(), date=dt.date(2024, 3, 1))  # doctest: +SKIP
>>> [e.summary for e in registry.course("P-0001")]                    # doctest: +SKIP
['spread to the right arm', 'focal → segmental']

A visit takes any input the assessment accepts (a native case, a vignette, a FHIR R4 Bundle or
resource, a GA4GH phenopacket v2), read through :func:`contraxis.io.detect.read_input` as of
the visit's date; the native case read is stored (canonical JSON with its SHA-256) with what
was not read, and assessed by :func:`contraxis.engine.assess`; the assessment is stored with
the knowledge-base version and HPO release that made it. Each write is one transaction: when
a method returns, what it wrote is on disk (SQLite: ``synchronous=FULL``), with its audit row.

Roles (:data:`~contraxis.registry.records.ROLES`): a clinician reads and writes; a researcher
gets pseudonymous exports and the cohort overview; an admin reads the audit. Anything else is
refused with :class:`~contraxis.registry.errors.AccessDenied`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import re
import secrets
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ..errors import CaseError, Problem
from ..reading import NotRead, Reading, excerpt
from .changes import AssessmentChange, compare_assessments
from .course import CourseEvent, course_events, visit_state
from .database import default_url, make_engine
from .errors import AccessDenied, NotFound, RegistryError
from .models import (
    AMPLITUDE_UNITS,
    DBS_SIDES,
    DBS_TARGETS,
    AssessmentRow,
    AuditEntry,
    DbsImplant,
    DbsSetting,
    Identity,
    Patient,
    ScaleScore,
    ToxinInjection,
    Visit,
)
from .records import (
    ROLES,
    Actor,
    IdentityData,
    ImplantRecord,
    InjectionRecord,
    PatientRecord,
    ScaleRecord,
    StimulationRecord,
    VisitRecord,
)
from .schema import require_head, upgrade

if TYPE_CHECKING:  # pragma: no cover
    from ..case import Case
    from ..knowledge import KnowledgeBase

__all__ = ["NewVisit", "Reassessment", "Registry", "canonical_json", "local_actor"]

PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
"""A pseudonymous id: letters, digits, ``.``, ``_``, ``-``; at most 64 characters."""

PERMISSIONS: Mapping[str, frozenset[str]] = {
    "clinician": frozenset({"read", "write", "export", "export-identified", "cohort"}),
    "researcher": frozenset({"export", "cohort"}),
    "admin": frozenset({"audit"}),
}
"""What each role may do."""

_NEEDS = {
    "read": "a clinician", "write": "a clinician", "export-identified": "a clinician",
    "export": "a clinician or a researcher", "cohort": "a clinician or a researcher", "audit": "an admin",
}


def local_actor(role: str = "clinician") -> Actor:
    """The operating-system user, in ``role`` (the command line's actor)."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user name in this environment
        name = "local"
    return Actor(f"local:{name}", role)  # type: ignore[arg-type]


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same text (and hash)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is refused later, by make_engine
        return excerpt(url, 80)


@dataclass(frozen=True, slots=True)
class NewVisit:
    """A visit to add in bulk (:meth:`Registry.add_visits`): the patient, the date, the input."""

    patient: str
    date: dt.date
    data: Any
    source: str = "input"


@dataclass(frozen=True, slots=True)
class Reassessment:
    """A visit assessed again with the knowledge base in use now, and what changed."""

    visit_id: int
    date: dt.date
    change: AssessmentChange
    assessment: dict[str, Any]
    saved: bool

    def to_json(self) -> dict[str, Any]:
        return {"visit_id": self.visit_id, "date": self.date.isoformat(), "saved": self.saved,
                **self.change.to_json()}


def _check_pseudonym(pseudonym: str) -> str:
    if not isinstance(pseudonym, str) or not PSEUDONYM.fullmatch(pseudonym):
        raise RegistryError([Problem("patient", (
            f"{excerpt(pseudonym, 40)!r} is not a pseudonymous id (allowed: 1 to 64 letters, digits, '.', '_', '-', "
            "starting with a letter or digit; never a name or a record number)"))])
    return pseudonym


def _check_date(value: Any, *, where: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            problem = Problem(where, f"{excerpt(value, 30)!r} is not a date (allowed: YYYY-MM-DD)")
            raise RegistryError([problem]) from None
    if not isinstance(value, dt.date):
        raise RegistryError([Problem(where, f"{excerpt(value, 30)} is not a date (allowed: YYYY-MM-DD)")])
    if value > dt.date.today() + dt.timedelta(days=1):
        raise RegistryError([Problem(where, f"{value.isoformat()} is in the future")])
    if value.year < 1900:
        raise RegistryError([Problem(where, f"{value.isoformat()} is before 1900")])
    return value


def stored_case(reading: Reading, *, visit_date: dt.date) -> tuple[dict[str, Any], list[NotRead]]:
    """The case of a reading as the registry keeps it, and what that changed.

    The case's own ``id`` is not kept (the registry names the patient by its pseudonymous
    id: an id from the input may identify the person); a laboratory result dated is kept
    as ``days_ago`` counted to the visit's date, so that a re-assessment years later reads
    it as it was at the visit.

    Raises
    ------
    RegistryError
        When a result is dated after the visit.
    """
    case = reading.case.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    notes: list[NotRead] = []
    if case.pop("id", None) is not None:
        notes.append(NotRead.of("case.id", reading.case.id, "not kept: the registry names the patient by its "
                                                               "pseudonymous id"))
    problems = []
    for i, lab in enumerate(case.get("labs") or ()):
        if "date" in lab:
            taken = dt.date.fromisoformat(lab.pop("date"))
            days = (visit_date - taken).days
            if days < 0:
                problems.append(Problem(f"case.labs[{i}].date", (
                    f"{taken.isoformat()} is after the visit's date {visit_date.isoformat()}")))
                continue
            lab["days_ago"] = days
            notes.append(NotRead.of(f"case.labs[{i}].date", taken.isoformat(),
                                    f"kept as days_ago: {days} (counted to the visit's date)"))
    if problems:
        raise RegistryError(problems)
    return case, notes


class Registry:
    """The registry on one database, acting for one :class:`~contraxis.registry.records.Actor`.

    Parameters
    ----------
    url : str, optional
        ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB``; the default SQLite file in
        the user's data folder when omitted (:func:`~contraxis.registry.database.default_url`).
    actor : Actor, optional
        Who reads and writes (audited); the operating-system user as a clinician by default.
    kb : KnowledgeBase, optional
        The knowledge base visits are assessed with; the bundled one by default.
    engine : sqlalchemy.Engine, optional
        An engine already open on ``url`` (shared by :meth:`as_actor`).

    Raises
    ------
    SchemaError
        When the database holds no registry or an older schema (:meth:`init` upgrades it).
    """

    def __init__(self, url: str | None = None, *, actor: Actor | None = None, kb: KnowledgeBase | None = None,
                 engine: Engine | None = None, check: bool = True) -> None:
        self.url = url or default_url()
        self.engine = engine or make_engine(self.url)
        self.actor = actor or local_actor()
        if self.actor.role not in ROLES:
            raise RegistryError([Problem("role", f"{excerpt(self.actor.role, 30)!r} is not a role (allowed: "
                                                 f"{', '.join(ROLES)})")])
        self._kb = kb
        if check:
            require_head(self.engine, url=_shown_url(self.url))

    @classmethod
    def init(cls, url: str | None = None, **options: Any) -> Registry:
        """Create the registry's tables, or upgrade them to the newest schema, and open it."""
        engine = make_engine(url or default_url())
        upgrade(engine)
        return cls(url, engine=engine, **options)

    def as_actor(self, actor: Actor) -> Registry:
        """The same registry (same engine and knowledge base), acting for ``actor``."""
        return Registry(self.url, actor=actor, kb=self._kb, engine=self.engine, check=False)

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base visits are assessed with (loaded on first use)."""
        if self._kb is None:
            from ..knowledge import load_knowledge_base

            self._kb = load_knowledge_base()
        return self._kb

    # --- access and audit ------------------------------------------------------------------

    def _allow(self, permission: str) -> None:
        if permission not in PERMISSIONS.get(self.actor.role, frozenset()):
            raise AccessDenied([Problem("role", (
                f"{self.actor.name[:60]!r} acts as {self.actor.role}; this needs {_NEEDS[permission]}"))])

    def _audit(self, session: Session, action: str, what: str, patient: str | None = None) -> None:
        session.add(AuditEntry(at=_now(), actor=self.actor.name[:200], role=self.actor.role, action=action,
                               patient=patient, what=what[:200]))

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """One transaction: committed (and on disk) when the block ends without an error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _patient(self, session: Session, pseudonym: str, *, create: bool = False) -> Patient:
        _check_pseudonym(pseudonym)
        patient = session.scalars(select(Patient).where(Patient.pseudonym == pseudonym)).one_or_none()
        if patient is None:
            if not create:
                raise NotFound([Problem("patient", f"{pseudonym!r} is not a patient of this registry")])
            patient = Patient(pseudonym=pseudonym, created_at=_now())
            session.add(patient)
            session.flush()
            self._audit(session, "create", "patient", pseudonym)
        return patient

    # --- patients --------------------------------------------------------------------------

    def add_patient(self, pseudonym: str | None = None, *, identity: IdentityData | None = None) -> str:
        """Add a patient; return its pseudonymous id (a new random one, ``P-`` and 12 hex
        digits, when none is given).

        Raises
        ------
        RegistryError
            When the id is not a pseudonymous id or is taken.
        """
        self._allow("write")
        pseudonym = pseudonym or f"P-{secrets.token_hex(6)}"
        _check_pseudonym(pseudonym)
        try:
            with self._write() as session:
                if session.scalars(select(Patient.id).where(Patient.pseudonym == pseudonym)).first() is not None:
                    raise RegistryError([Problem("patient", f"{pseudonym!r} is already a patient of this registry")])
                patient = self._patient(session, pseudonym, create=True)
                if identity is not None:
                    session.add(Identity(patient_id=patient.id, **_identity_fields(identity)))
                    self._audit(session, "create", "identity", pseudonym)
        except IntegrityError:
            raise RegistryError([Problem("patient", f"{pseudonym!r} is already a patient of this registry")]) from None
        return pseudonym

    def has_patient(self, pseudonym: str) -> bool:
        """Whether the registry has a patient of that pseudonymous id (clinicians)."""
        self._allow("read")
        _check_pseudonym(pseudonym)
        with Session(self.engine) as session:
            return session.scalars(select(Patient.id).where(Patient.pseudonym == pseudonym)).first() is not None

    def set_identity(self, pseudonym: str, identity: IdentityData) -> None:
        """Keep (or replace) what identifies a patient, in its own table."""
        self._allow("write")
        with self._write() as session:
            patient = self._patient(session, pseudonym)
            row = session.get(Identity, patient.id)
            if row is None:
                session.add(Identity(patient_id=patient.id, **_identity_fields(identity)))
            else:
                for key, value in _identity_fields(identity).items():
                    setattr(row, key, value)
            self._audit(session, "update", "identity", pseudonym)

    def identity(self, pseudonym: str) -> IdentityData | None:
        """What identifies a patient (clinicians only; the read is audited)."""
        self._allow("read")
        with self._write() as session:
            patient = self._patient(session, pseudonym)
            row = session.get(Identity, patient.id)
            self._audit(session, "read", "identity", pseudonym)
            return _identity_of(row)

    def patients(self) -> list[dict[str, Any]]:
        """Every patient: pseudonymous id, visits, first and last visit date (clinicians)."""
        self._allow("read")
        with self._write() as session:
            rows = session.execute(
                select(Patient.pseudonym, func.count(Visit.id), func.min(Visit.date), func.max(Visit.date))
                .outerjoin(Visit, Visit.patient_id == Patient.id).group_by(Patient.id, Patient.pseudonym)
                .order_by(Patient.pseudonym)
            ).all()
            self._audit(session, "read", "patient list")
        return [{"patient": p, "visits": n, "first": a.isoformat() if a else None, "last": b.isoformat() if b else None}
                for p, n, a, b in rows]

    # --- visits ----------------------------------------------------------------------------

    def read_visit_input(self, data: Any, *, date: dt.date, source: str = "input") -> Reading:
        """Read one input of any accepted format as of the visit's date (ages and drug days count to it)."""
        from ..io.detect import read_input

        return read_input(data, source=source, today=date)

    def _assess(self, case: dict[str, Any] | Case, not_read: Sequence[NotRead]) -> dict[str, Any]:
        from ..case import read_case
        from ..engine import assess

        if isinstance(case, dict):
            case = read_case(case, source="registry")
        return assess(case, kb=self.kb, not_read=not_read).to_json()

    def _new_visit(self, session: Session, patient: Patient, reading: Reading, *, date: dt.date,
                   flush: bool = True) -> Visit:
        case, notes = stored_case(reading, visit_date=date)
        not_read = [*reading.not_read, *notes]
        relabelled = any(n.path.startswith("case.labs") for n in notes)
        # The case assessed is the case stored: read again from it when a lab's date became days_ago.
        assessment = self._assess(case if relabelled else reading.case.model_copy(update={"id": None}), not_read)
        case_text = canonical_json(case)
        visit = Visit(patient=patient, date=date, input_format=reading.format, case_json=case_text,
                      case_sha256=_sha256(case_text), regions=list(case.get("regions") or ()),
                      not_read=[n.to_json() for n in not_read], recorded_at=_now(), recorded_by=self.actor.name[:200])
        visit.assessments.append(_assessment_row(None, assessment))
        session.add(visit)
        if flush:
            session.flush()
        named = f"visit {visit.id} of {date.isoformat()}" if flush else f"visit of {date.isoformat()}"
        self._audit(session, "create", named, patient.pseudonym)
        return visit

    def add_visit(self, pseudonym: str, data: Any, *, date: dt.date | str, source: str = "input",
                  create: bool = True) -> VisitRecord:
        """Add a visit: read the input, assess its case, store both (one transaction).

        Parameters
        ----------
        pseudonym : str
            The patient (added when new, unless ``create`` is false).
        data : bytes, str, mapping or Reading
            Any input the assessment accepts: raw text or bytes (JSON or YAML), parsed data, or
            a :class:`~contraxis.reading.Reading` already made.
        date : datetime.date or str
            The visit's date (``YYYY-MM-DD``); ages and days in a FHIR Bundle or phenopacket
            are counted to it.
        source : str
            Names the input in error messages.

        Returns
        -------
        VisitRecord
            The visit as stored, with its assessment; written to disk when this returns.

        Raises
        ------
        CaseError
            When the input cannot be read (every problem named), or the patient or date is wrong.
        AccessDenied
            When the actor is not a clinician.
        """
        self._allow("write")
        date = _check_date(date)
        _check_pseudonym(pseudonym)
        reading = data if isinstance(data, Reading) else self.read_visit_input(data, date=date, source=source)
        with self._write() as session:
            patient = self._patient(session, pseudonym, create=create)
            visit = self._new_visit(session, patient, reading, date=date)
            visit_id = visit.id
        return self._visit_record(pseudonym, visit_id)

    def add_visits(self, visits: Iterable[NewVisit], *, batch: int = 500,
                   progress: Callable[[int], None] | None = None) -> int:
        """Add many visits, ``batch`` per transaction (an import, a benchmark); return how many.

        Every input is read and assessed before its batch is written; a batch is written
        whole or not at all. Inputs that cannot be read stop the import with the error of the
        first, naming its source; the batches before it stay written.
        """
        self._allow("write")
        done = 0
        pending: list[tuple[NewVisit, Reading]] = []

        def flush() -> None:
            nonlocal done
            if not pending:
                return
            with self._write() as session:
                known: dict[str, Patient] = {}
                for item, reading in pending:
                    patient = known.get(item.patient) or self._patient(session, item.patient, create=True)
                    known[item.patient] = patient
                    self._new_visit(session, patient, reading, date=item.date, flush=False)
            done += len(pending)
            pending.clear()
            if progress is not None:
                progress(done)

        for item in visits:
            date = _check_date(item.date)
            _check_pseudonym(item.patient)
            reading = item.data if isinstance(item.data, Reading) else self.read_visit_input(
                item.data, date=date, source=item.source)
            pending.append((NewVisit(item.patient, date, item.data, item.source), reading))
            if len(pending) >= batch:
                flush()
        flush()
        return done

    def _visit_rows(self, session: Session, patient: Patient) -> list[Visit]:
        return list(session.scalars(
            select(Visit).where(Visit.patient_id == patient.id).order_by(Visit.date, Visit.id)
            .options(selectinload(Visit.assessments), selectinload(Visit.scales), selectinload(Visit.injections),
                     selectinload(Visit.stimulation))
        ))

    def _visit_record(self, pseudonym: str, visit_id: int) -> VisitRecord:
        with Session(self.engine) as session:
            patient = self._patient(session, pseudonym)
            rows = self._visit_rows(session, patient)
            for number, row in enumerate(rows, 1):
                if row.id == visit_id:
                    return _visit_of(row, number)
        raise NotFound([Problem("visit", f"{visit_id} is not a visit of {pseudonym!r}")])  # pragma: no cover

    def visits(self, pseudonym: str) -> tuple[VisitRecord, ...]:
        """A patient's visits in date order, each with its newest assessment (clinicians)."""
        return self.record(pseudonym).visits

    def record(self, pseudonym: str, *, identified: bool = False, audit: str = "record") -> PatientRecord:
        """Everything on a patient: visits (with scales, injections, stimulation), implants,
        and the identity when ``identified`` (clinicians only; the read is audited)."""
        self._allow("read")
        return self._record(pseudonym, identified=identified, action="read", what=audit)

    def _record(self, pseudonym: str, *, identified: bool, action: str, what: str) -> PatientRecord:
        with self._write() as session:
            patient = self._patient(session, pseudonym)
            rows = self._visit_rows(session, patient)
            implants = session.scalars(select(DbsImplant).where(DbsImplant.patient_id == patient.id)
                                       .order_by(DbsImplant.surgery_date, DbsImplant.id)).all()
            identity = _identity_of(session.get(Identity, patient.id)) if identified else None
            self._audit(session, action, what + (" with identity" if identified else ""), pseudonym)
            return PatientRecord(
                pseudonym=patient.pseudonym, created_at=patient.created_at,
                visits=tuple(_visit_of(row, n) for n, row in enumerate(rows, 1)),
                implants=tuple(_implant_of(i) for i in implants), identity=identity,
            )

    def _visit_row(self, session: Session, pseudonym: str, visit_id: int) -> Visit:
        patient = self._patient(session, pseudonym)
        visit = session.get(Visit, visit_id)
        if visit is None or visit.patient_id != patient.id:
            raise NotFound([Problem("visit", f"{visit_id} is not a visit of {pseudonym!r}")])
        return visit

    # --- re-assessment and course ----------------------------------------------------------

    def reassess(self, pseudonym: str, visit_id: int | None = None, *, save: bool = False) -> list[Reassessment]:
        """Assess a visit's stored case again with the knowledge base in use now (every visit
        when ``visit_id`` is omitted) and say what changed; ``save`` keeps the new assessment
        as the visit's newest."""
        self._allow("write" if save else "read")
        out = []
        with self._write() as session:
            patient = self._patient(session, pseudonym)
            rows = [self._visit_row(session, pseudonym, visit_id)] if visit_id is not None else \
                self._visit_rows(session, patient)
            for row in rows:
                old = _body(row.assessments[-1])
                not_read = [NotRead(n["path"], n["value"], n["reason"]) for n in row.not_read]
                new = self._assess(json.loads(row.case_json), not_read)
                if save:
                    session.add(_assessment_row(row.id, new))
                out.append(Reassessment(row.id, row.date, compare_assessments(old, new), new, save))
                self._audit(session, "reassess" if save else "read", f"re-assessment of visit {row.id}", pseudonym)
        return out

    def course(self, pseudonym: str) -> tuple[CourseEvent, ...]:
        """The spread, distribution changes and new secondary features over a patient's visits."""
        return self.course_of(self.record(pseudonym, audit="course"))

    def course_of(self, record: PatientRecord) -> tuple[CourseEvent, ...]:
        """:func:`~contraxis.registry.course.course_events` of a record, with this knowledge base's regions."""
        from .course import sign_codes

        signs = sign_codes(self.kb)
        states = [visit_state(v.id, v.date, v.case, v.assessment, kb=self.kb, signs=signs) for v in record.visits]
        return course_events(states, layout=self.kb.regions, source=self.kb.regions.source)

    # --- scales, toxin, stimulation --------------------------------------------------------

    def add_scale(self, pseudonym: str, visit_id: int, scale: str, items: Mapping[str, Any]) -> ScaleRecord:
        """Score a rating scale's items (:mod:`contraxis.registry.scales`) and keep them with the visit.

        Raises
        ------
        CaseError
            When the scale is unknown or an item is missing or out of range (every one named).
        """
        self._allow("write")
        scores, total = _score(scale, items)
        with self._write() as session:
            visit = self._visit_row(session, pseudonym, visit_id)
            if any(s.scale == scale for s in visit.scales):
                raise RegistryError([Problem("scale", f"{scale!r} is already scored at visit {visit_id}")])
            row = ScaleScore(visit_id=visit.id, scale=scale, items=dict(items), scores=scores, total=total)
            session.add(row)
            session.flush()
            self._audit(session, "create", f"scale {scale} at visit {visit_id}", pseudonym)
            return ScaleRecord(row.id, row.scale, row.items, row.scores, row.total)

    def add_injection(self, pseudonym: str, visit_id: int, injection: Mapping[str, Any]) -> InjectionRecord:
        """Keep a botulinum toxin treatment with a visit, checked against the product's label
        (:mod:`contraxis.registry.toxin`) with the treatments before it (of the same date too:
        one session); the warnings are kept and returned (a warning does not refuse the entry:
        it records what the label says). See :func:`_check_injection` for the fields."""
        self._allow("write")
        with self._write() as session:
            visit = self._visit_row(session, pseudonym, visit_id)
            earlier = [
                {k: d[k] for k in ("product", "date", "indication", "guidance", "muscles") if d.get(k) is not None}
                for d in session.scalars(
                    select(ToxinInjection.detail).join(Visit, Visit.id == ToxinInjection.visit_id)
                    .where(Visit.patient_id == visit.patient_id, Visit.date <= visit.date)
                    .order_by(Visit.date, ToxinInjection.id))
            ]
            product, total, detail, warnings = _check_injection(injection, visit.date, earlier)
            row = ToxinInjection(visit_id=visit.id, product=product, total_units=total, detail=detail,
                                 warnings=warnings)
            session.add(row)
            session.flush()
            self._audit(session, "create", f"toxin injection at visit {visit_id}", pseudonym)
            return InjectionRecord(row.id, product, total, detail, tuple(warnings))

    def add_implant(self, pseudonym: str, *, surgery_date: dt.date | str, device: str, target: str,
                    side: str) -> ImplantRecord:
        """Keep a deep brain stimulation system: device, target (GPi, STN, VIM, other), side
        (left, right, bilateral) and the date of surgery."""
        self._allow("write")
        surgery = _check_date(surgery_date, where="surgery_date")
        problems = []
        if target not in DBS_TARGETS:
            problems.append(Problem("target", f"{excerpt(target, 30)!r} is not one of {', '.join(DBS_TARGETS)}"))
        if side not in DBS_SIDES:
            problems.append(Problem("side", f"{excerpt(side, 30)!r} is not one of {', '.join(DBS_SIDES)}"))
        if not isinstance(device, str) or not device.strip() or len(device) > 200:
            problems.append(Problem("device", "must name the device (1 to 200 characters)"))
        if problems:
            raise RegistryError(problems)
        with self._write() as session:
            patient = self._patient(session, pseudonym)
            row = DbsImplant(patient_id=patient.id, surgery_date=surgery, device=device.strip(), target=target,
                             side=side)
            session.add(row)
            session.flush()
            self._audit(session, "create", f"DBS implant {row.id}", pseudonym)
            return _implant_of(row)

    def add_stimulation(self, pseudonym: str, visit_id: int, *, implant_id: int, side: str, contacts: str,
                        amplitude: float, amplitude_unit: str, pulse_width_us: float,
                        frequency_hz: float) -> StimulationRecord:
        """Keep the stimulation settings of one side programmed at a visit."""
        self._allow("write")
        problems = _stimulation_problems(side, contacts, amplitude, amplitude_unit, pulse_width_us, frequency_hz)
        if problems:
            raise RegistryError(problems)
        with self._write() as session:
            visit = self._visit_row(session, pseudonym, visit_id)
            implant = session.get(DbsImplant, implant_id)
            if implant is None or implant.patient_id != visit.patient_id:
                raise NotFound([Problem("implant_id", f"{implant_id} is not an implant of {pseudonym!r}")])
            if implant.side not in (side, "bilateral"):
                raise RegistryError([Problem("side", f"{side!r}: implant {implant_id} is {implant.side}")])
            if visit.date < implant.surgery_date:
                raise RegistryError([Problem("visit", (
                    f"visit {visit_id} ({visit.date.isoformat()}) is before the surgery "
                    f"({implant.surgery_date.isoformat()})"))])
            row = DbsSetting(visit_id=visit.id, implant_id=implant.id, side=side, contacts=contacts.strip(),
                             amplitude=float(amplitude), amplitude_unit=amplitude_unit,
                             pulse_width_us=float(pulse_width_us), frequency_hz=float(frequency_hz))
            session.add(row)
            session.flush()
            self._audit(session, "create", f"DBS settings at visit {visit_id}", pseudonym)
            return _stimulation_of(row)

    # --- cohort, exports, audit ------------------------------------------------------------

    def cohort(self) -> Any:
        """The cohort overview (:func:`contraxis.registry.cohort.overview`): clinicians and researchers."""
        from .cohort import overview

        self._allow("cohort")
        result = overview(self.engine)
        with self._write() as session:
            self._audit(session, "read", "cohort overview")
        return result

    def export(self, pseudonym: str, fmt: str, *, identified: bool = False) -> dict[str, Any]:
        """A patient as a GA4GH phenopacket v2 (``phenopacket``), a FHIR R4 Bundle (``fhir``) or
        the registry's own JSON (``json``, which :meth:`import_records` reads back).

        Pseudonymous unless ``identified`` (clinicians only): a researcher's export holds the
        pseudonymous id and the clinical record, never the identity table.
        """
        from .export import FORMATS, export_record

        if fmt not in FORMATS:
            raise RegistryError([Problem("format", f"{excerpt(fmt, 30)!r} is not one of {', '.join(FORMATS)}")])
        self._allow("export-identified" if identified else "export")
        record = self._record(pseudonym, identified=identified, action="export", what=f"export {fmt}")
        events = self.course_of(record)
        return export_record(record, fmt, events=events, kb=self.kb)

    def audit_entries(self, *, patient: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest audit rows, newest last (admins)."""
        self._allow("audit")
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(max(1, min(limit, 10_000)))
        if patient is not None:
            query = query.where(AuditEntry.patient == patient)
        with Session(self.engine) as session:
            rows = session.scalars(query).all()
            return [{"at": r.at.isoformat(), "actor": r.actor, "role": r.role, "action": r.action,
                     "patient": r.patient, "what": r.what} for r in reversed(rows)]


# --- rows to records ---------------------------------------------------------------------------


def _identity_fields(identity: IdentityData) -> dict[str, Any]:
    return {"name": identity.name, "birth_date": identity.birth_date, "identifier": identity.identifier,
            "identifier_system": identity.identifier_system}


def _identity_of(row: Identity | None) -> IdentityData | None:
    if row is None:
        return None
    return IdentityData(row.name, row.birth_date, row.identifier, row.identifier_system)


def _body(row: AssessmentRow) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(_body_text(row))
    return body


def _body_text(row: AssessmentRow) -> str:
    return zlib.decompress(row.body_zlib).decode()


def _assessment_row(visit_id: int | None, assessment: dict[str, Any]) -> AssessmentRow:
    text = canonical_json(assessment)
    summary = assessment.get("summary") or {}
    return AssessmentRow(
        **({"visit_id": visit_id} if visit_id is not None else {}),
        knowledge_base_version=str(assessment["knowledge_base_version"]),
        hpo_release=str(assessment["hpo_release"]), assessed_at=_now(), phenomenology=summary.get("phenomenology"),
        distribution=summary.get("distribution"), focal_type=summary.get("focal_type"),
        etiology=summary.get("etiology"), body_zlib=zlib.compress(text.encode(), 6), body_sha256=_sha256(text),
    )


def _visit_of(row: Visit, number: int) -> VisitRecord:
    newest = row.assessments[-1]
    try:
        body = _body_text(newest)
    except (zlib.error, UnicodeDecodeError):
        body = "{}"
    intact = _sha256(row.case_json) == row.case_sha256 and _sha256(body) == newest.body_sha256
    return VisitRecord(
        id=row.id, number=number, date=row.date, input_format=row.input_format, case=json.loads(row.case_json),
        not_read=list(row.not_read), assessment=json.loads(body),
        knowledge_base_version=newest.knowledge_base_version, hpo_release=newest.hpo_release,
        assessed_at=newest.assessed_at, recorded_by=row.recorded_by, assessments=len(row.assessments), intact=intact,
        scales=tuple(ScaleRecord(s.id, s.scale, dict(s.items), dict(s.scores), s.total) for s in row.scales),
        injections=tuple(InjectionRecord(i.id, i.product, i.total_units, dict(i.detail), tuple(i.warnings))
                         for i in row.injections),
        stimulation=tuple(_stimulation_of(s) for s in row.stimulation),
    )


def _implant_of(row: DbsImplant) -> ImplantRecord:
    return ImplantRecord(row.id, row.surgery_date, row.device, row.target, row.side)


def _stimulation_of(row: DbsSetting) -> StimulationRecord:
    return StimulationRecord(row.id, row.implant_id, row.side, row.contacts, row.amplitude, row.amplitude_unit,
                             row.pulse_width_us, row.frequency_hz)


def _stimulation_problems(side: str, contacts: str, amplitude: Any, unit: str, pulse_width: Any,
                          frequency: Any) -> list[Problem]:
    problems = []
    if side not in ("left", "right"):
        problems.append(Problem("side", f"{excerpt(side, 20)!r} is not one of left, right"))
    if not isinstance(contacts, str) or not contacts.strip() or len(contacts) > 60:
        problems.append(Problem("contacts", "must name the active contacts (e.g. 1-, C+), 1 to 60 characters"))
    if unit not in AMPLITUDE_UNITS:
        problems.append(Problem("amplitude_unit", f"{excerpt(unit, 10)!r} is not one of {', '.join(AMPLITUDE_UNITS)}"))
    for name, value, low, high in (("amplitude", amplitude, 0.0, 25.0), ("pulse_width_us", pulse_width, 10.0, 1000.0),
                                   ("frequency_hz", frequency, 1.0, 1000.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            problems.append(Problem(name, f"{excerpt(value, 20)} is not a number from {low:g} to {high:g}"))
    return problems


# --- the scales and toxin modules --------------------------------------------------------------


def _score(scale: str, items: Mapping[str, Any]) -> tuple[dict[str, Any], float | None]:
    """The scores of a scale's items and its total, from :mod:`contraxis.registry.scales`."""
    try:
        from . import scales
    except ImportError:  # pragma: no cover - the scales ship with the registry
        raise RegistryError([Problem("scale", "rating scales are not available in this installation")]) from None
    result = scales.score(scale, items)
    scored = result.to_json()
    scored.pop("items", None)
    return scored, result.total


ADVERSE_EFFECTS = ("dysphagia", "ptosis", "neck-weakness", "limb-weakness", "dysphonia", "diplopia", "dry-mouth",
                   "injection-site-pain", "flu-like", "other")
"""Adverse effects a toxin treatment may be followed by (the log's vocabulary)."""
RESPONSE_FIELDS = {"onset_days": 60, "peak_days": 120, "duration_weeks": 104}
"""The response to a treatment: each field's largest value."""


def _response_problems(value: Any) -> list[Problem]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [Problem("response", f"expected an object ({', '.join(RESPONSE_FIELDS)}), got {excerpt(value, 40)}")]
    problems = [Problem(f"response.{excerpt(k, 30)}", f"is not a field of a response ({', '.join(RESPONSE_FIELDS)})")
                for k in value if k not in RESPONSE_FIELDS]
    for key, high in RESPONSE_FIELDS.items():
        got = value.get(key)
        if got is not None and (isinstance(got, bool) or not isinstance(got, (int, float)) or not 0 <= got <= high):
            problems.append(Problem(f"response.{key}", f"{excerpt(got, 20)} is not a number from 0 to {high}"))
    return problems


def _check_injection(injection: Mapping[str, Any], date: dt.date,
                     earlier: Sequence[Mapping[str, Any]]) -> tuple[str, float, dict[str, Any], list[dict[str, Any]]]:
    """Read an injection given at a visit, check it against its product's label with the
    patient's earlier injections (:mod:`contraxis.registry.toxin`), and return its product,
    total units, the detail kept and the warnings.

    Beside the fields :func:`~contraxis.registry.toxin.read_injection` reads (product,
    indication, guidance, muscles; the date is the visit's), a treatment may give its
    ``response`` (``onset_days``, ``peak_days``, ``duration_weeks``) and its
    ``adverse_effects`` (:data:`ADVERSE_EFFECTS`).
    """
    from . import toxin

    if not isinstance(injection, Mapping):
        raise RegistryError([Problem("injection", f"expected an object, got {excerpt(injection, 40)}")])
    given = dict(injection)
    response = given.pop("response", None)
    adverse = given.pop("adverse_effects", None) or []
    problems = _response_problems(response)
    if not isinstance(adverse, list):
        problems.append(Problem("adverse_effects", f"expected a list of {', '.join(ADVERSE_EFFECTS)}"))
        adverse = []
    problems += [Problem(f"adverse_effects[{i}]", f"{excerpt(a, 30)!r} is not one of {', '.join(ADVERSE_EFFECTS)}")
                 for i, a in enumerate(adverse) if a not in ADVERSE_EFFECTS]
    if "date" in given and str(given["date"]) != date.isoformat():
        problems.append(Problem("date", f"{excerpt(given['date'], 20)!r} is not the visit's date {date.isoformat()} "
                                        "(leave it out)"))
    given["date"] = date
    try:
        read = toxin.read_injection(given)
    except CaseError as error:
        problems += error.problems
        read = None
    if problems:
        raise RegistryError(problems)
    assert read is not None
    warnings = [w.to_json() for w in toxin.check_injection(read, list(earlier))]
    detail = {**read.to_json(), "response": response, "adverse_effects": list(adverse)}
    detail.pop("total_units", None)
    return read.product, float(read.total), detail, warnings


def _problems_of(error: CaseError) -> list[Problem]:  # pragma: no cover - kept for callers' messages
    return list(error.problems)
