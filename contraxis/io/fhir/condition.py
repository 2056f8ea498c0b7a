"""Condition: a finding (present, or absent when refuted), a past event, regions, the onset
age and the severity; problem-list codes (ICD-10-CM, ICD-11, SNOMED CT) read through
:func:`contraxis.terminology.problems.read_problem`."""

from __future__ import annotations

from .concepts import read_concept
from .elements import Located, codings, describe, listed
from .onset import read_onset
from .parts import Context, Item, Part, not_read
from .sites import regions_of
from .systems import SNOMED

__all__ = ["read_condition"]

_NOT_YET = frozenset({"unconfirmed", "provisional", "differential"})
_PAST = frozenset({"resolved", "inactive", "remission"})


def read_condition(located: Located, ctx: Context) -> Part:
    """Read a Condition.

    * ``verificationStatus`` entered-in-error: not read; unconfirmed, provisional or
      differential: not read (not yet a fact); refuted: its findings are absent.
    * ``clinicalStatus`` resolved, inactive or remission: a past event still counts; a past
      finding is not a present one (reported).
    * The code's findings, regions and past events; a code naming only a diagnosis, or no
      code Contraxis reads, is reported.
    * ``bodySite`` gives regions; ``onset[x]`` the onset age (``onsetString`` read where it
      can be, reported otherwise); ``severity`` (condition-severity) the severity.
    """
    condition = located.resource
    path = located.path
    verification = [str(c.code) for c in codings(condition.verificationStatus)]
    clinical = [str(c.code) for c in codings(condition.clinicalStatus)]
    shown = describe(condition.code)
    if "entered-in-error" in verification:
        return Part(not_read=(not_read(located, shown, "verificationStatus is entered-in-error"),))
    refuted = "refuted" in verification
    pending = [v for v in verification if v in _NOT_YET]
    if pending and not refuted:
        return Part(not_read=(not_read(located, shown, f"verificationStatus is {pending[0]!r}: not yet a fact"),))
    reading = read_concept(condition.code, codes=ctx.codes, tables=ctx.tables)
    notes = [not_read(located, shown, note, at="code") for note in reading.notes]
    if not reading.gives_anything:
        return Part(not_read=(*notes, not_read(located, shown, _why_not(reading), at="code")))
    code_path = f"{path}.code"
    if refuted:
        return Part(absent=tuple(Item(f, code_path) for f in reading.findings), not_read=tuple(notes))
    history = tuple(Item(h, code_path) for h in reading.history)
    past = [c for c in clinical if c in _PAST]
    if past:
        if reading.findings or reading.regions:
            notes.append(not_read(located, shown, f"clinicalStatus is {past[0]!r}: a past finding is not a present one",
                                  at="clinicalStatus"))
        return Part(history=history, not_read=tuple(notes))
    fields: dict[str, object] = {}
    if reading.course:
        fields["course"] = reading.course
    if reading.severity:
        fields["severity"] = reading.severity
    for coding in codings(condition.severity):
        code = str(coding.code or "")
        if coding.system == SNOMED and code in ctx.tables.elements.severity_snomed.codes:
            fields["severity"] = ctx.tables.elements.severity_snomed.codes[code]
    regions = [Item(r, code_path) for r in reading.regions]
    regions += [Item(r, f"{path}.bodySite") for r in regions_of(listed(condition.bodySite), tables=ctx.tables)]
    onsets: tuple[float, ...] = ()
    onset = read_onset(condition, birth=ctx.birth, tables=ctx.tables) if reading.findings else None
    if onset is not None:
        field = next((f for f in ("onsetAge", "onsetDateTime", "onsetPeriod", "onsetRange", "onsetString")
                      if getattr(condition, f, None) is not None), "onset")
        value = getattr(condition, field, None)
        if onset.age is None:
            notes.append(not_read(located, f"{field} {value!s}"[:120], f"onset not read: {onset.reason}", at=field))
        else:
            onsets = (onset.age,)
            if onset.note:
                notes.append(not_read(located, f"{field} {value!s}"[:120], onset.note, at=field))
    return Part(
        fields=fields, findings=tuple(Item(f, code_path) for f in reading.findings), history=history,
        regions=tuple(regions), onsets=onsets, not_read=tuple(notes),
    )


def _why_not(reading: object) -> str:
    labels = getattr(reading, "labels", ())
    diagnoses = getattr(reading, "diagnoses", ())
    if diagnoses:
        named = ", ".join(labels or diagnoses)
        return (f"names the diagnosis {named}, which gives the case no finding: give the findings "
                "(HPO terms) it shows")
    return str(getattr(reading, "why_not", None) or "no code Contraxis reads")
