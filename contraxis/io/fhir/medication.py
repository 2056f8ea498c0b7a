"""MedicationRequest, MedicationStatement, MedicationAdministration and MedicationDispense:
the case's ``medications``.

The drug is given to the case as it is written: its name (``text``, else the RxNorm coding's
display) and its RxNorm code; the case reading resolves both through
:func:`contraxis.terminology.drugs.resolve_drug` (brand names, salts, clinical and branded
drug codes, display strings) and reports a drug nobody knows. A ``medicationReference`` is
followed to a contained Medication (``#id``) or one given with the resources
(``Medication/id``): its code, else each of its ingredients.

Status and dates (the value sets of ``data/statuses.yaml``):

* entered-in-error, cancelled, draft (and, for a statement, not-taken or intended): not read,
  and reported;
* active, on-hold, unknown: taken now, ``days_since_start`` from ``effective[x]`` /
  ``authoredOn`` (or the dispense validity start) / ``whenHandedOver``; on-hold and unknown
  are reported;
* a dose given (MedicationAdministration completed) is a drug taken from, and stopped at,
  its ``effective[x]``; a dispense (MedicationDispense completed) a drug taken from when it
  was handed over, until its ``daysSupply`` runs out;
* stopped, completed (or an end date before the reference date): taken in the past,
  ``days_since_stop`` from ``effectivePeriod.end`` or ``dispenseRequest.validityPeriod.end``.
  With no stop date, a drug last dated within ``stop_long_past_days`` is read as stopped at
  the latest on the reference date (reported). A drug stopped longer ago (by its stop date,
  else its last date) is left out as long past (reported).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ...reading import NotRead
from .elements import Located, as_date, codings, describe, listed
from .parts import Context, Item, Part, not_read, skipped
from .systems import RXNORM

__all__ = ["DrugGiven", "drug_key", "drugs_of", "merge_medications", "read_medication_administration",
           "read_medication_dispense", "read_medication_request", "read_medication_statement"]


@dataclass(frozen=True, slots=True)
class DrugGiven:
    """A drug as an order or statement names it: its name and/or RxNorm code, and where."""

    name: str | None
    rxnorm: str | None
    path: str

    def row(self) -> dict[str, Any]:
        """The case format's medication fields for it."""
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name[:200]
        if self.rxnorm:
            out["rxnorm"] = self.rxnorm
        return out

    @property
    def shown(self) -> str:
        return " ".join(p for p in (self.name, f"RxNorm {self.rxnorm}" if self.rxnorm else None) if p) or "(no drug)"


def _concept_drug(concept: Any, path: str) -> DrugGiven | None:
    """Name and RxNorm code of a medication CodeableConcept."""
    from ...terminology.drugs import known_rxnorm

    rx = [c for c in codings(concept) if c.system == RXNORM and c.code and str(c.code).strip().isdigit()]
    known = known_rxnorm()
    chosen = next((c for c in rx if str(c.code).strip() in known), rx[0] if rx else None)
    name = getattr(concept, "text", None) or (chosen.display if chosen is not None else None) \
        or next((c.display for c in codings(concept) if c.display), None)
    rxnorm = str(chosen.code).strip() if chosen is not None else None
    if not name and not rxnorm:
        return None
    return DrugGiven(str(name).strip() if name else None, rxnorm, path)


def _reference_target(reference: str, located: Located, ctx: Context) -> tuple[Any, str] | None:
    """The Medication a reference names: contained (``#id``) or given with the resources."""
    if reference.startswith("#"):
        for i, contained in enumerate(listed(getattr(located.resource, "contained", None))):
            if contained.get_resource_type() == "Medication" and contained.id == reference[1:]:
                return contained, f"{located.path}.contained[{i}]"
        return None
    target = ctx.references.get(reference)
    if target is None and "/Medication/" in reference:
        target = ctx.references.get("Medication/" + reference.rsplit("/Medication/", 1)[1].split("/_history")[0])
    return target


def _medication_drugs(medication: Any, path: str, located: Located, ctx: Context,
                      depth: int = 0) -> list[DrugGiven]:
    found = _concept_drug(medication.code, f"{path}.code")
    if found is not None:
        return [found]
    drugs: list[DrugGiven] = []
    for i, ingredient in enumerate(listed(getattr(medication, "ingredient", None))):
        where = f"{path}.ingredient[{i}]"
        if ingredient.itemCodeableConcept is not None:
            item = _concept_drug(ingredient.itemCodeableConcept, f"{where}.itemCodeableConcept")
            if item is not None:
                drugs.append(item)
        elif ingredient.itemReference is not None and ingredient.itemReference.reference and depth < 2:
            target = _reference_target(str(ingredient.itemReference.reference), located, ctx)
            if target is not None:
                drugs += _medication_drugs(target[0], target[1], located, ctx, depth + 1)
    return drugs


def drugs_of(located: Located, ctx: Context) -> tuple[list[DrugGiven], str | None]:
    """The drugs an order or statement names, or why none can be read.

    Returns
    -------
    (list of DrugGiven, str or None)
        The drugs (one, or each ingredient of a referenced Medication without a code) and,
        when there is none, the reason.
    """
    resource = located.resource
    concept = resource.medicationCodeableConcept
    if concept is not None:
        found = _concept_drug(concept, f"{located.path}.medicationCodeableConcept")
        if found is None:
            return [], f"{describe(concept)}: no RxNorm code and no name"
        return [found], None
    reference = resource.medicationReference
    text = str(reference.reference) if reference is not None and reference.reference else None
    if text is None:
        display = getattr(reference, "display", None) if reference is not None else None
        if display:
            return [DrugGiven(str(display), None, f"{located.path}.medicationReference.display")], None
        return [], "no medication[x]"
    target = _reference_target(text, located, ctx)
    if target is None:
        display = getattr(reference, "display", None)
        if display:
            return [DrugGiven(str(display), None, f"{located.path}.medicationReference.display")], None
        return [], f"medicationReference {text!r}: the Medication it refers to is not in the input"
    drugs = _medication_drugs(target[0], target[1], located, ctx)
    if not drugs:
        return [], f"medicationReference {text!r}: the Medication has no code, name or ingredient"
    return drugs, None


def _days(start: date | None, ctx: Context) -> int | None:
    if start is None or start > ctx.reference_date:
        return None
    return (ctx.reference_date - start).days


def _read(located: Located, ctx: Context, *, statuses: Any, start: date | None, end: date | None,
          start_field: str) -> Part:
    resource = located.resource
    status = str(resource.status or "")
    drugs, why = drugs_of(located, ctx)
    shown = ", ".join(d.shown for d in drugs) or describe(resource.medicationCodeableConcept)
    if status in statuses.ignored:
        return skipped(located, shown, f"status is {status!r}: not taken, not read", at="status")
    if not drugs:
        return skipped(located, shown, f"no drug can be read: {why}")
    notes: list[NotRead] = []
    if start is not None and start > ctx.reference_date:
        notes.append(not_read(located, f"{shown} started {start.isoformat()}",
                              "the start is after the reference date: days_since_start left out", at=start_field))
        start = None
    fields: dict[str, int] = {}
    past = status in statuses.past or (end is not None and end < ctx.reference_date)
    limit = ctx.tables.statuses.stop_long_past_days
    if past:
        if end is not None:
            stop = min(end, ctx.reference_date)
            days = (ctx.reference_date - stop).days
            if days > limit:
                return skipped(located, shown, f"stopped {stop.isoformat()}, {days} days before the reference date: "
                                               f"left out as long past (more than {limit} days)", at="status")
            fields["days_since_stop"] = days
        else:
            last = (
                start
                or as_date(getattr(resource, "authoredOn", None))
                or as_date(getattr(resource, "dateAsserted", None))
            )
            if last is None or (ctx.reference_date - last).days > limit:
                dated = f"last dated {last.isoformat()}" if last else "no date"
                return skipped(located, shown, f"status is {status!r} with no stop date and {dated}: left out as "
                                               f"long past (more than {limit} days, or undated)", at="status")
            fields["days_since_stop"] = 0
            notes.append(not_read(located, shown, f"status is {status!r} with no stop date: read as stopped at the "
                                                  f"latest on the reference date (last dated {last.isoformat()})",
                                  at="status"))
    elif status not in statuses.current:
        notes.append(
            not_read(located, shown, f"status {status!r} is not a known status: read as taken now", at="status")
        )
    elif status != "active":
        notes.append(not_read(located, shown, f"status is {status!r}: read as taken now", at="status"))
    days = _days(start, ctx)
    if days is not None:
        fields["days_since_start"] = days
    items = tuple(Item({**drug.row(), **fields}, drug.path) for drug in drugs)
    return Part(medications=items, not_read=tuple(notes))


def read_medication_request(located: Located, ctx: Context) -> Part:
    """Read a MedicationRequest (see the module's docstring)."""
    request = located.resource
    validity = request.dispenseRequest.validityPeriod if request.dispenseRequest is not None else None
    start = as_date(request.authoredOn) or (as_date(validity.start) if validity is not None else None)
    end = as_date(validity.end) if validity is not None else None
    field = "authoredOn" if request.authoredOn is not None else "dispenseRequest.validityPeriod.start"
    return _read(located, ctx, statuses=ctx.tables.statuses.medication_request, start=start, end=end,
                 start_field=field)


def read_medication_statement(located: Located, ctx: Context) -> Part:
    """Read a MedicationStatement (see the module's docstring)."""
    statement = located.resource
    period = statement.effectivePeriod
    start = as_date(statement.effectiveDateTime) or (as_date(period.start) if period is not None else None)
    end = as_date(period.end) if period is not None else None
    if end is None and statement.effectiveDateTime is not None and statement.status == "completed":
        end = as_date(statement.effectiveDateTime)  # a dose taken once, at that time
    field = "effectiveDateTime" if statement.effectiveDateTime is not None else "effectivePeriod.start"
    return _read(located, ctx, statuses=ctx.tables.statuses.medication_statement, start=start, end=end,
                 start_field=field)


def read_medication_administration(located: Located, ctx: Context) -> Part:
    """Read a MedicationAdministration: a dose given at ``effective[x]`` (see the module's docstring)."""
    given = located.resource
    period = given.effectivePeriod
    start = as_date(given.effectiveDateTime) or (as_date(period.start) if period is not None else None)
    end = as_date(period.end) if period is not None else None
    if end is None and given.status in ctx.tables.statuses.medication_administration.past:
        end = start  # one dose: given and over at that time
    field = "effectiveDateTime" if given.effectiveDateTime is not None else "effectivePeriod.start"
    return _read(located, ctx, statuses=ctx.tables.statuses.medication_administration, start=start, end=end,
                 start_field=field)


def read_medication_dispense(located: Located, ctx: Context) -> Part:
    """Read a MedicationDispense: taken from ``whenHandedOver`` (else ``whenPrepared``) until
    its ``daysSupply`` (in days) runs out (see the module's docstring)."""
    from datetime import timedelta

    dispense = located.resource
    start = as_date(dispense.whenHandedOver) or as_date(dispense.whenPrepared)
    end = None
    supply = dispense.daysSupply
    if start is not None and supply is not None and supply.value is not None \
            and str(supply.code or supply.unit or "d").strip().lower() in ("d", "day", "days"):
        end = start + timedelta(days=int(float(supply.value)))
        if end >= ctx.reference_date:
            end = None
    field = "whenHandedOver" if dispense.whenHandedOver is not None else "whenPrepared"
    return _read(located, ctx, statuses=ctx.tables.statuses.medication_dispense, start=start, end=end,
                 start_field=field)


def drug_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """What makes two medication rows the same drug: its ingredients when they resolve, else
    the name and code as given."""
    from ...terminology.drugs import resolve_drug

    try:
        reading = resolve_drug(row.get("name"), rxnorm=row.get("rxnorm"))
    except ValueError:
        reading = None
    if reading is not None and reading.ingredients:
        return reading.ingredients
    return (str(row.get("name") or "").casefold(), str(row.get("rxnorm") or ""))


def _rank(row: Mapping[str, Any]) -> tuple[int, int, int]:
    """Current before past; among current the longest taken; among past the latest stopped."""
    if "days_since_stop" not in row:
        return (0, -int(row.get("days_since_start", -1)), 0)
    return (1, int(row["days_since_stop"]), -int(row.get("days_since_start", -1)))


def merge_medications(items: Iterable[Item]) -> list[Item]:
    """One row per drug: of several orders or statements for the same drug, the one taken
    now (started longest ago), else the one stopped last. Input order is kept."""
    best: dict[tuple[str, ...], Item] = {}
    for item in items:
        key = drug_key(item.value)
        if key not in best or _rank(item.value) < _rank(best[key].value):
            best[key] = item
    return list(best.values())
