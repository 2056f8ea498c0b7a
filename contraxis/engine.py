"""The assessment pipeline: case -> facts -> phenomenology -> classification -> etiology ->
alerts -> plan (work-up, treatment, diagnosis, codes, questions) -> assessment.

Each step is a pure function of the facts, of what the steps before it concluded and of the
knowledge base, and returns its own frozen result; the knowledge base (and, optionally, the
differential index and the code tables) are passed in, never global.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .assessment import Assessment, Conclusion, LabResult, NotReadItem, Summary
from .case import Case
from .knowledge import Compiled, KnowledgeBase, load_knowledge_base
from .knowledge.schema import Definition, Rule
from .reading import NotRead
from .reasoning.alerts import AlertsResult
from .reasoning.alerts import alerts as raise_alerts
from .reasoning.classification import ClassificationResult, classify
from .reasoning.coding import Xrefs
from .reasoning.etiology import EtiologyResult, etiology
from .reasoning.facts import Facts, View, build_facts
from .reasoning.phenomenology import PhenomenologyResult, phenomenology
from .reasoning.plan import Plan, plan

__all__ = ["assess", "rule_states"]

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
    _, view = _run(case, kb=kb, xrefs=None, differential=None)
    states = {row.id: False for rows in kb.stages().values() for row in rows}
    every: tuple[Compiled[Rule | Definition], ...] = (
        *kb.definitions.values(), *kb.named_forms, *kb.temporal_pattern, *kb.alerts, *kb.workup,
        *kb.treatment_rules, *kb.questions,
    )
    for row in every:
        states[row.id] = row.test(view) is not None
    # In a decision table only the row that decides fires.
    tables: tuple[tuple[Compiled[Rule], ...], ...] = (
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
        for decider in table:
            if decider.test(view) is not None:
                states[decider.id] = True
                break
    return states


def _run(
    case: Case,
    *,
    kb: KnowledgeBase,
    xrefs: Xrefs | None | bool,
    differential: Ranker | None,
) -> tuple[Assessment, View]:
    """Assess a case; return the assessment and the view of its facts once every step has run."""
    if xrefs is True:
        xrefs = _default_xrefs()
    elif xrefs is False:
        xrefs = None
    facts = build_facts(case, kb)
    named = phenomenology(facts, kb)
    axis1 = classify(facts, named.concluded, kb)
    cause = etiology(facts, axis1.concluded, kb)
    raised = raise_alerts(facts, cause.concluded, kb)
    todo = plan(facts, raised.concluded, kb, xrefs=xrefs)
    ranked = differential(case) if differential is not None else None
    return _assessment(facts, kb, named, axis1, cause, raised, todo, ranked), facts.view(raised.concluded)


def _assessment(
    facts: Facts,
    kb: KnowledgeBase,
    named: PhenomenologyResult,
    axis1: ClassificationResult,
    cause: EtiologyResult,
    raised: AlertsResult,
    todo: Plan,
    differential: dict[str, Any] | None,
) -> Assessment:
    """The assessment: the steps' results put together, with the top of the differential."""
    case = facts.case
    seen = raised.concluded
    conclusions: list[Conclusion] = []
    notes: list[str] = []
    if named.conclusion is not None:
        conclusions.append(named.conclusion)
    if named.note:
        notes.append(named.note)
    conclusions.extend(axis1.conclusions)
    conclusions.extend(cause.conclusions)
    notes.extend(todo.skipped)
    diagnosis = todo.diagnosis
    if diagnosis is not None:
        conclusions.append(diagnosis)
    icd10 = kb.conditions[diagnosis.value].icd10cm.code if diagnosis is not None and diagnosis.value else None
    if facts.unknown_drugs:
        notes.append(
            "Not in the knowledge base's drug classes (not counted as a cause): " + ", ".join(facts.unknown_drugs) + "."
        )
    summary = Summary(
        phenomenology=seen.phenomenology,
        focal_type=seen.focal_type,
        distribution=seen.distribution,
        onset_band=seen.onset_band,
        associated=seen.associated,
        etiology=seen.etiology,
        cause=seen.cause,
        alerts=tuple(a.code for a in raised.items),
        workup=tuple(w.code for w in todo.workup),
        treatments=tuple(t.code for t in todo.treatments),
        icd10cm=icd10,
    )
    classification: dict[str, Any] = {}
    if seen.phenomenology == "dystonia":
        classification = {
            "axis_i": {
                "onset_band": seen.onset_band,
                "distribution": seen.distribution,
                "focal_type": seen.focal_type,
                "regions": list(case.regions),
                "associated": seen.associated,
                "other_features": sorted(
                    f"{c} {kb.label(c)}" for c in facts.present
                    if c.startswith("HP:") and c not in kb.concepts["dystonia-sign"]
                ),
                **axis1.detail(),
            },
            "axis_ii": cause.axis_ii(),
            "etiology": seen.etiology,
        }
    return Assessment(
        case_id=case.id,
        knowledge_base_version=kb.version,
        hpo_release=kb.hpo_release,
        summary=summary,
        diagnosis=diagnosis.label if diagnosis is not None else "No diagnosis reached: see the questions",
        conclusions=tuple(conclusions),
        classification=classification,
        alerts=raised.items,
        workup=todo.workup,
        treatments=todo.treatments,
        not_offered=todo.not_offered,
        codes=todo.codes,
        missing=todo.questions,
        notes=tuple(notes),
        labs=tuple(LabResult(test=k, latest=f.shown, series=f.series) for k, f in facts.labs.items()),
        differential=differential,
    )
