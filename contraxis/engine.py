"""The assessment pipeline: case -> facts -> phenomenology -> classification -> etiology ->
alerts -> work-up and treatment -> codes -> assessment.

Each step is a function of the facts and the knowledge base; the knowledge base (and,
optionally, the differential index and the code tables) are passed in, never global.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .assessment import Assessment, Conclusion, LabResult, NotReadItem, Summary
from .case import Case
from .knowledge import KnowledgeBase, load_knowledge_base
from .reading import NotRead
from .reasoning.alerts import alerts as raise_alerts
from .reasoning.classification import classify
from .reasoning.coding import codes as code_findings
from .reasoning.coding import diagnose
from .reasoning.etiology import etiology
from .reasoning.facts import build_facts
from .reasoning.phenomenology import phenomenology
from .reasoning.questions import questions
from .reasoning.treatment import treatments
from .reasoning.workup import workup

__all__ = ["assess", "rule_states"]

Xrefs = Callable[[str], dict[str, list[str]]]
Ranker = Callable[[Case], dict[str, Any]]


def _default_xrefs() -> Xrefs:
    from .codes import load_code_tables

    return load_code_tables().xrefs


def assess(
    case: Case,
    *,
    kb: KnowledgeBase | None = None,
    xrefs: Xrefs | None | bool = True,
    differential: Ranker | None = None,
    not_read: Sequence[NotRead] = (),
) -> Assessment:
    """Assess one case.

    Parameters
    ----------
    case : Case
        The validated facts about the patient.
    kb : KnowledgeBase, optional
        The knowledge base; the bundled one (loaded once) by default.
    xrefs : callable or bool, default True
        HPO id -> SNOMED CT / UMLS cross-references; True uses HPO's own, False or None
        reports HPO codes alone.
    differential : callable, optional
        Case -> the top of the phenotype-driven differential (JSON-ready), included as
        ``Assessment.differential``.
    not_read : sequence of NotRead, optional
        What the reader of the input did not use or changed (``Reading.not_read``), carried
        into ``Assessment.not_read``.

    Returns
    -------
    Assessment
        Every conclusion with the rule, the facts and the source behind it.

    Raises
    ------
    CaseError
        When the case holds a code, laboratory test or unit the knowledge base does not know.
    """
    kb = kb or load_knowledge_base()
    assessment = _run(case, kb=kb, xrefs=xrefs, differential=differential)[0]
    unused = [
        NotRead.of(
            f"case.labs[{i}]",
            (
                f"{lab.loinc} "
                f"{lab.reading.given_value if lab.reading.given_value is not None else lab.reading.interpretation} "
                f"{lab.reading.given_unit or ''}"
            ).strip(),
            f"read as {lab.reading.analyte}, but no rule of knowledge base {kb.version} uses it",
        )
        for i, lab in enumerate(case.labs)
        if lab.reading is not None and lab.reading.analyte not in kb.labs
    ]
    not_read = (*not_read, *unused)
    if not_read:
        items = tuple(NotReadItem(path=n.path, value=n.value, reason=n.reason) for n in not_read)
        assessment = assessment.model_copy(update={"not_read": items})
    return assessment


def rule_states(case: Case, *, kb: KnowledgeBase | None = None) -> dict[str, bool]:
    """Whether each rule of the knowledge base holds for ``case`` once every step has run.

    Used to show that every rule has a case that fires it and a case that does not.
    """
    kb = kb or load_knowledge_base()
    _, facts = _run(case, kb=kb, xrefs=None, differential=None)
    states = {rule["id"]: False for rule in kb.rules()}
    every = (
        *kb.definitions.values(), *kb.named_forms, *kb.temporal_pattern, *kb.alerts, *kb.workup,
        *kb.treatment_rules, *kb.questions,
    )
    for row in every:
        states[row.id] = row.test(facts) is not None
    # In a decision table only the row that decides fires.
    tables = (
        kb.phenomenology,
        kb.focal_type,
        kb.associated,
        kb.etiology,
        kb.pathology,
        kb.inheritance,
        kb.cause,
        kb.diagnosis,
    )
    for table in tables:
        for row in table:
            if row.test(facts) is not None:
                states[row.id] = True
                break
    return states


def _run(
    case: Case,
    *,
    kb: KnowledgeBase,
    xrefs: Xrefs | None | bool,
    differential: Ranker | None,
) -> tuple[Assessment, Any]:
    if xrefs is True:
        xrefs = _default_xrefs()
    elif xrefs is False:
        xrefs = None
    facts = build_facts(case, kb)
    conclusions: list[Conclusion] = []
    notes: list[str] = []

    phen, mimic_note = phenomenology(facts, kb)
    if phen is not None:
        conclusions.append(phen)
    if mimic_note:
        notes.append(mimic_note)
    axis1, detail = classify(facts, kb)
    conclusions.extend(axis1)
    causes, axis2 = etiology(facts, kb)
    conclusions.extend(causes)
    raised = raise_alerts(facts, kb)
    tests, skipped = workup(facts, kb)
    notes.extend(skipped)
    offered, not_offered = treatments(facts, kb)
    diagnosis = diagnose(facts, kb)
    if diagnosis is not None:
        conclusions.append(diagnosis)
    coded = code_findings(facts, kb, diagnosis, xrefs=xrefs)
    icd10 = kb.conditions[diagnosis.value].icd10cm.code if diagnosis is not None and diagnosis.value else None
    unknown_drugs = [
        m.display for m in case.medications
        if m.ingredients and not any(i in kb.drug_membership or i in kb.treats_as for i in m.ingredients)
    ]
    if unknown_drugs:
        notes.append(
            "Not in the knowledge base's drug classes (not counted as a cause): " + ", ".join(unknown_drugs) + "."
        )
    v = facts.vars
    summary = Summary(
        phenomenology=v["phenomenology"],
        focal_type=v["focal_type"],
        distribution=v["distribution"],
        onset_band=v["onset_band"],
        associated=v["associated"],
        etiology=v["etiology"],
        cause=v["cause"],
        alerts=tuple(a.code for a in raised),
        workup=tuple(w.code for w in tests),
        treatments=tuple(t.code for t in offered),
        icd10cm=icd10,
    )
    classification: dict[str, Any] = {}
    if v["phenomenology"] == "dystonia":
        classification = {
            "axis_i": {
                "onset_band": v["onset_band"],
                "distribution": v["distribution"],
                "focal_type": v["focal_type"],
                "regions": list(case.regions),
                "associated": v["associated"],
                "other_features": sorted(
                    f"{c} {kb.label(c)}" for c in facts.present
                    if c.startswith("HP:") and c not in kb.concepts["dystonia-sign"]
                ),
                **detail,
            },
            "axis_ii": axis2,
            "etiology": v["etiology"],
        }
    return (Assessment(
        case_id=case.id,
        knowledge_base_version=kb.version,
        hpo_release=kb.hpo_release,
        summary=summary,
        diagnosis=diagnosis.label if diagnosis is not None else "No diagnosis reached: see the questions",
        conclusions=tuple(conclusions),
        classification=classification,
        alerts=tuple(raised),
        workup=tuple(tests),
        treatments=tuple(offered),
        not_offered=tuple(not_offered),
        codes=tuple(coded),
        missing=tuple(questions(facts, kb)),
        notes=tuple(notes),
        labs=tuple(LabResult(test=k, latest=f.shown, series=f.series) for k, f in facts.labs.items()),
        differential=differential(case) if differential is not None else None,
    ), facts)
