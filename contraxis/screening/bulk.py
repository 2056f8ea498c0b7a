"""FHIR R4 Bulk Data exports (NDJSON) laid out as OMOP tables, so that the same screen runs on them.

A Bulk Data export is a folder of NDJSON files, one resource per line, optionally gzipped
(``Patient.000.ndjson.gz``). :func:`bulk_to_omop` reads Patient, Condition,
MedicationRequest, MedicationStatement, Observation, Procedure and AllergyIntolerance and
writes the OMOP CDM tables screening reads (Parquet), every concept unmapped (concept id 0)
with its code in ``*_source_value``; the screen then recognises each code by its shape and
reads it with the terminology resolvers, exactly as for an OMOP database. Other resource
types (Encounter, DocumentReference...) are counted and not read.

How each resource is read:

===================  ==========================================================================
Patient              ``person``: a person id per Patient (in id order); gender, birth date;
                     the FHIR id as ``person_source_value``
Condition            ``condition_occurrence``: the first ICD-10-CM, SNOMED CT or HPO coding;
                     onset (onsetDateTime, onsetPeriod.start, else recordedDate) and abatement;
                     not read when verificationStatus is entered-in-error, refuted, unconfirmed,
                     provisional or differential
MedicationRequest,   ``drug_exposure``: the RxNorm coding (else the text) of
MedicationStatement  medicationCodeableConcept; start authoredOn or the effective date; end
                     the validity or effective period's end, else, for a completed or stopped
                     one, its start plus the expected supply (its start when none is given); an
                     active one has no end; entered-in-error is not read
Observation          ``measurement``: the LOINC coding, valueQuantity (value, UCUM code or
                     unit); effectiveDateTime or effectivePeriod.start, else issued
Procedure            ``procedure_occurrence``: the SNOMED CT coding; performed date
AllergyIntolerance   ``observation``: the first coding; recordedDate or onset
===================  ==========================================================================

A resource with no date, no subject Patient or no code is counted as not read, by type and
reason, in :attr:`BulkReading.not_read`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..errors import CaseError, Problem
from ..io.fhir.elements import as_date, patient_id_of
from ..io.fhir.systems import HPO_SYSTEMS, ICD10CM_SYSTEMS, LOINC, RXNORM, SNOMED
from .omop import OmopTables, find_tables

__all__ = ["BULK_TYPES", "BulkReading", "bulk_to_omop", "is_bulk_export", "iter_resources"]

BULK_TYPES: tuple[str, ...] = (
    "Patient", "Condition", "MedicationRequest", "MedicationStatement", "Observation", "Procedure",
    "AllergyIntolerance",
)
"""The resource types read."""

_PROBLEM_SYSTEMS = (*sorted(ICD10CM_SYSTEMS), SNOMED, *sorted(HPO_SYSTEMS))
_NOT_YET = {"entered-in-error", "refuted", "unconfirmed", "provisional", "differential"}
_ENDED = {"completed", "stopped", "cancelled", "not-taken"}


@dataclass
class BulkReading:
    """What :func:`bulk_to_omop` read: the OMOP tables written, resources per type, and what was not read."""

    tables: OmopTables
    read: Counter[str] = field(default_factory=Counter)
    not_read: Counter[str] = field(default_factory=Counter)


def is_bulk_export(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding ``Patient`` NDJSON (``Patient.ndjson``, ``Patient.000.ndjson.gz``)."""
    folder = Path(path)
    return folder.is_dir() and any(p.name.startswith("Patient") and ".ndjson" in p.name for p in folder.iterdir())


def iter_resources(folder: str | Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Every resource of the export: ``(file name, line number, resource)``, files in name order.

    Raises
    ------
    CaseError
        A line that is not a JSON object, naming the file and line.
    """
    for path in sorted(Path(folder).iterdir()):
        if ".ndjson" not in path.name:
            continue
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    resource = json.loads(line)
                except json.JSONDecodeError as error:
                    raise CaseError([Problem(f"{path.name}:{number}", f"is not JSON ({error.msg})")]) from None
                if not isinstance(resource, dict):
                    raise CaseError([Problem(f"{path.name}:{number}", "is not a FHIR resource (a JSON object)")])
                yield path.name, number, resource


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict) and c.get("code")]


def _code(concept: Any, systems: tuple[str, ...] | str) -> str | None:
    wanted = (systems,) if isinstance(systems, str) else systems
    for system in wanted:
        for coding in _codings(concept):
            if str(coding.get("system", "")).rstrip("/") == system:
                return str(coding["code"]).strip()
    return None


def _status(concept: Any) -> set[str]:
    return {str(c.get("code")) for c in _codings(concept)}


def _subject(resource: dict[str, Any]) -> str | None:
    ref = resource.get("subject") or resource.get("patient")
    if not isinstance(ref, dict):
        return None
    return patient_id_of(SimpleNamespace(reference=ref.get("reference")))


def _first_date(*values: Any) -> dt.date | None:
    for value in values:
        day = as_date(value)
        if day is not None:
            return day
    return None


def _period(resource: dict[str, Any], name: str) -> dict[str, Any]:
    value = resource.get(name)
    return value if isinstance(value, dict) else {}


def bulk_to_omop(folder: str | Path, out: str | Path) -> BulkReading:
    """Lay a FHIR R4 Bulk Data export out as OMOP CDM Parquet tables.

    Parameters
    ----------
    folder : str or path
        The export: NDJSON files (optionally gzipped) named by resource type.
    out : str or path
        The folder to write the tables to (created).

    Returns
    -------
    BulkReading
        The tables (for :func:`contraxis.screening.run_screen`) and the counts read and not read.

    Raises
    ------
    CaseError
        When the folder holds no Patient, or a line is not JSON.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .generate import _schemas

    if not is_bulk_export(folder):
        raise CaseError([Problem("input", f"{str(folder)!r} is not a FHIR Bulk Data export (no Patient NDJSON file)")])
    reading = BulkReading(tables=OmopTables("parquet", str(out)))
    patients: dict[str, dict[str, Any]] = {}
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in _schemas() if t != "person"}
    deferred: list[tuple[str, str, dict[str, Any]]] = []
    for _name, _number, resource in iter_resources(folder):
        kind = str(resource.get("resourceType", ""))
        if kind == "Patient":
            if resource.get("id"):
                patients[str(resource["id"])] = resource
                reading.read["Patient"] += 1
            else:
                reading.not_read["Patient: no id"] += 1
            continue
        if kind not in BULK_TYPES:
            reading.not_read[f"{kind or 'unknown'}: not a type screening reads"] += 1
            continue
        subject = _subject(resource)
        if subject is None:
            reading.not_read[f"{kind}: no subject Patient"] += 1
            continue
        deferred.append((kind, subject, resource))
    ids = {pid: i for i, pid in enumerate(sorted(patients), start=1)}
    for kind, subject, resource in deferred:
        person = ids.get(subject)
        if person is None:
            reading.not_read[f"{kind}: its Patient is not in the export"] += 1
            continue
        row, why = _row(kind, person, resource)
        if row is None:
            reading.not_read[f"{kind}: {why}"] += 1
            continue
        table, values = row
        rows[table].append(values)
        reading.read[kind] += 1
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    schemas = _schemas()
    people = []
    for pid, number in ids.items():
        patient = patients[pid]
        birth = as_date(patient.get("birthDate"))
        gender = patient.get("gender")
        people.append({
            "person_id": number, "gender_concept_id": {"male": 8507, "female": 8532}.get(gender, 0),
            "year_of_birth": birth.year if birth else None, "month_of_birth": birth.month if birth else None,
            "day_of_birth": birth.day if birth else None,
            "birth_datetime": dt.datetime(birth.year, birth.month, birth.day) if birth else None,
            "race_concept_id": 0, "ethnicity_concept_id": 0, "person_source_value": pid,
            "gender_source_value": gender,
        })
    pq.write_table(pa.Table.from_pylist(people, schema=schemas["person"]), directory / "person.parquet")
    for table, values in rows.items():
        for i, value in enumerate(values, start=1):
            value[schemas[table].names[0]] = i
        pq.write_table(pa.Table.from_pylist(values, schema=schemas[table]), directory / f"{table}.parquet")
    reading.tables = find_tables(directory)
    return reading


def _row(kind: str, person: int, r: dict[str, Any]) -> tuple[tuple[str, dict[str, Any]] | None, str]:
    if kind == "Condition":
        if _status(r.get("verificationStatus")) & _NOT_YET:
            return None, "verificationStatus says it is not a fact"
        code = _code(r.get("code"), _PROBLEM_SYSTEMS)
        if code is None:
            return None, "no ICD-10-CM, SNOMED CT or HPO code"
        start = _first_date(r.get("onsetDateTime"), _period(r, "onsetPeriod").get("start"), r.get("recordedDate"))
        if start is None:
            return None, "no onset or recorded date"
        end = _first_date(r.get("abatementDateTime"), _period(r, "abatementPeriod").get("end"))
        return ("condition_occurrence", {"person_id": person, "condition_concept_id": 0, "condition_start_date": start,
                                         "condition_end_date": end, "condition_type_concept_id": 0,
                                         "condition_source_value": code, "condition_source_concept_id": 0}), ""
    if kind in ("MedicationRequest", "MedicationStatement"):
        status = str(r.get("status", ""))
        if status == "entered-in-error":
            return None, "status is entered-in-error"
        concept = r.get("medicationCodeableConcept")
        code = _code(concept, RXNORM) or (concept.get("text") if isinstance(concept, dict) else None)
        if not code:
            return None, "no RxNorm code or text (a referenced Medication is not read)"
        effective = _period(r, "effectivePeriod")
        validity = _period(r.get("dispenseRequest") or {}, "validityPeriod")
        start = _first_date(r.get("authoredOn"), r.get("effectiveDateTime"), effective.get("start"),
                            validity.get("start"))
        if start is None:
            return None, "no date"
        end = _first_date(effective.get("end"), validity.get("end"))
        if end is None and status in _ENDED:
            supply = (r.get("dispenseRequest") or {}).get("expectedSupplyDuration") or {}
            days = supply.get("value") if supply.get("unit") in ("d", "day", "days") else None
            end = start + dt.timedelta(days=int(days)) if isinstance(days, (int, float)) else start
        return ("drug_exposure", {"person_id": person, "drug_concept_id": 0, "drug_exposure_start_date": start,
                                  "drug_exposure_end_date": end, "drug_type_concept_id": 0,
                                  "drug_source_value": code, "drug_source_concept_id": 0}), ""
    if kind == "Observation":
        if str(r.get("status", "")) in ("entered-in-error", "cancelled"):
            return None, f"status is {r.get('status')}"
        code = _code(r.get("code"), LOINC)
        if code is None:
            return None, "no LOINC code"
        day = _first_date(r.get("effectiveDateTime"), _period(r, "effectivePeriod").get("start"), r.get("issued"))
        if day is None:
            return None, "no date"
        quantity = r.get("valueQuantity") if isinstance(r.get("valueQuantity"), dict) else {}
        value = quantity.get("value")
        return ("measurement", {"person_id": person, "measurement_concept_id": 0, "measurement_date": day,
                                "measurement_type_concept_id": 0,
                                "value_as_number": float(value) if isinstance(value, (int, float)) else None,
                                "unit_concept_id": 0, "measurement_source_value": code,
                                "unit_source_value": quantity.get("code") or quantity.get("unit"),
                                "measurement_source_concept_id": 0}), ""
    if kind == "Procedure":
        code = _code(r.get("code"), SNOMED)
        if code is None:
            return None, "no SNOMED CT code"
        day = _first_date(r.get("performedDateTime"), _period(r, "performedPeriod").get("start"))
        if day is None:
            return None, "no performed date"
        return ("procedure_occurrence", {"person_id": person, "procedure_concept_id": 0, "procedure_date": day,
                                         "procedure_source_value": code}), ""
    code = next((str(c["code"]) for c in _codings(r.get("code"))), None)
    day = _first_date(r.get("recordedDate"), r.get("onsetDateTime"))
    if code is None or day is None:
        return None, "no code or no date"
    return ("observation", {"person_id": person, "observation_concept_id": 0, "observation_date": day,
                            "value_as_number": None, "unit_concept_id": 0, "observation_source_value": code,
                            "unit_source_value": None}), ""
