"""The schema of the knowledge base's data files (pydantic models, one per kind of row).

Every row that concludes something carries an ``id``, a ``source`` (an id of
``sources.yaml``) and, for rules, a ``reviewed`` date. The loader checks what the schema
cannot: that sources resolve, concepts and codes exist, and conditions compile.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..vocabulary import Alert, Treatment, Urgency, Workup


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


class LabTest(Row):
    id: str
    loinc: str
    name: str
    unit: str
    conversions: dict[str, float] = Field(default_factory=dict)
    low: float
    high: float
    source: str


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


class TreatmentOption(Row):
    id: Treatment
    label: str
    kind: str
    source: str


class Treatments(Row):
    options: list[TreatmentOption]
    groups: dict[str, list[Treatment]]


class Rule(Row):
    """A rule common to the tables: an id, a condition, a source and a review date."""

    id: str
    when: Any
    source: str
    reviewed: dt.date
    rationale: str = ""


class TableRow(Rule):
    value: str | None
    mimic: bool = False


class Table(Row):
    table: str | None = None
    rows: list[TableRow]


class Definition(Row):
    id: str
    label: str
    when: Any
    source: str


class Band(Row):
    band: str
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
    value: str
    rationale: str


class DistributionRules(Row):
    source: str
    reviewed: dt.date
    rules: list[DistributionRule]


class Classification(Row):
    onset_bands: OnsetBands
    distribution: DistributionRules
    focal_type: Table
    associated: Table
    named_forms: Table
    temporal_pattern: Table


class Etiology(Row):
    etiology: Table
    pathology: Table
    inheritance: Table


class AlertRule(Rule):
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
    field: str
    question: str
    why: str


class QuestionRules(Row):
    rules: list[QuestionRule]
