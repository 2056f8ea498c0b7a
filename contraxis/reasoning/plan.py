"""Steps 5 to 8, read once every conclusion is known: the work-up, the treatment options,
the main diagnosis with its codes, and the questions the case leaves open."""

from __future__ import annotations

from dataclasses import dataclass

from ..assessment import CodeItem, Conclusion, Question, TreatmentItem, WorkupItem
from ..knowledge import KnowledgeBase
from .coding import Xrefs, codes, diagnose
from .facts import Concluded, Facts
from .questions import questions
from .treatment import treatments
from .workup import workup

__all__ = ["Plan", "plan"]


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do next, and what the case is called.

    ``workup`` most urgent first, with ``skipped`` notes on tests already done;
    ``treatments`` in the order to consider them and ``not_offered`` with the reason;
    ``diagnosis`` (None when no rule reaches one) with its ``codes`` and those of the
    findings and laboratory results; ``questions`` the case does not answer.
    """

    workup: tuple[WorkupItem, ...]
    skipped: tuple[str, ...]
    treatments: tuple[TreatmentItem, ...]
    not_offered: tuple[TreatmentItem, ...]
    diagnosis: Conclusion | None
    codes: tuple[CodeItem, ...]
    questions: tuple[Question, ...]


def plan(facts: Facts, concluded: Concluded, kb: KnowledgeBase, *, xrefs: Xrefs | None) -> Plan:
    """Read the work-up, treatment, diagnosis and question rules against every conclusion.

    Parameters
    ----------
    facts : Facts
        The facts of the case.
    concluded : Concluded
        What the steps before concluded, alerts included.
    kb : KnowledgeBase
        The knowledge base.
    xrefs : callable or None
        HPO id -> SNOMED CT / UMLS cross-references of a finding; None codes findings in HPO alone.
    """
    view = facts.view(concluded)
    tests, skipped = workup(view, kb)
    offered, not_offered = treatments(view, kb)
    diagnosis = diagnose(view, kb)
    return Plan(
        workup=tuple(tests),
        skipped=tuple(skipped),
        treatments=tuple(offered),
        not_offered=tuple(not_offered),
        diagnosis=diagnosis,
        codes=tuple(codes(facts, kb, diagnosis, xrefs=xrefs)),
        questions=tuple(questions(view, kb)),
    )
