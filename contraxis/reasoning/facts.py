"""The facts of a case, normalised once for the rules to read.

:func:`build_facts` turns a :class:`~contraxis.case.Case` into :class:`Facts`: finding codes
as sets, laboratory results in the knowledge base's units, drugs with their classes,
history, gene results and treatments tried. Each reasoning step then records its
conclusion (phenomenology, distribution, ...) with :meth:`Facts.set`, so that later rules
can read it; nothing reaches back to change an earlier step.
"""

from __future__ import annotations

from typing import Any

from ..case import Case, Medication
from ..errors import CaseError, Problem
from ..knowledge import KnowledgeBase

__all__ = ["Facts", "build_facts"]

_CASE_FIELDS = ("medications", "labs", "history", "imaging", "genetics", "treatment_history", "findings", "absent")


class Facts:
    """What the rules read about one case. Built by :func:`build_facts`."""

    __slots__ = (
        "case", "kb", "present", "absent", "regions", "labs", "history", "gene_positive",
        "gene_tested", "tried", "taking", "vars", "alerts", "_memo", "_drugs",
    )

    def __init__(self, case: Case, kb: KnowledgeBase, labs: dict[str, float]) -> None:
        self.case = case
        self.kb = kb
        self.present = case.present
        self.absent = frozenset(case.absent)
        self.regions = frozenset(case.regions)
        self.labs = labs
        self.history = frozenset(case.history)
        genetics = case.genetics
        self.gene_positive = frozenset(genetics.positive) if genetics else frozenset()
        self.gene_tested = frozenset(genetics.tested) if genetics else frozenset()
        self.tried = tuple((t.treatment, t.response) for t in case.treatment_history)
        self.taking = tuple(
            (m.name, kb.treats_as[m.name]) for m in case.medications if m.name in kb.treats_as
        )
        mri = case.imaging.mri_brain if case.imaging else None
        years = None
        if case.age is not None and case.onset_age is not None:
            years = case.age - case.onset_age
        self.vars: dict[str, Any] = {
            "course": case.course,
            "severity": case.severity,
            "sex": case.sex,
            "mri": mri,
            "family_history": case.family_history,
            "disabling": case.disabling,
            "age": case.age,
            "onset_age": case.onset_age,
            "years_since_onset": years,
            "region_count": len(self.regions),
            "phenomenology": None, "focal_type": None, "distribution": None, "onset_band": None,
            "associated": None, "etiology": None, "cause": None,
        }
        self.alerts: set[str] = set()
        self._memo: dict[str, tuple[str, ...] | None] = {}
        self._drugs: dict[str, list[Medication]] = {}
        for med in case.medications:
            for cls in kb.drug_membership.get(med.name, ()):
                self._drugs.setdefault(cls, []).append(med)

    # -- read by conditions --------------------------------------------------------------
    def var(self, name: str) -> Any:
        return self.vars[name]

    def set(self, name: str, value: Any) -> None:
        """Record the conclusion of a reasoning step; definitions that read it are evaluated afresh."""
        self.vars[name] = value
        self._forget(name)

    def raise_alert(self, code: str) -> None:
        """Record an alert; definitions that read alerts are evaluated afresh."""
        self.alerts.add(code)
        self._forget("alerts")

    def _forget(self, name: str) -> None:
        definitions = self.kb.definitions
        for key in [k for k in self._memo if name in definitions[k].depends]:
            del self._memo[key]

    def known(self, name: str) -> bool:
        if name in _CASE_FIELDS:
            return name in self.case.model_fields_set
        if name == "region_count":
            return bool(self.regions)
        return self.vars.get(name) is not None

    def label(self, code: str) -> str:
        return self.kb.label(code)

    def drugs_in(self, cls: str) -> list[Medication]:
        return self._drugs.get(cls, [])

    def started_before_onset(self, med: Medication) -> bool:
        """Whether the drug was started before the movement began (True when unknown)."""
        years = self.vars["years_since_onset"]
        if med.days_since_start is None or years is None:
            return True
        # Ages are given in years, often whole: allow the movement to have begun up to a
        # year before the drug only when onset and age are the same whole year.
        return med.days_since_start / 365.25 >= years - 0.5 if years >= 1 else True

    def definition(self, name: str) -> tuple[str, ...] | None:
        if name not in self._memo:
            self._memo[name] = None  # guards against a definition that refers to itself
            compiled = self.kb.definitions[name]
            used = compiled.test(self)
            self._memo[name] = None if used is None else ((f"{name}: {compiled.row.label}",) + used)
        return self._memo[name]

    def gene_class(self, gene: str) -> str | None:
        row = self.kb.genes.get(gene)
        return row.class_ if row else None


def _lab_values(case: Case, kb: KnowledgeBase) -> dict[str, float]:
    values: dict[str, float] = {}
    problems: list[Problem] = []
    for i, lab in enumerate(case.labs):
        test = kb.labs_by_loinc.get(lab.loinc)
        where = f"case.labs[{i}]"
        if test is None:
            known = ", ".join(f"{t.loinc} ({t.id})" for t in kb.labs.values())
            problems.append(Problem(f"{where}.loinc", f"{lab.loinc!r} is not a test Contraxis reads (allowed: {known})"))
            continue
        if lab.unit == test.unit:
            values[test.id] = lab.value
        elif lab.unit in test.conversions:
            values[test.id] = lab.value * test.conversions[lab.unit]
        else:
            units = ", ".join([test.unit, *test.conversions])
            problems.append(Problem(f"{where}.unit", f"{lab.unit!r} is not a unit for {test.id} (allowed: {units})"))
    if problems:
        raise CaseError(problems)
    return values


def case_code_problems(case: Case, kb: KnowledgeBase) -> list[Problem]:
    """Codes in the case that the knowledge base or the HPO release does not know."""
    problems: list[Problem] = []
    for field in ("findings", "absent"):
        for i, code in enumerate(getattr(case, field)):
            if not kb.is_known_code(code):
                what = "a current term of the HPO release " + kb.hpo_release if code.startswith("HP:") else "a local code (see the README's case format)"
                problems.append(Problem(f"case.{field}[{i}]", f"{code!r} is not {what}"))
    if case.imaging:
        for i, code in enumerate(case.imaging.findings):
            if not kb.is_known_code(code):
                problems.append(Problem(f"case.imaging.findings[{i}]", f"{code!r} is not a current term of the HPO release {kb.hpo_release}"))
    for i, code in enumerate(case.history):
        if code not in kb.history:
            problems.append(Problem(f"case.history[{i}]", f"{code!r} is not a history code (allowed: {', '.join(kb.history)})"))
    return problems


def build_facts(case: Case, kb: KnowledgeBase) -> Facts:
    """Normalise a case for the rules.

    Raises
    ------
    CaseError
        When a code, a laboratory test or a unit is not one the knowledge base knows.
    """
    problems = case_code_problems(case, kb)
    try:
        labs = _lab_values(case, kb)
    except CaseError as error:
        problems.extend(error.problems)
        labs = {}
    if problems:
        raise CaseError(problems, source=case.id)
    return Facts(case, kb, labs)
