"""The schema of the knowledge base's data files (pydantic models, one per kind of row).

Every row that concludes something carries an ``id``, a ``source`` (an id of
``sources.yaml``) and, for rules, a ``reviewed`` date. A decision table's ``value`` is a word
of its vocabulary (:mod:`contraxis.vocabulary`). The loader checks what the schema cannot:
that sources resolve, concepts and codes exist, conditions compile, messages name only what
their rule provides, and each rule reads only what the steps before its own conclude.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..codes.patterns import HPO_ID, anchored
from ..vocabulary import (
    Alert,
    Associated,
    Cause,
    Distribution,
    FocalType,
    OnsetBand,
    Phenomenology,
    Treatment,
    Urgency,
    Workup,
)
from ..vocabulary import Etiology as EtiologyClass


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Manifest(Row):
    version: str
    released: dt.date
    changes: list[str]


class Source(Row):
    id: str
    citation: str
    url: str | None = None


class RegionInfo(Row):
    segment: str | None
    label: str
    cranial: bool = False
    side: str | None = None
    limb: str | None = None
    dystonia_hpo: str | None = Field(default=None, pattern=anchored(HPO_ID))


class Regions(Row):
    source: str
    reviewed: dt.date
    regions: dict[str, RegionInfo]
    contiguous: dict[str, list[str]]


class Concept(Row):
    id: str
    label: str
    codes: list[str] = Field(default_factory=list)
    descendants_of: list[str] = Field(default_factory=list)
    except_: list[str] = Field(default_factory=list, alias="except")
    source: str


class Findings(Row):
    local: dict[str, str]
    concepts: list[Concept]


class HistoryCode(Row):
    label: str
    categories: list[str]


class History(Row):
    source: str
    reviewed: dt.date
    codes: dict[str, HistoryCode]


class LabCorrection(Row):
    """How a result is read adjusted by another test of the same sample: when ``by`` is
    below ``below`` (in its unit), the value read is ``value + factor x (reference - by)``."""

    by: str
    below: float
    reference: float
    factor: float
    within_days: float
    label: str
    source: str

    def delta(self, other: float | None, *, exact: bool, days_apart: float) -> float | None:
        """What to add to the result, in its unit: ``factor x (reference - other)`` when the
        other test's result ``other`` (in its unit) is an exact value (``exact``: no
        comparator) below ``below`` and the two were taken at most ``within_days`` apart;
        None when no correction applies."""
        if other is None or not exact or not other < self.below or days_apart > self.within_days:
            return None
        return self.factor * (self.reference - other)


class LabTest(Row):
    id: str
    loinc: str
    name: str
    unit: str
    conversions: dict[str, float] = Field(default_factory=dict)
    low: float
    high: float
    source: str
    correction: LabCorrection | None = None


class DrugClass(Row):
    id: str
    label: str
    causes: list[str]
    source: str
    members: list[str]


class Drugs(Row):
    classes: list[DrugClass]
    treats_as: dict[str, Treatment]


class Gene(Row):
    gene: str
    mds_name: str | None
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    class_: str = Field(alias="class")
    condition: str
    source: str


class CodeRef(Row):
    """A code with its title exactly as the official table gives it (checked by the tests)."""

    code: str
    title: str


class Condition(Row):
    id: str
    name: str
    icd10cm: CodeRef
    icd11: CodeRef
    source: str


class TestItem(Row):
    id: Workup
    label: str
    kind: str
    labs: list[str] = Field(default_factory=list)
    done_when: Any = None
    source: str


class OfferedWith(Row):
    """An option offered whenever an option of a group is offered (unless a rule excludes it).

    ``reason`` names the group's options on offer through its ``{options}`` placeholder;
    ``rule`` is the id its explanation gives.
    """

    group: str
    rule: str
    line: int
    reason: str
    rationale: str

    @model_validator(mode="after")
    def _placeholders(self) -> OfferedWith:
        names = {name for _, name, _, _ in string.Formatter().parse(self.reason) if name is not None}
        if names - {"options"}:
            raise ValueError(f"reason: placeholder(s) {sorted(names - {'options'})} (allowed: {{options}})")
        return self


class TreatmentOption(Row):
    """A treatment option of ``treatments.yaml``.

    ``list_exclusion`` says when a rule excluding the option is listed among the options not
    offered: ``if-offered`` (a rule offered it too) or ``always`` (the reason it is not yet
    indicated is worth saying even when no rule offers it).
    """

    id: Treatment
    label: str
    kind: str
    source: str
    offered_with: OfferedWith | None = None
    list_exclusion: Literal["if-offered", "always"] = "if-offered"


class Treatments(Row):
    options: list[TreatmentOption]
    groups: dict[str, list[Treatment]]

    @model_validator(mode="after")
    def _offered_with_groups(self) -> Treatments:
        for option in self.options:
            if option.offered_with is not None and option.offered_with.group not in self.groups:
                raise ValueError(
                    f"{option.id}.offered_with.group: {option.offered_with.group!r} is not a group "
                    f"(allowed: {', '.join(sorted(self.groups))})"
                )
        return self


class Rule(Row):
    """A rule common to the tables: an id, a condition, a source and a review date.

    ``templates`` names the text fields whose ``{variable}`` placeholders are filled from
    the facts when the rule holds (:meth:`contraxis.reasoning.facts.View.fill`); any other
    text is shown as written, so the loader refuses a placeholder there.
    """

    templates: ClassVar[tuple[str, ...]] = ()

    id: str
    when: Any
    source: str
    reviewed: dt.date
    rationale: str = ""


class TableRow(Rule):
    """A row of a decision table: the first row that holds gives ``value``."""

    value: str | None
    mimic: bool = False


class PhenomenologyRow(TableRow):
    value: Phenomenology


class FocalTypeRow(TableRow):
    value: FocalType


class AssociatedRow(TableRow):
    value: Associated


class EtiologyRow(TableRow):
    """``value`` null leaves the etiology open (the rationale says why)."""

    value: EtiologyClass | None


class CauseRow(TableRow):
    value: Cause


class LabelRow(TableRow):
    """A row whose value is a label shown as written (a named form, an Axis II value)."""

    value: str


class DiagnosisRow(TableRow):
    """``value``: a condition id of ``conditions.yaml`` (checked by the loader)."""

    value: str


R = TypeVar("R", bound=TableRow)


class Table(Row, Generic[R]):
    table: str | None = None
    rows: list[R]


class Definition(Row):
    templates: ClassVar[tuple[str, ...]] = ()

    id: str
    label: str
    when: Any
    source: str


class Band(Row):
    band: OnsetBand
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: float = Field(alias="from")
    below: float | None
    label: str


class OnsetBands(Row):
    source: str
    reviewed: dt.date
    bands: list[Band]


class DistributionRule(Row):
    id: str
    value: Distribution
    rationale: str


class DistributionRules(Row):
    source: str
    reviewed: dt.date
    rules: list[DistributionRule]


class Classification(Row):
    onset_bands: OnsetBands
    distribution: DistributionRules
    focal_type: Table[FocalTypeRow]
    associated: Table[AssociatedRow]
    named_forms: Table[LabelRow]
    temporal_pattern: Table[LabelRow]


class Etiology(Row):
    etiology: Table[EtiologyRow]
    pathology: Table[LabelRow]
    inheritance: Table[LabelRow]


class AlertRule(Rule):
    templates: ClassVar[tuple[str, ...]] = ("message",)

    alert: Alert
    urgency: Urgency
    message: str


class AlertRules(Row):
    rules: list[AlertRule]


class WorkupRule(Rule):
    test: Workup
    priority: Urgency
    reason: str


class WorkupRules(Row):
    rules: list[WorkupRule]


class TreatmentRule(Rule):
    treatment: Treatment
    action: str = Field(pattern="^(offer|exclude)$")
    line: int = 3
    reason: str


class TreatmentRules(Row):
    rules: list[TreatmentRule]


class QuestionRule(Rule):
    templates: ClassVar[tuple[str, ...]] = ("question",)

    field: str
    question: str
    why: str


class QuestionRules(Row):
    rules: list[QuestionRule]
