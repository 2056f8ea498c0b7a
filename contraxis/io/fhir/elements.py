"""Small pure helpers over FHIR R4 elements (typed ``fhir.resources`` models).

Each reader of the package works on validated models; these helpers read the pieces they
share: codings and text of a CodeableConcept, dates (partial dates included), ages, and how to
name a resource or a concept in a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "Located",
    "as_date",
    "as_float",
    "codings",
    "concept_text",
    "concept_texts",
    "describe",
    "first_code",
    "hpo_id",
    "listed",
    "patient_id_of",
    "years_between",
]

_HPO_CODE = re.compile(r"^(?:HP:|HP_)?(\d{7})$")
_PATIENT_REFERENCE = re.compile(r"(?:^|/)Patient/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


@dataclass(frozen=True, slots=True)
class Located:
    """A validated resource and where it sits in the input.

    Parameters
    ----------
    resource : fhir.resources model
        The resource, validated (and coerced where its shape was non-conformant).
    path : str
        Where it is in the input (``bundle.entry[3].resource``,
        ``prefetch.conditions.entry[0].resource``).
    """

    resource: Any
    path: str

    @property
    def kind(self) -> str:
        """The resource type (``Observation``)."""
        return str(self.resource.get_resource_type())

    @property
    def label(self) -> str:
        """``Observation/o3``, or the resource type when it has no id."""
        rid = getattr(self.resource, "id", None)
        return f"{self.kind}/{rid}" if rid else self.kind


def listed(value: Any) -> list[Any]:
    """A list field as a list (None gives [])."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def codings(concept: Any) -> list[Any]:
    """The codings of a CodeableConcept (none for None)."""
    if concept is None:
        return []
    return [c for c in listed(getattr(concept, "coding", None)) if c is not None]


def concept_text(concept: Any) -> str:
    """The concept's text, else the first coding's display, else ''."""
    if concept is None:
        return ""
    if getattr(concept, "text", None):
        return str(concept.text)
    for coding in codings(concept):
        if coding.display:
            return str(coding.display)
    return ""


def concept_texts(concept: Any) -> list[str]:
    """Every text a concept holds: its text, then each coding's display."""
    if concept is None:
        return []
    texts = [str(concept.text)] if getattr(concept, "text", None) else []
    texts += [str(c.display) for c in codings(concept) if c.display]
    return texts


def first_code(concept: Any, systems: Iterable[str] | str) -> str | None:
    """The first code of a concept in one of ``systems``."""
    wanted = {systems} if isinstance(systems, str) else set(systems)
    for coding in codings(concept):
        if coding.system in wanted and coding.code:
            return str(coding.code).strip()
    return None


def describe(concept: Any) -> str:
    """A concept as readable text: ``http://loinc.org|2064-4 'Ceruloplasmin'; ...``."""
    parts = []
    for coding in codings(concept):
        label = f"{coding.system or '?'}|{coding.code or '?'}"
        if coding.display:
            label += f" {coding.display!r}"
        parts.append(label)
    text = getattr(concept, "text", None) if concept is not None else None
    if text and not parts:
        parts.append(repr(text))
    return "; ".join(parts) or "(no code)"


def as_date(value: Any) -> date | None:
    """A FHIR date, dateTime or instant as a date.

    A year alone is read as its 1 July, a year and month as its 15th (the middle), so that
    an age counted from a partial date is off by half a period at most.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 7, 1)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return date(int(text[:4]), int(text[5:7]), 15)
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def as_float(value: Any) -> float | None:
    """A FHIR decimal (``Decimal``, int or float) as a float; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return None


def years_between(start: date, end: date) -> float:
    """Whole years between two dates from two years on; tenths of a year below two."""
    years = (end - start).days / 365.25
    if years >= 2:
        return float(int(years))
    return round(max(years, 0.0), 1)


def hpo_id(code: Any) -> str | None:
    """``HP:0000473`` from ``HP:0000473``, ``HP_0000473`` or ``0000473``; None otherwise."""
    match = _HPO_CODE.match(str(code or "").strip())
    return f"HP:{match.group(1)}" if match else None


def patient_id_of(reference: Any) -> str | None:
    """The Patient id a Reference names (``Patient/p1``, ``https://ehr/fhir/Patient/p1``),
    or None when it names no Patient by id (``urn:uuid:...``, a display only)."""
    text = getattr(reference, "reference", None) if reference is not None else None
    if not text:
        return None
    match = _PATIENT_REFERENCE.search(str(text))
    return match.group(1) if match else None
