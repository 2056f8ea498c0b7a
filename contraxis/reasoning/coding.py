"""Step 7: the main diagnosis and the standard codes (ICD-10-CM, ICD-11, HPO, and SNOMED CT
and UMLS through HPO's own cross-references, LOINC for the laboratory results)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..assessment import CodeItem, Conclusion
from ..knowledge import KnowledgeBase
from .facts import Facts, View
from .tables import explain, first_match

__all__ = ["diagnose", "codes"]

Xrefs = Callable[[str], dict[str, list[str]]]


def diagnose(view: View, kb: KnowledgeBase) -> Conclusion | None:
    """The main diagnosis: a condition of the knowledge base, with its rule."""
    hit = first_match(kb.diagnosis, view)
    if hit is None:
        return None
    row, used = hit
    condition = kb.conditions[row.row.value]
    return Conclusion(field="diagnosis", value=condition.id, label=condition.name, why=explain(kb, row, used))


def _finding_codes(code: str, kb: KnowledgeBase, xrefs: Xrefs | None) -> tuple[CodeItem, ...]:
    """A present finding's HPO code and the SNOMED CT and UMLS codes HPO cross-references it to."""
    name = kb.label(code)
    out = [CodeItem(system="HPO", code=code, display=name, role="finding")]
    if xrefs is not None:
        for system, values in xrefs(code).items():
            out.extend(
                CodeItem(system=system, code=value, display=name, role=f"finding (cross-reference of {code})")
                for value in values
            )
    return tuple(out)


def _excluded_code(code: str, kb: KnowledgeBase) -> CodeItem:
    return CodeItem(system="HPO", code=code, display=kb.label(code), role="excluded finding")


def codes(facts: Facts, kb: KnowledgeBase, diagnosis: Conclusion | None, *, xrefs: Xrefs | None) -> list[CodeItem]:
    """Codes for the main diagnosis, the findings and the laboratory results."""
    out: list[CodeItem] = []
    if diagnosis is not None and diagnosis.value is not None:
        condition = kb.conditions[diagnosis.value]
        out.append(
            CodeItem(
                system="ICD-10-CM", code=condition.icd10cm.code, display=condition.icd10cm.title, role="main diagnosis"
            )
        )
        out.append(
            CodeItem(system="ICD-11", code=condition.icd11.code, display=condition.icd11.title, role="main diagnosis")
        )
    for code in sorted(c for c in facts.present if c.startswith("HP:")):
        out.extend(kb.intern(("finding codes", code, xrefs), functools.partial(_finding_codes, code, kb, xrefs)))
    for code in sorted(c for c in facts.absent if c.startswith("HP:")):
        out.append(kb.intern(("excluded finding code", code), functools.partial(_excluded_code, code, kb)))
    from ..terminology.labs import analytes, format_value

    for lab in facts.case.labs:
        reading = lab.reading
        if reading is None:
            continue  # a test no rule reads: listed in not_read
        info = analytes()[reading.analyte]
        display = info.loinc_names.get(lab.loinc, info.name)
        if reading.value is not None and lab.value is not None:
            # As given, rounded as a laboratory reports it in that unit.
            value = format_value(reading.analyte, lab.value, lab.unit)
            shown = f"{reading.comparator or ''}{value} {lab.unit or ''}".strip()
        else:
            shown = str(reading.interpretation)
        out.append(CodeItem(system="LOINC", code=lab.loinc, display=display, role=f"laboratory result: {shown}"))
    return out
