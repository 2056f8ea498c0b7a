"""Fixtures of the FHIR reader tests: resource builders and a reader at a pinned date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from contraxis.io.fhir import read_bundle, read_resources

DAY = date(2026, 3, 2)
HPO = "http://human-phenotype-ontology.org"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD11 = "http://id.who.int/icd/release/11/mms"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"


def patient(pid: str = "p1", **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1970-06-15", **extra}


def condition(cid: str, *codings: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": s, "code": c} for s, c in codings]}, **extra}


def lab(oid: str, loinc: str, value: Any = None, unit: str | None = None, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Observation", "id": oid, "status": "final",
                                "code": {"coding": [{"system": LOINC, "code": loinc}]},
                                "subject": {"reference": "Patient/p1"}}
    if value is not None:
        resource["valueQuantity"] = {"value": value, **({"unit": unit} if unit else {})}
    return {**resource, **extra}


def order(oid: str, status: str = "active", concept: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "MedicationRequest", "id": oid, "status": status, "intent": "order",
                                "subject": {"reference": "Patient/p1"}}
    if concept is not None:
        resource["medicationCodeableConcept"] = concept
    return {**resource, **extra}


def bundle(*resources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources], **extra}


@pytest.fixture(scope="session")
def read() -> Callable[..., Any]:
    """Read resources at the pinned date."""

    def run(*resources: dict[str, Any], **options: Any) -> Any:
        return read_resources(list(resources), reference_date=options.pop("reference_date", DAY), **options)

    return run


@pytest.fixture(scope="session")
def read_one_bundle() -> Callable[..., Any]:
    def run(data: dict[str, Any], **options: Any) -> Any:
        return read_bundle(data, reference_date=options.pop("reference_date", DAY), **options)

    return run


def reasons(reading: Any) -> dict[str, str]:
    """The reader's own not-read reasons by path (the case reading's rows, whose paths end with
    the case path in brackets, are left out)."""
    return {n.path: n.reason for n in reading.not_read if not n.path.endswith(")")}
