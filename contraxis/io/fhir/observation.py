"""Observation: a laboratory result, a gene test, or a finding present or absent.

* A LOINC code that the laboratory resolver reads (:func:`contraxis.terminology.labs.lab_loinc_codes`:
  every code of each analyte, mass and moles, serum, plasma and blood) gives a ``labs`` row:
  the value (``valueQuantity``, with its ``comparator``), the unit (the UCUM code when the
  Quantity's system is UCUM and the code can be read, else its unit text, read through
  :func:`contraxis.terminology.units.normalise_unit` by the resolver), the interpretation
  (``Observation.interpretation``, or a qualitative ``valueCodeableConcept`` / ``valueString``
  such as "Low") and the date (``effective[x]``, else ``issued``). Every result of a test is
  kept (the latest decides). A panel given as one Observation with a ``component`` per test
  gives a row per component read. A result whose value or unit cannot be read is reported,
  not refused; an impossible value is left for the case reading to refuse, naming the likely
  intended unit.
* LOINC 69548-6 (genetic variant assessment) with the gene studied gives ``genetics``.
* Any other code: a finding, present or absent (``valueBoolean``, a negative value or
  interpretation), a past event, or an MRI finding (category ``imaging``).
"""

from __future__ import annotations

from typing import Any

from ...codes.patterns import GENE_SYMBOL
from .concepts import read_concept
from .elements import Located, as_date, as_float, codings, concept_text, concept_texts, describe, first_code, listed
from .parts import Context, Item, Part, not_read, skipped
from .sites import regions_of
from .systems import LOINC, UCUM

__all__ = ["lab_row", "presence", "read_observation"]

def presence(observation: Any, *, tables: Any) -> bool | None:
    """True present, False absent, None not said (from the value or the interpretation)."""
    table = tables.elements.presence
    if observation.valueBoolean is not None:
        return bool(observation.valueBoolean)
    for coding in codings(observation.valueCodeableConcept):
        code = str(coding.code or "")
        if code in table.snomed_negative or code in table.loinc_absent:
            return False
        if code in table.snomed_positive or code in table.loinc_present:
            return True
    for concept in listed(observation.interpretation):
        for coding in codings(concept):
            if coding.code in table.interpretation_negative:
                return False
            if coding.code in table.interpretation_positive:
                return True
    return None


def _unit(quantity: Any) -> str | None:
    from ...terminology.units import normalise_unit

    code = str(quantity.code).strip() if quantity.code else None
    text = str(quantity.unit).strip() if quantity.unit else None
    if code and quantity.system == UCUM and normalise_unit(code) is not None:
        return code
    if text and normalise_unit(text) is not None:
        return text
    if code and normalise_unit(code) is not None:  # a Units Ontology or SNOMED CT unit code
        return code
    return text or code


def _interpretation(observation: Any) -> tuple[str | None, str | None]:
    """(interpretation of the case format, the text it was read from) from
    ``Observation.interpretation`` or a qualitative value."""
    from ...terminology.labs import normalise_interpretation

    candidates: list[str] = []
    for concept in listed(observation.interpretation):
        candidates += [str(c.code) for c in codings(concept) if c.code] + concept_texts(concept)
    if observation.valueCodeableConcept is not None:
        candidates += concept_texts(observation.valueCodeableConcept)
        candidates += [str(c.code) for c in codings(observation.valueCodeableConcept) if c.code]
    if observation.valueString:
        candidates.append(str(observation.valueString))
    for text in candidates:
        found = normalise_interpretation(text)
        if found is not None:
            return found, text
    return None, (candidates[0] if candidates else None)


def _date(observation: Any) -> Any:
    period = observation.effectivePeriod
    for value in (observation.effectiveDateTime, observation.effectiveInstant,
                  period.end if period is not None else None, period.start if period is not None else None,
                  observation.issued):
        if value is not None:
            return as_date(value)
    return None


def lab_row(located: Located, loinc: str, ctx: Context, *, element: Any = None, at: str = "") -> Part:
    """One laboratory result as a ``labs`` row, or why it is not read.

    ``element`` is the Observation (default) or one of its ``component`` (a panel given as one
    Observation with a component per test, ``at`` its path); the date is the Observation's.
    """
    from ...terminology.labs import LabProblem, read_lab

    observation = located.resource
    element = observation if element is None else element
    prefix = f"{at}." if at else ""
    name = next((str(c.display) for c in codings(element.code) if c.system == LOINC and c.display), None) \
        or concept_text(element.code) or None
    shown = f"LOINC {loinc}" + (f" {name}" if name else "")
    row: dict[str, Any] = {"loinc": loinc}
    if name:
        row["name"] = name[:200]
    quantity = element.valueQuantity
    value = as_float(quantity.value) if quantity is not None else None
    interpretation, said = _interpretation(element)
    if value is None and interpretation is None:
        if element.dataAbsentReason is not None:
            return skipped(located, shown, f"no result: dataAbsentReason {concept_text(element.dataAbsentReason)!r}",
                           at=at)
        given = said or (element.valueString and str(element.valueString)) or None
        why = f"the result {given!r} is neither a number nor an interpretation Contraxis reads (low, high, normal, " \
              "abnormal, critical)" if given else "no result: no valueQuantity and no interpretation"
        return skipped(located, shown, why, at=f"{prefix}value")
    if value is not None:
        row["value"] = value
        row["unit"] = _unit(quantity)
        if quantity.comparator:
            row["comparator"] = str(quantity.comparator)
    if interpretation is not None:
        row["interpretation"] = interpretation
    when = _date(observation)
    if when is not None:
        if when > ctx.reference_date:
            return skipped(located, shown, f"dated {when.isoformat()}, after the reference date "
                                           f"{ctx.reference_date.isoformat()}", at=at)
        row["date"] = when.isoformat()
    try:
        read_lab(loinc, row.get("value"), row.get("unit"), comparator=row.get("comparator"),
                 interpretation=row.get("interpretation"))
    except LabProblem as problem:
        if problem.field != "value" or value is None:
            return skipped(located, shown, problem.message,
                           at=f"{prefix}valueQuantity" if value is not None else f"{prefix}value")
    return Part(labs=(Item(row, f"{located.path}.{at}" if at else located.path),))


def _panel(located: Located, ctx: Context, codes: tuple[str, ...]) -> Part | None:
    """The laboratory results of a panel given as components, or None when it has none."""
    rows: list[Item] = []
    notes = []
    for i, component in enumerate(listed(located.resource.component)):
        loinc = first_code(component.code, LOINC)
        if loinc and loinc in codes:
            part = lab_row(located, loinc, ctx, element=component, at=f"component[{i}]")
            rows += part.labs
            notes += part.not_read
    if not rows and not notes:
        return None
    return Part(labs=tuple(rows), not_read=tuple(notes))


def _gene(located: Located, ctx: Context) -> Part:
    observation = located.resource
    table = ctx.tables.elements.gene_test
    gene = None
    for component in listed(observation.component):
        if first_code(component.code, LOINC) != table.gene_studied_loinc:
            continue
        concept = component.valueCodeableConcept
        for candidate in (
            [c.display for c in codings(concept)] + [c.code for c in codings(concept)] + [concept_text(concept)]
        ):
            text = str(candidate or "").strip()
            if text and GENE_SYMBOL.fullmatch(text):
                gene = text
                break
        if gene:
            break
    if not gene:
        return skipped(located, "genetic variant assessment",
                       f"no gene studied (component {table.gene_studied_loinc}) as an HGNC symbol")
    found = presence(observation, tables=ctx.tables)
    if found is None:
        return skipped(
            located, f"gene test {gene}", "no result (valueCodeableConcept LA9633-4 present / LA9634-2 absent)"
        )
    return Part(genes_tested=(gene,), genes_positive=(gene,) if found else ())


def read_observation(located: Located, ctx: Context) -> Part:
    """Read an Observation (see the module's docstring).

    Observations whose status is not final (``registered``, ``preliminary``, ``cancelled``,
    ``entered-in-error``, ``unknown``) are not read and reported.
    """
    from ...terminology.labs import lab_loinc_codes

    observation = located.resource
    concept = observation.code
    if observation.status in ctx.tables.statuses.observation.ignored:
        return skipped(located, describe(concept), f"status is {observation.status!r}: not a final result")
    loinc = first_code(concept, LOINC)
    if loinc in ctx.tables.elements.gene_test.variant_loinc:
        return _gene(located, ctx)
    lab_codes = lab_loinc_codes()
    if loinc and loinc in lab_codes:
        return lab_row(located, loinc, ctx)
    panel = _panel(located, ctx, lab_codes) if observation.component else None
    if panel is not None:
        return panel
    if observation.dataAbsentReason is not None:
        return skipped(
            located, describe(concept), f"no result: dataAbsentReason {concept_text(observation.dataAbsentReason)!r}"
        )
    present = presence(observation, tables=ctx.tables)
    reading = read_concept(concept, codes=ctx.codes, tables=ctx.tables)
    notes = [not_read(located, describe(concept), note, at="code") for note in reading.notes]
    code_path = f"{located.path}.code"
    imaging = any(c.code == "imaging" for cat in listed(observation.category) for c in codings(cat))
    if imaging and reading.findings and present is not False:
        return Part(mri_findings=tuple(Item(f, code_path) for f in reading.findings if f.startswith("HP:")),
                    not_read=tuple(notes))
    if not reading.gives_anything:
        why = f"LOINC {loinc} is not a test Contraxis reads" if loinc else reading.why_not or "no code Contraxis reads"
        return Part(not_read=(*notes, not_read(located, describe(concept), why, at="code")))
    if present is False:
        return Part(absent=tuple(Item(f, code_path) for f in reading.findings), not_read=tuple(notes))
    fields: dict[str, Any] = {}
    if reading.course:
        fields["course"] = reading.course
    if reading.severity:
        fields["severity"] = reading.severity
    regions = [Item(r, code_path) for r in reading.regions]
    regions += [Item(r, f"{located.path}.bodySite")
                for r in regions_of([observation.bodySite] if observation.bodySite else [], tables=ctx.tables)]
    return Part(fields=fields, findings=tuple(Item(f, code_path) for f in reading.findings),
                history=tuple(Item(h, code_path) for h in reading.history), regions=tuple(regions),
                not_read=tuple(notes))
