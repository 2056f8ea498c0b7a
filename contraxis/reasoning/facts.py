"""The facts of a case, normalised once for the rules to read, and the frozen views of them
that each reasoning step reads.

:func:`build_facts` turns a :class:`~contraxis.case.Case` into :class:`Facts`: finding codes
as sets, laboratory results in the knowledge base's units, drugs with their classes,
history, gene results, treatments tried and the case's variables. Each reasoning step then
returns what it concluded (:class:`Concluded`, with the steps before it); the rules of the
next step read :meth:`Facts.view` of it, a :class:`View` that never changes. Nothing is
recorded in the facts and nothing reaches back to change an earlier step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Formatter
from types import MappingProxyType
from typing import Final, NamedTuple

from ..case import Case, Lab, started_before_onset
from ..errors import CaseError, KnowledgeBaseError, Problem
from ..knowledge import KnowledgeBase
from ..knowledge.schema import LabCorrection
from ..knowledge.view import DrugView, Used, Value
from ..vocabulary import Alert, Associated, Cause, Distribution, Etiology, FocalType, OnsetBand, Phenomenology

__all__ = ["Concluded", "DrugFact", "Facts", "LabFact", "View", "build_facts", "case_code_problems"]


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
        """Whether the result is below ``limit`` for certain."""
        return self.high < limit or (self.high == limit and self.high_open)

    def above(self, limit: float) -> bool:
        """Whether the result is above ``limit`` for certain."""
        return self.low > limit or (self.low == limit and self.low_open)

    def at_least(self, limit: float) -> bool:
        """Whether the result is at least ``limit`` for certain."""
        return self.low >= limit


class Concluded(NamedTuple):
    """What the reasoning steps have concluded so far: the derived variables a rule may read
    (:data:`~contraxis.knowledge.conditions.DERIVED`) and the alerts raised.

    None is "not concluded": by no step yet, or by no rule of its step (a cramp has no
    distribution, an open etiology stays None). A step adds its conclusions with
    ``_replace``, which returns a new value.
    """

    phenomenology: Phenomenology | None = None
    onset_band: OnsetBand | None = None
    distribution: Distribution | None = None
    focal_type: FocalType | None = None
    associated: Associated | None = None
    etiology: Etiology | None = None
    cause: Cause | None = None
    alerts: frozenset[Alert] = frozenset()


_NOTHING: Final = Concluded()

#: A definition's key in the memo: its id, with the values of the derived variables it reads.
MemoKey = str | tuple[object, ...]

#: Fields of the case that ``known`` asks about (given in the input, even if empty).
_CASE_FIELDS: Final = frozenset(
    {"medications", "labs", "history", "imaging", "genetics", "treatment_history", "findings", "absent"}
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules read about one case, whatever the steps conclude. Built by
    :func:`build_facts`; read through :meth:`view`.

    ``values`` holds the case's variables (``course``, ``age``, ``years_since_onset``,
    ``region_count``, ``undated_drugs``...: :data:`~contraxis.knowledge.conditions.VARIABLE_TYPES`
    less the derived ones); ``given`` the case fields given in the input; ``drugs`` the drugs
    of the case by drug class of ``drugs.yaml``; ``taking`` (ingredient, treatment) for each
    drug taken now that counts as a treatment of ``treatments.yaml``; ``unknown_drugs`` the
    drugs (as shown) whose ingredients are in no drug class and count as no treatment.
    """

    case: Case
    kb: KnowledgeBase
    present: frozenset[str]
    absent: frozenset[str]
    regions: frozenset[str]
    history: frozenset[str]
    labs: Mapping[str, LabFact]
    gene_positive: frozenset[str]
    gene_tested: frozenset[str]
    tried: tuple[tuple[str, str], ...]
    taking: tuple[tuple[str, str], ...]
    drugs: Mapping[str, tuple[DrugFact, ...]]
    values: MappingProxyType[str, Value]
    given: frozenset[str]
    years_since_onset: float | None
    unknown_drugs: tuple[str, ...]
    # Caches of pure functions of these facts, keyed by all else they read, so never out of
    # date: the results of definitions (see View.definition) and the view of each Concluded
    # (a view holds what it reads of the facts, not the facts: no reference cycle).
    memo: dict[MemoKey, Used | None] = field(default_factory=dict, init=False, repr=False, compare=False)
    views: dict[Concluded, View] = field(default_factory=dict, init=False, repr=False, compare=False)

    def view(self, concluded: Concluded = _NOTHING) -> View:
        """The facts as a rule reads them once the steps before it concluded ``concluded``."""
        view = self.views.get(concluded)
        if view is None:
            view = self.views[concluded] = self._view(concluded)
        return view

    def _view(self, concluded: Concluded) -> View:
        variables = self.values.copy()  # a dict (copying the read-only mapping is fast)
        variables["phenomenology"] = concluded.phenomenology
        variables["onset_band"] = concluded.onset_band
        variables["distribution"] = concluded.distribution
        variables["focal_type"] = concluded.focal_type
        variables["associated"] = concluded.associated
        variables["etiology"] = concluded.etiology
        variables["cause"] = concluded.cause
        return View(
            concluded, self.present, self.absent, self.regions, self.history, self.labs, concluded.alerts,
            self.gene_positive, self.gene_tested, self.tried, self.taking, variables, self.kb, self.drugs,
            self.given, self.years_since_onset, self.memo,
        )


class View(NamedTuple):
    """A frozen view of the facts and of what the steps so far concluded: what compiled
    conditions read (it implements :class:`~contraxis.knowledge.view.CaseView`).

    Build it with :meth:`Facts.view`; like any tuple it never changes. The attributes after
    ``concluded`` are those of the facts (and the alerts concluded), for the conditions to
    read directly; ``variables`` holds every variable, the case's and the derived ones (a
    mapping built for this view alone and never changed). ``memo`` is the facts' cache of
    the results of definitions (:meth:`definition`), which never changes what a view answers.
    """

    concluded: Concluded
    present: frozenset[str]
    absent: frozenset[str]
    regions: frozenset[str]
    history: frozenset[str]
    labs: Mapping[str, LabFact]
    alerts: frozenset[str]
    gene_positive: frozenset[str]
    gene_tested: frozenset[str]
    tried: tuple[tuple[str, str], ...]
    taking: tuple[tuple[str, str], ...]
    variables: Mapping[str, Value]
    kb: KnowledgeBase
    drugs: Mapping[str, tuple[DrugFact, ...]]
    given: frozenset[str]
    years_since_onset: float | None
    memo: dict[MemoKey, Used | None]

    # -- read by conditions --------------------------------------------------------------
    def var(self, name: str) -> Value:
        """The value of a variable: a case field or a step's conclusion (None when not known)."""
        return self.variables[name]

    def known(self, name: str) -> bool:
        """Whether a case field was given, or a variable is known."""
        if name in _CASE_FIELDS:
            return name in self.given
        if name == "region_count":
            return bool(self.regions)
        return self.variables.get(name) is not None

    def label(self, code: str) -> str:
        """The name of a finding or history code ('' when unknown)."""
        return self.kb.label(code)

    def drugs_in(self, cls: str) -> tuple[DrugFact, ...]:
        """The drugs of the case in a drug class of ``drugs.yaml``."""
        return self.drugs.get(cls, ())

    def started_before_onset(self, drug: DrugView) -> bool:
        """Whether the drug was started before the movement began (True when unknown:
        :func:`contraxis.case.started_before_onset`)."""
        return started_before_onset(drug.days_since_start, self.years_since_onset)

    def definition(self, name: str) -> Used | None:
        """The facts a definition of ``definitions.yaml`` used when it holds (its label
        first), else None.

        Each is evaluated once for the facts and the values of the derived variables it
        reads (``Compiled.depends``): a later view that concludes more reads it again only
        when one of those changed.
        """
        memo = self.memo
        if name in memo:
            return memo[name]
        compiled = self.kb.definitions[name]
        key: MemoKey = name
        depends = compiled.depends
        if depends:
            alerts = self.alerts if "alerts" in depends else None
            key = (name, alerts, *map(self.variables.get, depends))
            if key in memo:
                return memo[key]
        memo[key] = None  # guards against a definition that refers to itself
        used = compiled.test(self)
        memo[key] = result = None if used is None else ((f"{name}: {compiled.row.label}",) + used)
        return result

    def gene_class(self, gene: str) -> str | None:
        """The class of a gene of ``genes.yaml`` (None when not there)."""
        row = self.kb.genes.get(gene)
        return row.class_ if row else None

    # -- read by the steps ---------------------------------------------------------------
    def fill(self, template: str) -> str:
        """A rule's text with its ``{variable}`` placeholders filled from the variables.

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
        empty = sorted({name for name in names if self.variables.get(name) is None})
        if empty:
            message = f"the text {template[:80]!r} names {', '.join(empty)}, not known for this case"
            raise KnowledgeBaseError([Problem("", message)])
        values = {k: (_plain_number(v) if isinstance(v, float) else v) for k, v in self.variables.items()}
        return template.format_map(values)


_INF = math.inf


Bounds = tuple[float, float, bool, bool]


def _interval(lab: Lab, kb: KnowledgeBase) -> Bounds | None:
    """The bounds a result puts on its analyte, in the knowledge base's unit (None when the
    result says too little: no reading, or a flag with no limit to read it against)."""
    reading = lab.reading
    if reading is None:
        return None
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


def _shown(lab: Lab) -> str:
    """A result as a laboratory reports it: the value rounded to the decimals kept for its
    analyte and unit (``labs.yaml``: calcium 7.1 mg/dL, sodium 128 mmol/L), with its unit
    and how long ago it was taken."""
    reading = lab.reading
    if reading is None:
        return ""
    if reading.value is None:
        text = f"{reading.interpretation} (no value)"
    else:
        text = f"{reading.comparator or ''}{_round(reading.value, reading.analyte, reading.unit)} {reading.unit}"
    age = lab.age_days
    return text if age is None else f"{text}, {_ago(age)}"


def _ago(days: float) -> str:
    """'today', '1 day ago', '2.5 days ago'."""
    return "today" if days == 0 else f"{_plain_number(days)} day{'' if days == 1 else 's'} ago"


def _round(value: float, analyte: str, unit: str) -> str:
    from ..terminology.labs import format_value

    return format_value(analyte, value, unit)


def _lab_values(case: Case, kb: KnowledgeBase) -> dict[str, LabFact]:
    """The latest result of each analyte (an undated result counts as today's), each read
    with the correction its test carries in ``labs.yaml`` (calcium by albumin)."""
    series: dict[str, list[Lab]] = {}
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


def _corrected(bounds: Bounds, lab: Lab, by: Lab, correction: LabCorrection) -> tuple[Bounds, str] | None:
    """A result adjusted by another of the same sample, as ``labs.yaml`` says (clinical
    content: ``correction`` of the test's row, e.g. calcium + 0.8 x (4.0 - albumin) with an
    albumin below 4.0 g/dL, Payne 1973).

    Returns the adjusted bounds and the text shown ("corrected calcium 8.8 mg/dL (total 8.0,
    albumin 3.0 g/dL)"), or None when no correction applies: the other result is not an exact
    value below ``correction.below``, or was not taken within ``correction.within_days``.
    """
    other = by.reading
    if other is None or other.value is None:
        return None
    days_apart = abs((lab.age_days or 0.0) - (by.age_days or 0.0))
    delta = correction.delta(other.value, exact=other.comparator is None, days_apart=days_apart)
    if delta is None:
        return None
    low, high, low_open, high_open = bounds
    adjusted = (low + delta, high + delta, low_open, high_open)
    reading = lab.reading
    if reading is None or reading.value is None:
        return None
    analyte, unit = reading.analyte, reading.unit
    value = f"{reading.comparator or ''}{_round(reading.value + delta, analyte, unit)} {unit}"
    shown = (f"{correction.label} {value} (total {_round(reading.value, analyte, unit)}, "
             f"{other.analyte} {_round(other.value, other.analyte, other.unit)} {other.unit})")
    age = lab.age_days
    if age is None:
        return adjusted, shown
    return adjusted, f"{shown}, {_ago(age)}"


def case_code_problems(case: Case, kb: KnowledgeBase) -> list[Problem]:
    """Codes in the case that the knowledge base or the HPO release does not know."""
    problems: list[Problem] = []
    hpo = "a current term of the HPO release " + kb.hpo_release
    for name in ("findings", "absent"):
        codes: tuple[str, ...] = getattr(case, name)
        for i, code in enumerate(codes):
            if not kb.is_known_code(code):
                what = hpo if code.startswith("HP:") else "a local code (see the README's case format)"
                problems.append(Problem(f"case.{name}[{i}]", f"{code!r} is not {what}"))
    if case.imaging:
        for i, code in enumerate(case.imaging.findings):
            if not kb.is_known_code(code):
                problems.append(Problem(f"case.imaging.findings[{i}]", f"{code!r} is not {hpo}"))
    for i, code in enumerate(case.history):
        if code not in kb.history:
            allowed = ", ".join(kb.history)
            problems.append(Problem(f"case.history[{i}]", f"{code!r} is not a history code (allowed: {allowed})"))
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
    genetics = case.genetics
    drugs: list[DrugFact] = []
    unknown: list[str] = []
    for med in case.medications:
        ingredients = med.ingredients
        if not ingredients:
            continue  # not resolved: listed in not_read
        display = med.display
        days = (med.days_since_start, med.days_since_dose_increase, med.days_since_stop)
        drugs.extend(DrugFact(ingredient, display, *days) for ingredient in ingredients)
        if not any(i in kb.drug_membership or i in kb.treats_as for i in ingredients):
            unknown.append(display)
    by_class: dict[str, list[DrugFact]] = {}
    for drug in drugs:
        for cls in kb.drug_membership.get(drug.name, ()):
            by_class.setdefault(cls, []).append(drug)
    undated = sorted({d.display for ds in by_class.values() for d in ds if d.days_since_start is None})
    years = case.years_since_onset
    regions = frozenset(case.regions)
    values: dict[str, Value] = {
        "course": case.course,
        "severity": case.severity,
        "sex": case.sex,
        "mri": case.imaging.mri_brain if case.imaging else None,
        "family_history": case.family_history,
        "disabling": case.disabling,
        "age": case.age,
        "onset_age": case.onset_age,
        "years_since_onset": years,
        "region_count": len(regions),
        "undated_drugs": ", ".join(undated) if undated else None,
    }
    return Facts(
        case=case,
        kb=kb,
        present=case.present,
        absent=frozenset(case.absent),
        regions=regions,
        history=frozenset(case.history),
        labs=MappingProxyType(_lab_values(case, kb)),
        gene_positive=frozenset(genetics.positive) if genetics else frozenset(),
        gene_tested=frozenset(genetics.tested) if genetics else frozenset(),
        tried=tuple((t.treatment, t.response) for t in case.treatment_history),
        taking=tuple(
            (d.name, kb.treats_as[d.name]) for d in drugs if d.name in kb.treats_as and d.days_since_stop is None
        ),
        drugs=MappingProxyType({cls: tuple(ds) for cls, ds in by_class.items()}),
        values=MappingProxyType(values),
        given=frozenset(case.model_fields_set),
        years_since_onset=years,
        unknown_drugs=tuple(unknown),
    )
