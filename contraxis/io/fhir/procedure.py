"""Procedure and DiagnosticReport: a brain MRI and its result, treatments tried with their
response (deep brain stimulation, botulinum toxin, ...), operations that are past events
(thyroidectomy); the words and patterns are in ``data/procedures.yaml``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .concepts import read_concept
from .elements import Located, codings, concept_text, describe, listed
from .parts import Context, Item, Part, not_read, skipped

__all__ = ["read_diagnostic_report", "read_procedure"]


def _any(patterns: Iterable[str], text: str) -> bool:
    return any(re.search(p, text) for p in patterns)


def _is_brain_mri(text: str, tables: Any) -> bool:
    mri = tables.procedures.mri
    return _any(mri.study, text) and _any(mri.site, text)


def _mri_result(texts: Iterable[str], tables: Any) -> str | None:
    mri = tables.procedures.mri
    for text in texts:
        lowered = text.lower()
        if _any(mri.abnormal, lowered):
            return "abnormal"
        if _any(mri.normal, lowered):
            return "normal"
    return None


def read_procedure(located: Located, ctx: Context) -> Part:
    """Read a Procedure: a past operation (coded, or named in its text), a brain MRI with its
    outcome, or a treatment tried with its response (outcome: good, partial or none)."""
    procedure = located.resource
    concept = procedure.code
    text = " ".join([concept_text(concept)] + [str(c.display or "") for c in codings(concept)]).lower()
    status = procedure.status
    shown = describe(concept)
    tables = ctx.tables.procedures
    reading = read_concept(concept, codes=ctx.codes, tables=ctx.tables)
    history = list(reading.history) or [hx for word, hx in tables.history_words.items() if word in text][:1]
    if history and status == "completed":
        return Part(history=tuple(Item(h, f"{located.path}.code") for h in history))
    if _is_brain_mri(text, ctx.tables):
        if status == "not-done":
            return Part(mri=Item("not_done", located.path))
        if status != "completed":
            return skipped(located, shown, f"status is {status!r}: the MRI is not done yet")
        outcome = [concept_text(procedure.outcome)] + [str(n.text or "") for n in listed(procedure.note)]
        result = _mri_result(outcome, ctx.tables)
        if result is None:
            return skipped(
                located, shown, "a brain MRI was done but its result (outcome: normal or abnormal) is not given"
            )
        return Part(mri=Item(result, located.path))
    treatment = next(
        (t for word, t in tables.treatment_words.items() if re.search(rf"\b{re.escape(word)}", text)), None
    )
    if treatment:
        if status != "completed":
            return skipped(located, shown, f"status is {status!r}: not a treatment tried")
        outcome = concept_text(procedure.outcome).lower()
        response = next((r for r, words in tables.response_words.items() if any(w in outcome for w in words)), None)
        if response is None:
            return skipped(
                located, shown, "a treatment tried, but its response (outcome: good, partial or none) is not given"
            )
        return Part(treatments=(Item({"treatment": treatment, "response": response}, located.path),))
    return skipped(located, shown, "not a brain MRI, a treatment of the case format or a past event Contraxis reads")


def read_diagnostic_report(located: Located, ctx: Context) -> Part:
    """Read a DiagnosticReport: only brain MRI reports, by their conclusion (normal or
    abnormal) and their HPO ``conclusionCode`` findings."""
    report = located.resource
    concept = report.code
    shown = describe(concept)
    if report.status in ctx.tables.statuses.diagnostic_report.ignored:
        return skipped(located, shown, f"status is {report.status!r}: not a final report")
    if not _is_brain_mri(concept_text(concept).lower() + " " + " ".join(
            str(c.display or "").lower() for c in codings(concept)), ctx.tables):
        return skipped(located, shown, "only brain MRI reports are read")
    findings: list[Item] = []
    notes = []
    for i, conclusion in enumerate(listed(report.conclusionCode)):
        reading = read_concept(conclusion, codes=ctx.codes, tables=ctx.tables)
        terms = [f for f in reading.findings if f.startswith("HP:")]
        if terms:
            findings += [Item(t, f"{located.path}.conclusionCode[{i}]") for t in terms]
        else:
            notes.append(not_read(located, describe(conclusion), reading.why_not or "not an HPO term",
                                  at=f"conclusionCode[{i}]"))
    result = _mri_result([str(report.conclusion or "")], ctx.tables)
    if findings:
        return Part(mri=Item("abnormal", located.path), mri_findings=tuple(findings), not_read=tuple(notes))
    if result:
        return Part(mri=Item(result, located.path), not_read=tuple(notes))
    return Part(
        not_read=(
            *notes,
            not_read(located, shown, "the report gives no conclusion (normal or abnormal) nor HPO conclusionCode"),
        )
    )


def read_family_member_history(located: Located, ctx: Context) -> Part:
    """Read a FamilyMemberHistory: a relative with a recorded condition gives
    ``family_history: true``."""
    if located.resource.status == "entered-in-error":
        return skipped(located, "family history", "status is 'entered-in-error'")
    return Part(fields={"family_history": True})
