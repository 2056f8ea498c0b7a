"""Patient: the case's ``sex`` (gender) and ``age`` (birthDate, at the reference date)."""

from __future__ import annotations

from datetime import date

from .elements import Located, as_date, years_between
from .parts import Context, Part, not_read

__all__ = ["birth_date", "read_patient"]


def birth_date(located: Located) -> date | None:
    """The Patient's birth date (a partial date read at its middle), or None."""
    return as_date(getattr(located.resource, "birthDate", None))


def read_patient(located: Located, ctx: Context) -> Part:
    """Read a Patient.

    ``gender`` female or male gives ``sex`` (other is reported: the case format records
    female, male or unknown); ``birthDate`` gives ``age`` at the reference date (whole years
    from two years on, tenths below), reported when it is after the reference date.
    """
    patient = located.resource
    fields: dict[str, object] = {}
    notes = []
    gender = patient.gender
    if gender in ("female", "male"):
        fields["sex"] = gender
    elif gender and gender != "unknown":
        notes.append(not_read(located, f"gender {gender!r}", "the case format records female, male or unknown",
                              at="gender"))
    birth = birth_date(located)
    if birth is not None:
        if birth > ctx.reference_date:
            notes.append(not_read(located, f"birthDate {patient.birthDate}",
                                  f"is after the reference date {ctx.reference_date.isoformat()}: age left out",
                                  at="birthDate"))
        else:
            fields["age"] = years_between(birth, ctx.reference_date)
    return Part(fields=fields, not_read=tuple(notes))
