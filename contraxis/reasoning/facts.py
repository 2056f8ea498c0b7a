"""The facts of a case, normalised once for the rules to read.

:func:`build_facts` turns a :class:`~contraxis.case.Case` into :class:`Facts`: finding codes
as sets, laboratory results in the knowledge base's units, drugs with their classes,
history, gene results and treatments tried. Each reasoning step then records its
conclusion (phenomenology, distribution, ...) with :meth:`Facts.set`, so that later rules
can read it; nothing reaches back to change an earlier step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from string import Formatter
from typing import Any

from ..case import Case
from ..errors import CaseError, KnowledgeBaseError, Problem
from ..knowledge import KnowledgeBase

__all__ = ["DrugFact", "Facts", "LabFact", "build_facts"]


@dataclass(frozen=True, slots=True)
class DrugFact:
    """One ingredient of a drug the case gives, as the rules read it.

    ``name`` is the ingredient (lower-case generic name), ``display`` the drug as given with
    its ingredient ('Reglan (metoclopramide)'); the days are those of the medication.
    """

    name: str
    display: str
    days_since_start: int | None
    days_since_dose_increase: int | None
    days_since_stop: int | None


@dataclass(frozen=True, slots=True)
class LabFact:
    """What the rules know of one analyte: the latest result as an interval, in the knowledge
    base's unit, and the whole dated series.

    ``low``/``high`` bound the value (equal for an exact result; an open side is infinite);
    ``low_open``/``high_open`` say whether a bound itself is excluded (``< 20`` is open at 20).
    ``shown`` is the latest result as a reader would write it; ``series`` every result of the
    analyte, latest first, as shown text with its age in days.
    """

    low: float
    high: float
    low_open: bool
    high_open: bool
    shown: str
    series: tuple[str, ...] = ()

    def below(self, limit: float) -> bool:
        return self.high < limit or (self.high == limit and self.high_open)

    def above(self, limit: float) -> bool:
        return self.low > limit or (self.low == limit and self.low_open)

    def at_least(self, limit: float) -> bool:
        return self.low >= limit

_CASE_FIELDS = ("medications", "labs", "history", "imaging", "genetics", "treatment_history", "findings", "absent")


class Facts:
    """What the rules read about one case. Built by :func:`build_facts`."""

    __slots__ = (
        "case", "kb", "present", "absent", "regions", "labs", "history", "gene_positive",
        "gene_tested", "tried", "taking", "vars", "alerts", "_memo", "_drugs",
    )

    def __init__(self, case: Case, kb: KnowledgeBase, labs: dict[str, LabFact]) -> None:
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
        drugs = [
            DrugFact(ingredient, med.display, med.days_since_start, med.days_since_dose_increase, med.days_since_stop)
            for med in case.medications for ingredient in med.ingredients
        ]
        self.taking = tuple((d.name, kb.treats_as[d.name]) for d in drugs if d.name in kb.treats_as and d.days_since_stop is None)
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
        self._drugs: dict[str, list[DrugFact]] = {}
        for drug in drugs:
            for cls in kb.drug_membership.get(drug.name, ()):
                self._drugs.setdefault(cls, []).append(drug)
        undated = sorted({d.display for ds in self._drugs.values() for d in ds if d.days_since_start is None})
        self.vars["undated_drugs"] = ", ".join(undated) if undated else None

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

    def fill(self, template: str) -> str:
        """A rule's text with its ``{variable}`` placeholders filled from :attr:`vars`.

        Numbers are written as a reader would: plainly, with at most two decimals and no
        trailing zeros (``12`` rather than ``12.0``, ``8.2`` rather than ``8.200000000000001``),
        never in exponent form. The loader has checked
        that every placeholder names a variable its rule makes known, so nothing is left
        unfilled or shown as ``None``.

        Raises
        ------
        KnowledgeBaseError
            A placeholder names no variable, or one not known for this case (a fault of the
            knowledge base; never shown to a reader as written).
        """
        if "{" not in template and "}" not in template:
            return template
        try:
            names = [name for _, name, _, _ in Formatter().parse(template) if name is not None]
        except ValueError as error:
            raise KnowledgeBaseError([Problem("", f"the text {template[:80]!r} cannot be filled: {error}")]) from None
        empty = sorted({name for name in names if self.vars.get(name) is None})
        if empty:
            message = f"the text {template[:80]!r} names {', '.join(empty)}, not known for this case"
            raise KnowledgeBaseError([Problem("", message)])
        values = {k: (_plain_number(v) if isinstance(v, float) else v) for k, v in self.vars.items()}
        return template.format_map(values)

    def label(self, code: str) -> str:
        return self.kb.label(code)

    def drugs_in(self, cls: str) -> list[DrugFact]:
        return self._drugs.get(cls, [])

    def started_before_onset(self, med: DrugFact) -> bool:
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


_INF = math.inf


def _interval(lab: Any, kb: KnowledgeBase) -> tuple[float, float, bool, bool] | None:
    """The bounds a result puts on its analyte, in the knowledge base's unit."""
    reading = lab.reading
    value = reading.value
    if value is not None:
        comparator = reading.comparator
        if comparator is None:
            return value, value, False, False
        if comparator in ("<", "<="):
            return -_INF, value, False, comparator == "<"
        return value, _INF, comparator == ">", False
    test = kb.labs.get(reading.analyte)
    flag = reading.interpretation
    if test is None or flag is None:
        return None
    if flag in ("low", "critical-low") and test.low is not None:
        return -_INF, test.low, False, True
    if flag in ("high", "critical-high") and test.high is not None:
        return test.high, _INF, True, False
    if flag == "normal" and test.low is not None and test.high is not None:
        return test.low, test.high, False, False
    return -_INF, _INF, False, False  # 'abnormal' says too little to decide a threshold


def _plain_number(value: float) -> str:
    """A number as a reader writes it: ``12``, ``8.2``, ``0.25`` (two decimals at most, no exponent)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _shown(lab: Any) -> str:
    """A result as a laboratory reports it: the value rounded to the decimals kept for its
    analyte and unit (``labs.yaml``: calcium 7.1 mg/dL, sodium 128 mmol/L), with its unit
    and how long ago it was taken."""
    reading = lab.reading
    if reading.value is None:
        text = f"{reading.interpretation} (no value)"
    else:
        text = f"{reading.comparator or ''}{_round(reading.value, reading.analyte, reading.unit)} {reading.unit}"
    age = lab.age_days
    if age is None:
        return text
    return f"{text}, today" if age == 0 else f"{text}, {_plain_number(age)} day{'' if age == 1 else 's'} ago"


def _round(value: float, analyte: str, unit: str) -> str:
    from ..terminology.labs import format_value

    return format_value(analyte, value, unit)


def _lab_values(case: Case, kb: KnowledgeBase) -> dict[str, LabFact]:
    """The latest result of each analyte (an undated result counts as today's), each read
    with the correction its test carries in ``labs.yaml`` (calcium by albumin)."""
    series: dict[str, list[Any]] = {}
    for lab in case.labs:
        if lab.reading is not None and lab.reading.analyte in kb.labs:
            series.setdefault(lab.reading.analyte, []).append(lab)
    facts: dict[str, LabFact] = {}
    for labs in series.values():
        labs.sort(key=lambda lab: lab.age_days if lab.age_days is not None else 0.0)
    for analyte, labs in series.items():
        bounds = _interval(labs[0], kb)
        if bounds is None:
            continue
        shown = _shown(labs[0])
        correction = kb.labs[analyte].correction
        if correction is not None and correction.by in series:
            adjusted = _corrected(bounds, labs[0], series[correction.by][0], correction)
            if adjusted is not None:
                bounds, shown = adjusted
        facts[analyte] = LabFact(*bounds, shown=shown,
                                 series=tuple(_shown(lab) for lab in labs) if len(labs) > 1 else ())
    return facts


def _corrected(
    bounds: tuple[float, float, bool, bool], lab: Any, by: Any, correction: Any
) -> tuple[tuple[float, float, bool, bool], str] | None:
    """A result adjusted by another of the same sample, as ``labs.yaml`` says (clinical
    content: ``correction`` of the test's row, e.g. calcium + 0.8 x (4.0 - albumin) with an
    albumin below 4.0 g/dL, Payne 1973).

    Returns the adjusted bounds and the text shown ("corrected calcium 8.8 mg/dL (total 8.0,
    albumin 3.0 g/dL)"), or None when no correction applies: the other result is not an exact
    value below ``correction.below``, or was not taken within ``correction.within_days``.
    """
    other = by.reading
    if other.value is None or other.comparator is not None or not other.value < correction.below:
        return None
    ages = (lab.age_days or 0.0, by.age_days or 0.0)
    if abs(ages[0] - ages[1]) > correction.within_days:
        return None
    delta = correction.factor * (correction.reference - other.value)
    low, high, low_open, high_open = bounds
    adjusted = (low + delta, high + delta, low_open, high_open)
    reading = lab.reading
    if reading.value is None:
        return None
    analyte, unit = reading.analyte, reading.unit
    value = f"{reading.comparator or ''}{_round(reading.value + delta, analyte, unit)} {unit}"
    shown = (f"{correction.label} {value} (total {_round(reading.value, analyte, unit)}, "
             f"{other.analyte} {_round(other.value, other.analyte, other.unit)} {other.unit})")
    age = lab.age_days
    if age is None:
        return adjusted, shown
    return adjusted, f"{shown}, today" if age == 0 else f"{shown}, {_plain_number(age)} day{'' if age == 1 else 's'} ago"


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
        When a finding or history code is not one the knowledge base or the HPO release knows.
    """
    problems = case_code_problems(case, kb)
    if problems:
        raise CaseError(problems, source=case.id)
    return Facts(case, kb, _lab_values(case, kb))
