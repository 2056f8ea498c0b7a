"""When a problem began: ``onsetAge``, ``onsetDateTime``, ``onsetPeriod``, ``onsetRange`` and
the free text of ``onsetString``, as an age in years."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .elements import as_date, as_float, years_between

__all__ = ["Onset", "age_in_years", "read_onset", "read_onset_string"]

_AGE_UNITS: dict[str, float] = {
    "a": 1.0, "y": 1.0, "yr": 1.0, "yrs": 1.0, "year": 1.0, "years": 1.0, "yo": 1.0, "y/o": 1.0,
    "mo": 1 / 12, "mos": 1 / 12, "month": 1 / 12, "months": 1 / 12,
    "wk": 7 / 365.25, "wks": 7 / 365.25, "week": 7 / 365.25, "weeks": 7 / 365.25,
    "d": 1 / 365.25, "day": 1 / 365.25, "days": 1 / 365.25,
}
_AGE = re.compile(
    r"^(?:(?:since|from|at|onset|began|beginning|starting|started)\s+)?(?:(?:the\s+)?(?:age|aged)\s*(?:of\s*)?)?"
    r"(\d{1,3}(?:\.\d+)?)\s*(a|y|yrs?|years?|yo|y/o|mos?|months?|wks?|weeks?|d|days?)?\.?"
    r"(?:\s+(?:old|of age))?$"
)
_YEAR = re.compile(r"^(?:(?:in|since|from)\s+)?(\d{4}(?:-\d{2}(?:-\d{2})?)?)$")


@dataclass(frozen=True, slots=True)
class Onset:
    """An onset read: the age in years, or why none (``age`` None)."""

    age: float | None
    reason: str = ""
    note: str = ""


def age_in_years(value: Any, unit: Any) -> float | None:
    """An age quantity (UCUM ``a``, ``mo``, ``wk``, ``d`` or the words) in years, or None."""
    number = as_float(value)
    factor = _AGE_UNITS.get(str(unit or "a").strip().lower())
    if number is None or factor is None or number < 0:
        return None
    return round(number * factor, 1)


def _age_of(start: date | None, birth: date | None) -> Onset:
    if start is None:
        return Onset(None, "is not a date")
    if birth is None:
        return Onset(None, "a date, but the Patient's birth date is not given: no onset age")
    if start < birth:
        return Onset(None, f"{start.isoformat()} is before the birth date {birth.isoformat()}")
    return Onset(years_between(birth, start))


def read_onset_string(text: str, *, birth: date | None, tables: Any) -> Onset:
    """Read the free text of ``Condition.onsetString``.

    An age ("age 12", "12 years", "at 6 months", "aged 40") or a year or ISO date ("2019",
    "since 2019-03"; with the birth date) is read; a word naming a moment ("birth",
    "congenital") is read as its age; a period of life ("childhood") and anything else are
    not read, with the reason.
    """
    words = " ".join(str(text).lower().replace(",", " ").split())
    moments = tables.onset.moments
    if words in moments:
        return Onset(float(moments[words]))
    match = _AGE.match(words)
    if match and (match.group(2) or re.search(r"\bage", words)):
        age = age_in_years(float(match.group(1)), match.group(2) or "a")
        if age is not None and age <= 120:
            return Onset(age)
    match = _YEAR.match(words)
    if match:
        return _age_of(as_date(match.group(1)), birth)
    period = next((p for p in tables.onset.periods if re.search(rf"\b{re.escape(p)}\b", words)), None)
    if period:
        return Onset(None, f"names a period of life ({period!r}), not an age: give onsetAge or onsetDateTime")
    return Onset(None, "cannot be read as an age (\"age 12\", \"12 years\") or a date (\"2019\")")


def read_onset(condition: Any, *, birth: date | None, tables: Any) -> Onset | None:
    """The onset of a Condition (or None when it gives none)."""
    if condition.onsetAge is not None:
        age = age_in_years(condition.onsetAge.value, condition.onsetAge.code or condition.onsetAge.unit)
        return Onset(age, "" if age is not None else "is not an age in a, mo, wk or d")
    if condition.onsetDateTime is not None:
        return _age_of(as_date(condition.onsetDateTime), birth)
    if condition.onsetPeriod is not None and condition.onsetPeriod.start is not None:
        return _age_of(as_date(condition.onsetPeriod.start), birth)
    if condition.onsetRange is not None:
        low = condition.onsetRange.low
        age = age_in_years(low.value, low.code or low.unit) if low is not None else None
        if age is None:
            return Onset(None, "a range of ages without a lower bound")
        return Onset(age, note=f"a range of ages: read as its lower bound, {age:g} years")
    if condition.onsetString is not None:
        return read_onset_string(str(condition.onsetString), birth=birth, tables=tables)
    return None
