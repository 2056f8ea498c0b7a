"""Each candidate's native case as of a date, assessed, and the screens nobody acted on.

The engines hand over the long table of :func:`contraxis.screening.selection.selection_sql`;
:func:`assess_rows` groups it by person and, for every screen the person is a candidate for:

1. assembles the native case as of the index date (:func:`case_as_of`) from the person's
   records, reading codes with the terminology resolvers of Contraxis: conditions through
   :func:`contraxis.terminology.problems.read_problem` (ICD-10-CM, SNOMED CT; HPO ids as they
   are), drugs by RxNorm code or name (read by the case reader through
   :func:`contraxis.terminology.drugs.resolve_drug`), laboratory results by LOINC code with
   their units (read and converted by :func:`contraxis.terminology.labs.read_lab`);
2. assesses it with :func:`contraxis.assess`;
3. when the screen's alert is raised, looks in the whole record up to the screen date for the
   evidence that closes the screen (:func:`closed_by`); if there is none, writes a worklist row:
   the person, the alert, why (rule, facts, source, message, dates) and what to do next.

A candidate whose records cannot be read into a case is not dropped: it gets a row with the
alert ``not-assessed`` and the problems in ``why``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..reading import NotRead
from .screens import Closure, CompiledScreen

__all__ = [
    "NOT_ASSESSED",
    "WORKLIST_COLUMNS",
    "Person",
    "Record",
    "assess_person",
    "assess_rows",
    "case_as_of",
    "closed_by",
    "group_people",
    "vocabulary_of",
    "worklist_schema",
]

NOT_ASSESSED = "not-assessed"

WORKLIST_COLUMNS: tuple[str, ...] = (
    "person_id", "alert", "screen", "urgency", "index_date", "age_at_index", "rule", "facts", "source", "why",
    "next_steps", "evidence_missing", "not_read", "person_source_value",
)
"""The worklist's columns: one row per person and alert, person and alert code first."""

CONDITION_ENDED_DAYS = 30
"""A condition that ended more than this many days before the case date is not a present finding."""
DRUG_ENDED_DAYS = 365
"""A drug stopped more than this many days before the case date is left out of the case."""
LAB_DAYS = 365
"""Laboratory results older than this many days before the case date are left out of the case."""


def worklist_schema() -> Any:
    """The Arrow schema of the worklist (:data:`WORKLIST_COLUMNS`)."""
    import pyarrow as pa

    return pa.schema([
        ("person_id", pa.int64()), ("alert", pa.string()), ("screen", pa.string()), ("urgency", pa.string()),
        ("index_date", pa.date32()), ("age_at_index", pa.float64()), ("rule", pa.string()), ("facts", pa.string()),
        ("source", pa.string()), ("why", pa.string()), ("next_steps", pa.string()),
        ("evidence_missing", pa.string()), ("not_read", pa.int32()), ("person_source_value", pa.string()),
    ])


@dataclass(frozen=True, slots=True)
class Record:
    """One clinical record of the long table."""

    domain: str
    vocabulary: str | None
    code: str | None
    source_value: str | None
    start: dt.date | None
    end: dt.date | None
    value: float | None
    unit: str | None

    def codes(self) -> tuple[str, ...]:
        """The concept code, then the source value when it differs."""
        out = [c.strip() for c in (self.code, self.source_value) if c and c.strip()]
        return tuple(dict.fromkeys(out))


@dataclass
class Person:
    """A candidate: who, the screens with their index dates, and every record."""

    person_id: int
    sex: str = "unknown"
    birth: dt.date | None = None
    source_id: str | None = None
    screens: list[tuple[str, dt.date]] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)


def group_people(table: Any) -> Iterator[Person]:
    """Group the long table (an Arrow table or record batch, any row order) by person, in person order."""
    cols = {name: table.column(name).to_pylist() for name in table.schema.names}
    people: dict[int, Person] = {}
    for i, pid in enumerate(cols["person_id"]):
        person = people.get(pid)
        if person is None:
            person = people[pid] = Person(int(pid))
        domain = cols["domain"][i]
        if domain == "index":
            person.screens.append((cols["code"][i], cols["start_date"][i]))
        elif domain == "person":
            person.sex = cols["code"][i] or "unknown"
            person.birth = cols["start_date"][i]
            person.source_id = cols["source_value"][i]
        else:
            person.records.append(Record(domain, cols["vocabulary"][i], cols["code"][i], cols["source_value"][i],
                                         cols["start_date"][i], cols["end_date"][i], cols["value"][i],
                                         cols["unit"][i]))
    for pid in sorted(people):
        yield people[pid]


_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
_DIGITS = re.compile(r"^[0-9]{4,18}$")
_HPO = re.compile(r"^HP:[0-9]{7}$")
_VOCABULARIES = {"SNOMED": "SNOMED CT", "ICD10CM": "ICD-10-CM", "ICD10": "ICD-10-CM", "HPO": "HPO"}


def vocabulary_of(code: str, vocabulary: str | None = None) -> str | None:
    """The problem-code system of a condition code: the OMOP vocabulary when given, else its shape.

    ``HP:0001332`` is HPO, a letter and two characters (``G24.3``, ``G243``) ICD-10-CM, 4 to 18
    digits SNOMED CT; anything else None.
    """
    if vocabulary and vocabulary in _VOCABULARIES:
        return _VOCABULARIES[vocabulary]
    if _HPO.match(code):
        return "HPO"
    if _ICD10.match(code.upper()):
        return "ICD-10-CM"
    if _DIGITS.match(code):
        return "SNOMED CT"
    return None


@functools.lru_cache(maxsize=65536)
def _problem(system: str, code: str) -> Any:
    from ..terminology.problems import read_problem

    if system == "ICD-10-CM" and "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    try:
        return read_problem(system, code)
    except (ValueError, KeyError):
        return None


@functools.lru_cache(maxsize=65536)
def _analyte(code: str) -> str | None:
    from ..terminology.labs import analyte_of

    return analyte_of(code)


@functools.lru_cache(maxsize=65536)
def _ingredients(code: str) -> tuple[str, ...]:
    from ..terminology.drugs import resolve_drug

    reading = resolve_drug(rxnorm=code) if code.isdigit() else resolve_drug(code)
    return tuple(reading.ingredients)


def _years(birth: dt.date | None, day: dt.date) -> float | None:
    if birth is None or birth > day:
        return None
    years = (day - birth).days / 365.25
    return float(int(years)) if years >= 2 else round(years, 1)


def _condition(record: Record) -> tuple[list[str], list[str], list[str], str | None]:
    """Findings, regions and history of a condition record; or the reason it was not read."""
    for code in record.codes():
        system = vocabulary_of(code, record.vocabulary if code == record.code else None)
        if system == "HPO":
            return [code], [], [], None
        if system is None:
            continue
        reading = _problem(system, code)
        if reading is not None:
            return list(reading.findings), list(reading.regions), list(reading.history), None
    return [], [], [], "no problem code Contraxis reads (ICD-10-CM, SNOMED CT or HPO)"


def case_as_of(
    person: Person, day: dt.date, *, onset_day: dt.date | None = None
) -> tuple[dict[str, Any], list[NotRead]]:
    """The native case of a person as of ``day``, from the records up to that day.

    Parameters
    ----------
    person : Person
    day : datetime.date
        The case date: ages and days since a drug was started or a sample taken count to it.
    onset_day : datetime.date, optional
        When the movements began: ``onset_age`` is the age on that day.

    Returns
    -------
    dict, list of NotRead
        The case (native format, for :func:`contraxis.case.read_case_reading`) and every record
        that was not read into it, with why: conditions ended more than 30 days before, drugs
        stopped more than a year before, laboratory results older than a year, codes no
        resolver knows, results that are not possible values.
    """
    from pydantic import ValidationError

    from ..case import Lab

    not_read: list[NotRead] = []
    findings: dict[str, None] = {}
    regions: dict[str, None] = {}
    history: dict[str, None] = {}
    drugs: dict[str, Record] = {}
    labs: list[dict[str, Any]] = []
    for i, rec in enumerate(person.records):
        path = f"person[{person.person_id}].records[{i}]"
        if rec.start is None or rec.start > day:
            continue
        shown = "|".join(rec.codes()) or "(no code)"
        if rec.domain == "condition":
            if rec.end is not None and (day - rec.end).days > CONDITION_ENDED_DAYS:
                continue
            found, where, past, why = _condition(rec)
            if why:
                not_read.append(NotRead.of(path, shown, why))
            findings.update(dict.fromkeys(found))
            regions.update(dict.fromkeys(where))
            history.update(dict.fromkeys(past))
        elif rec.domain == "drug":
            if rec.end is not None and (day - rec.end).days > DRUG_ENDED_DAYS:
                continue
            key = rec.codes()[0] if rec.codes() else ""
            if key and (key not in drugs or (drugs[key].start or dt.date.min) < rec.start):
                drugs[key] = rec
        elif rec.domain in ("measurement", "observation"):
            codes = [c for c in rec.codes() if _analyte(c)]
            if not codes:
                continue
            if (day - rec.start).days > LAB_DAYS or rec.value is None:
                continue
            lab = {"loinc": codes[0], "value": rec.value, "days_ago": (day - rec.start).days}
            if rec.unit:
                lab["unit"] = rec.unit
            try:
                Lab(**lab)
            except (ValidationError, ValueError) as error:
                message = str(error).splitlines()[-1].strip() if isinstance(error, ValidationError) else str(error)
                not_read.append(NotRead.of(path, f"{shown} {rec.value} {rec.unit or ''}".strip(), message))
                continue
            labs.append(lab)
    medications = []
    for key, rec in sorted(drugs.items()):
        med: dict[str, Any] = {"rxnorm": key} if key.isdigit() else {"name": key}
        med["days_since_start"] = (day - rec.start).days if rec.start else None
        if rec.end is not None and rec.end < day:
            med["days_since_stop"] = (day - rec.end).days
        medications.append(med)
    case: dict[str, Any] = {"id": str(person.person_id), "sex": person.sex}
    age = _years(person.birth, day)
    if age is not None:
        case["age"] = age
        if onset_day is not None:
            onset = _years(person.birth, onset_day)
            if onset is not None:
                case["onset_age"] = min(onset, age)
    for name, values in (("findings", findings), ("regions", regions), ("history", history)):
        if values:
            case[name] = list(values)
    if medications:
        case["medications"] = medications
    if labs:
        case["labs"] = labs
    return case, not_read


def _in_window(day: dt.date | None, index: dt.date, closure: Closure, as_of: dt.date) -> bool:
    if day is None or day > as_of:
        return False
    offset = (day - index).days
    if closure.from_days is not None and offset < closure.from_days:
        return False
    return not (closure.to_days is not None and offset > closure.to_days)


def closed_by(person: Person, closure: Closure, *, index: dt.date, as_of: dt.date, kb: Any) -> bool:
    """Whether the person's record holds the evidence ``closure`` asks for.

    ``measured``: a result of one of the analytes (any LOINC code the laboratory table reads as
    it) dated in the window. ``given``: a drug whose ingredients belong to one of the treatment
    groups (the knowledge base's ``treats_as``: levodopa for carbidopa-levodopa) started in the
    window. ``stopped``: every drug of the named classes taken on the index date has ended by
    the window's end (``to_days`` after the index date; the screen date without it).
    """
    names = set(closure.names)
    if closure.kind == "measured":
        return any(
            rec.domain in ("measurement", "observation") and _in_window(rec.start, index, closure, as_of)
            and any(_analyte(c) in names for c in rec.codes())
            for rec in person.records
        )
    if closure.kind == "given":
        for rec in person.records:
            if rec.domain != "drug" or not _in_window(rec.start, index, closure, as_of):
                continue
            for code in rec.codes():
                if any(i in names or kb.treats_as.get(i) in names for i in _ingredients(code)):
                    return True
        return False
    end = index + dt.timedelta(days=closure.to_days) if closure.to_days is not None else as_of
    offending: list[Record] = []
    for rec in person.records:
        if rec.domain != "drug" or rec.start is None:
            continue
        ingredients = {i for c in rec.codes() for i in _ingredients(c)}
        if any(names & kb.drug_membership.get(i, frozenset()) for i in ingredients):
            offending.append(rec)
    taken = [r for r in offending if r.start <= index and (r.end is None or r.end >= index)]
    if not taken:
        return False
    return not any(r.start <= end and (r.end is None or r.end > end) for r in offending)


def _row(person: Person, **values: Any) -> dict[str, Any]:
    base = {c: None for c in WORKLIST_COLUMNS}
    base.update(person_id=person.person_id, person_source_value=person.source_id, not_read=0)
    base.update(values)
    return base


def assess_person(person: Person, screens: Mapping[str, CompiledScreen], *, as_of: dt.date,
                  kb: Any) -> list[dict[str, Any]]:
    """Worklist rows of one candidate: one per screen whose alert is raised and not closed.

    Parameters
    ----------
    person : Person
    screens : mapping of str to CompiledScreen
        The screens run, by id.
    as_of : datetime.date
        The screen date: evidence after it does not count.
    kb : KnowledgeBase

    Returns
    -------
    list of dict
        Rows with the keys of :data:`WORKLIST_COLUMNS`, in screen order.
    """
    from ..case import read_case_reading
    from ..engine import assess
    from ..errors import ContraxisError

    rows: list[dict[str, Any]] = []
    cache: dict[tuple[dt.date, bool], Any] = {}
    for screen_id, index in sorted(set(person.screens), key=lambda s: (list(screens).index(s[0]), s[1])):
        screen = screens[screen_id]
        onset = screen.index.kind == "condition"
        key = (index, onset)
        if key not in cache:
            data, not_read = case_as_of(person, index, onset_day=index if onset else None)
            try:
                reading = read_case_reading(data)
                assessment = assess(reading.case, kb=kb, xrefs=None, not_read=(*not_read, *reading.not_read))
            except ContraxisError as error:
                cache[key] = error
            else:
                cache[key] = (assessment, len(assessment.not_read), data.get("age"))
        outcome = cache[key]
        if isinstance(outcome, Exception):
            rows.append(_row(person, alert=NOT_ASSESSED, screen=screen_id, index_date=index,
                             why="; ".join(str(p) for p in getattr(outcome, "problems", [])) or str(outcome),
                             next_steps="Correct the source records named and screen again."))
            continue
        assessment, count, age = outcome
        raised = [a for a in assessment.alerts if a.code == screen.alert]
        if not raised:
            continue
        if any(closed_by(person, c, index=index, as_of=as_of, kb=kb) for c in screen.row.closed_by):
            continue
        alert = raised[0]
        rows.append(_row(
            person, alert=alert.code, screen=screen_id, urgency=alert.urgency, index_date=index, age_at_index=age,
            rule=alert.why.rule, facts="; ".join(alert.why.facts), source=alert.why.source,
            why=f"{alert.message} (as of {index.isoformat()}, first record of {screen.index.name})",
            next_steps=screen.row.action,
            evidence_missing=" or ".join(c.describe() for c in screen.row.closed_by) + ": none in the record",
            not_read=count,
        ))
    return rows


def assess_rows(table: Any, *, screens: Sequence[CompiledScreen], as_of: dt.date, kb: Any = None) -> Any:
    """Assess every candidate of a long table and return the worklist (Arrow table).

    The one function both engines call: DuckDB on chunks of the query result, Spark on each
    partition (``mapInArrow``). Rows come out sorted by person, then screen order.

    Parameters
    ----------
    table : pyarrow.Table or RecordBatch
        Rows of :data:`contraxis.screening.selection.LONG_COLUMNS`; every row of a person must
        be in the same table.
    screens : sequence of CompiledScreen
    as_of : datetime.date
    kb : KnowledgeBase, optional
        The bundled one by default.
    """
    import pyarrow as pa

    from ..knowledge import load_knowledge_base

    kb = kb or load_knowledge_base()
    by_id = {s.id: s for s in screens}
    rows: list[dict[str, Any]] = []
    for person in group_people(table):
        rows.extend(assess_person(person, by_id, as_of=as_of, kb=kb))
    return pa.Table.from_pylist(rows, schema=worklist_schema())


def sort_worklist(table: Any) -> Any:
    """The worklist in a stable order: person, then alert, then screen."""
    return table.sort_by([("person_id", "ascending"), ("alert", "ascending"), ("screen", "ascending")])


def people_of(table: Any) -> Iterable[int]:
    """The distinct person ids of a long table."""
    import pyarrow.compute as pc

    return pc.unique(table.column("person_id")).to_pylist()
