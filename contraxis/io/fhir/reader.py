"""Read FHIR R4 resources about one patient into a case, and say what was not read.

:func:`read_resources` coerces and validates each resource (:mod:`.validation`), reads it
with the reader of its kind (one module per resource type, each a pure function returning a
:class:`~.parts.Part`), merges the parts into the case format and reads the case through
:func:`contraxis.case.read_case_reading`, passing where each item came from so that what the
case reading changes or sets aside (a brand name read as its ingredient, an HPO alt_id, a drug
nobody knows) points into the FHIR input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ...errors import CaseError, ContradictionError, Problem
from ...reading import NotRead
from .condition import read_condition
from .elements import Located, patient_id_of
from .medication import (
    merge_medications,
    read_medication_administration,
    read_medication_dispense,
    read_medication_request,
    read_medication_statement,
)
from .observation import read_observation
from .parts import Context, Item, Part, skipped
from .patient import birth_date, read_patient
from .procedure import read_diagnostic_report, read_family_member_history, read_procedure
from .tables import FhirTables, load_tables
from .validation import check_resource

__all__ = ["FhirReading", "READ_TYPES", "read_located", "read_resources"]

Reader = Callable[[Located, Context], Part]

READERS: Mapping[str, Reader] = {
    "Patient": read_patient,
    "Condition": read_condition,
    "Observation": read_observation,
    "MedicationRequest": read_medication_request,
    "MedicationStatement": read_medication_statement,
    "MedicationAdministration": read_medication_administration,
    "MedicationDispense": read_medication_dispense,
    "Procedure": read_procedure,
    "DiagnosticReport": read_diagnostic_report,
    "FamilyMemberHistory": read_family_member_history,
}
READ_TYPES: tuple[str, ...] = (*READERS, "Medication")
"""The resource types read (a Medication only when an order or statement refers to it)."""

_NOT_INTO_CASE: Mapping[str, str] = {
    "AllergyIntolerance": "allergies and intolerances are read by the order checks (CDS Hooks order-select and "
                          "order-sign), not into the case",
}


@dataclass(frozen=True)
class FhirReading:
    """The case read from FHIR resources, and every item not read or changed.

    Parameters
    ----------
    case : Case
        The native case.
    not_read : tuple of NotRead
        Every item of the input not used, or used after a change (a coerced shape, a resource
        status, a brand name read as its ingredient...), each with its path in the input.
    reference_date : datetime.date
        The date ages and days were counted to.
    located : tuple of Located
        The validated resources with their paths, for callers that read more than the case
        (the CDS Hooks order checks).
    """

    case: Any
    not_read: tuple[NotRead, ...]
    reference_date: date
    located: tuple[Located, ...] = field(default=(), repr=False)

    def to_json(self) -> dict[str, Any]:
        """``{"case": ..., "not_read": [...], "reference_date": "YYYY-MM-DD"}``."""
        return {
            "case": self.case.model_dump(mode="json", exclude_defaults=True),
            "not_read": [item.to_json() for item in self.not_read],
            "reference_date": self.reference_date.isoformat(),
        }

    def not_read_json(self) -> list[dict[str, str]]:
        """``not_read`` as JSON rows (``path``, ``value``, ``reason``)."""
        return [item.to_json() for item in self.not_read]


def check_all(
    resources: Iterable[tuple[Any, str]], *, strict: bool, source: str
) -> tuple[list[Located], list[NotRead]]:
    """Coerce and validate resources given with their paths.

    Raises
    ------
    CaseError
        In strict mode, naming every element that is not valid FHIR R4.
    """
    located: list[Located] = []
    notes: list[NotRead] = []
    problems: list[Problem] = []
    for data, path in resources:
        checked = check_resource(data, path=path, strict=strict)
        notes.extend(checked.notes)
        problems.extend(checked.problems)
        if checked.located is not None:
            located.append(checked.located)
    if problems:
        raise CaseError(problems, source=source)
    return located, notes


def read_resources(
    resources: Iterable[Mapping[str, Any]],
    *,
    reference_date: date | None = None,
    codes: Any = None,
    case_id: str | None = None,
    where: str = "resources",
    strict: bool = True,
    tables: FhirTables | None = None,
) -> FhirReading:
    """Read FHIR R4 resources about one patient into a case.

    Parameters
    ----------
    resources : iterable of mapping
        The resources (parsed JSON), e.g. a Bundle's entries or a CDS Hooks prefetch.
    reference_date : datetime.date, optional
        The date ages and days since a drug was started are counted to; today (UTC) if
        omitted.
    codes : contraxis.codes.CodeTables, optional
        The code tables; the shared ones if omitted.
    case_id : str, optional
        The id given to the case (the Patient's id if omitted).
    where : str, optional
        How to name the list in paths (``resources[3]``).
    strict : bool, optional
        Refuse a resource that is not valid FHIR R4 after coercion (default); else leave out
        what is not valid, report it and read the rest.
    tables : FhirTables, optional
        The reader's code maps (tests); the shipped ones if omitted.

    Returns
    -------
    FhirReading
        The case and what was not read, with why.

    Raises
    ------
    CaseError
        When a resource is not valid FHIR R4 (strict), the resources are about more than one
        patient, or the case read is not valid (an impossible laboratory value), naming each
        problem and where in the input it is.
    ContradictionError
        When the resources contradict each other as a case (onset after the current age).
    """
    items = list(resources)
    located, notes = check_all(((r, f"{where}[{i}]") for i, r in enumerate(items)), strict=strict, source="FHIR")
    return read_located(located, notes=notes, reference_date=reference_date, codes=codes, case_id=case_id,
                        tables=tables)


def _references(located: Sequence[Located], full_urls: Mapping[str, str]) -> dict[str, tuple[Any, str]]:
    refs: dict[str, tuple[Any, str]] = {}
    for item in located:
        if item.kind != "Medication":
            continue
        if item.resource.id:
            refs[f"Medication/{item.resource.id}"] = (item.resource, item.path)
        url = full_urls.get(item.path)
        if url:
            refs[url] = (item.resource, item.path)
    return refs


def _subject_ids(item: Located) -> list[tuple[str, str]]:
    """(element, Patient id) of the references a resource makes to its patient."""
    found = []
    for name in ("subject", "patient"):
        target = patient_id_of(getattr(item.resource, name, None))
        if target:
            found.append((name, target))
    return found


def one_patient(located: Sequence[Located], *, expected: str | None = None, source: str = "FHIR") -> str | None:
    """Check that the resources are about one patient; return its id.

    Raises
    ------
    CaseError
        When two Patient resources have different ids, or a resource names (in ``subject``
        or ``patient``) a Patient other than the one given, naming the path and both ids.
    """
    problems: list[Problem] = []
    patients = [p for p in located if p.kind == "Patient"]
    ids = [str(p.resource.id) for p in patients if p.resource.id]
    patient_id = expected or (ids[0] if ids else None)
    for patient in patients:
        if patient.resource.id and patient_id and str(patient.resource.id) != patient_id:
            expected_what = "context.patientId" if expected else "the first Patient"
            problems.append(
                Problem(
                    f"{patient.path}.id",
                    f"Patient {str(patient.resource.id)[:64]!r} is not "
                    f"{patient_id[:64]!r} ({expected_what}): give one patient's data",
                )
            )
    if patient_id and not problems:
        for item in located:
            for name, target in _subject_ids(item):
                if target != patient_id:
                    problems.append(Problem(f"{item.path}.{name}", f"refers to Patient {target[:64]!r}, not to "
                                                                   f"{patient_id[:64]!r}: give one patient's data"))
    if problems:
        raise CaseError(problems, source=source)
    return patient_id


def read_located(
    located: Sequence[Located],
    *,
    notes: Sequence[NotRead] = (),
    reference_date: date | None = None,
    codes: Any = None,
    case_id: str | None = None,
    tables: FhirTables | None = None,
    full_urls: Mapping[str, str] | None = None,
    patient_id: str | None = None,
) -> FhirReading:
    """Read validated resources (see :func:`read_resources`) into a case.

    ``full_urls`` maps a resource's path to its Bundle ``fullUrl`` (for references by URL);
    ``patient_id`` is the patient the resources must be about (CDS Hooks context).
    """
    if codes is None:
        from ...codes import load_code_tables

        codes = load_code_tables()
    tables = tables or load_tables()
    when = reference_date or datetime.now(UTC).date()
    pid = one_patient(located, expected=patient_id)
    patients = [p for p in located if p.kind == "Patient"]
    birth = next((b for b in (birth_date(p) for p in patients) if b is not None), None)
    ctx = Context(reference_date=when, codes=codes, tables=tables, birth=birth,
                  references=_references(located, full_urls or {}))
    parts: list[Part] = []
    for item in sorted(located, key=lambda r: r.kind != "Patient"):
        reader = READERS.get(item.kind)
        if reader is not None:
            parts.append(reader(item, ctx))
        elif item.kind == "Medication":
            continue
        elif item.kind in _NOT_INTO_CASE:
            parts.append(skipped(item, item.kind, _NOT_INTO_CASE[item.kind]))
        else:
            parts.append(
                skipped(item, item.kind, f"{item.kind} resources are not read (read: {', '.join(READ_TYPES)})")
            )
    data, origins, merged_notes = assemble(parts, tables=tables)
    if case_id or pid:
        data["id"] = case_id or pid
    reading = _read_case(data, origins)
    order = {item.path: i for i, item in enumerate(located)}
    own = sorted([*notes, *(n for p in parts for n in p.not_read), *merged_notes],
                 key=lambda n: order.get(_resource_path(n.path), len(order)))
    return FhirReading(case=reading.case, not_read=(*own, *reading.not_read), reference_date=when,
                       located=tuple(located))


def _resource_path(path: str) -> str:
    """``bundle.entry[2].resource`` from ``bundle.entry[2].resource.code.coding[0]``."""
    head, sep, _ = path.partition(".resource")
    if sep:
        return head + sep
    if "]" in path:
        return path[: path.index("]") + 1]
    return path


def _read_case(data: dict[str, Any], origins: Mapping[str, str]) -> Any:
    """Read the case data through the case reading; its errors are relocated into the input."""
    from ...case import read_case_reading

    try:
        return read_case_reading(data, source="FHIR", origins=origins)
    except CaseError as error:
        relocated = [Problem(_relocate(p.where, origins), p.message) for p in error.problems]
        kind = ContradictionError if isinstance(error, ContradictionError) else CaseError
        raise kind(relocated, source="FHIR") from None


def _relocate(where: str, origins: Mapping[str, str]) -> str:
    for prefix in sorted(origins, key=len, reverse=True):
        if where == prefix or where.startswith(prefix + ".") or where.startswith(prefix + "["):
            return f"{origins[prefix]} ({where})"
    return where


def _unique(items: Iterable[Item]) -> list[Item]:
    seen: dict[Any, Item] = {}
    for item in items:
        seen.setdefault(item.value, item)
    return list(seen.values())


def _series(rows: list[Item], *, keep: int) -> tuple[list[Item], list[NotRead]]:
    """The results of one test kept (the latest ``keep``, by date) and the ones left out."""
    dated = [r for r in rows if r.value.get("date")]
    undated = [r for r in rows if not r.value.get("date")]
    notes: list[NotRead] = []
    if len(rows) == 1:
        return rows, notes
    if dated:
        for row in undated:
            notes.append(
                NotRead.of(
                    row.path,
                    f"LOINC {row.value['loinc']} {row.value.get('value', row.value.get('interpretation'))}",
                    "an undated result of a test given with dated results: left out (the latest dated result decides)",
                )
            )
        dated.sort(key=lambda r: r.value["date"], reverse=True)
        for row in dated[keep:]:
            notes.append(NotRead.of(row.path, f"LOINC {row.value['loinc']} of {row.value['date']}",
                                    f"an older result: only the latest {keep} results of a test are read"))
        return sorted(dated[:keep], key=lambda r: r.value["date"]), notes
    for row in undated[:-1]:
        notes.append(NotRead.of(row.path, f"LOINC {row.value['loinc']}",
                                "several undated results of one test: only the last one given is read"))
    return undated[-1:], notes


def assemble(parts: Sequence[Part], *, tables: FhirTables) -> tuple[dict[str, Any], dict[str, str], list[NotRead]]:
    """Merge the parts into case data, the origin of each list item, and notes on what the
    merge left out.

    Returns
    -------
    (dict, dict, list of NotRead)
        The case fields; ``case.findings[2]`` -> the input path it came from; notes.
    """
    from ...terminology.labs import analyte_of

    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    notes: list[NotRead] = []
    for part in parts:
        data.update(part.fields)
    onsets = [o for p in parts for o in p.onsets]
    if onsets and "onset_age" not in data:
        data["onset_age"] = min(onsets)
    for key in ("findings", "absent", "history", "regions"):
        items = _unique(i for p in parts for i in getattr(p, key))
        if items:
            data[key] = [i.value for i in items]
            origins.update({f"case.{key}[{n}]": i.path for n, i in enumerate(items)})
    by_test: dict[str, list[Item]] = {}
    for item in (i for p in parts for i in p.labs):
        by_test.setdefault(analyte_of(item.value["loinc"]) or item.value["loinc"], []).append(item)
    labs: list[Item] = []
    for rows in by_test.values():
        kept, left = _series(rows, keep=tables.elements.labs.latest_kept)
        labs += kept
        notes += left
    if labs:
        data["labs"] = [i.value for i in labs]
        origins.update({f"case.labs[{n}]": i.path for n, i in enumerate(labs)})
    medications = merge_medications(i for p in parts for i in p.medications)
    if medications:
        data["medications"] = [i.value for i in medications]
        origins.update({f"case.medications[{n}]": i.path for n, i in enumerate(medications)})
    treatments = {i.value["treatment"]: i for p in parts for i in p.treatments}
    if treatments:
        data["treatment_history"] = [i.value for i in treatments.values()]
        origins.update({f"case.treatment_history[{n}]": i.path for n, i in enumerate(treatments.values())})
    mri_findings = _unique(i for p in parts for i in p.mri_findings)
    results = [p.mri.value for p in parts if p.mri is not None]
    if mri_findings or results:
        mri = "abnormal" if mri_findings or "abnormal" in results else "normal" if "normal" in results else "not_done"
        imaging: dict[str, Any] = {"mri_brain": mri}
        if mri_findings:
            imaging["findings"] = [i.value for i in mri_findings]
            origins.update({f"case.imaging.findings[{n}]": i.path for n, i in enumerate(mri_findings)})
        data["imaging"] = imaging
    tested = list(dict.fromkeys(g for p in parts for g in p.genes_tested))
    if tested:
        data["genetics"] = {
            "tested": tested,
            "positive": list(dict.fromkeys(g for p in parts for g in p.genes_positive)),
        }
    return data, origins, notes
