"""The assessment: what Contraxis concludes about one case, and why.

Every conclusion carries its :class:`Explanation`: the rule that made it, the facts it used
and the source it comes from. ``Assessment.summary`` holds the classification fields in the
vocabulary of ``contraxis.vocabulary``; the rest holds the detail.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .vocabulary import (
    Alert,
    Associated,
    Cause,
    Distribution,
    Etiology,
    FocalType,
    OnsetBand,
    Phenomenology,
    Treatment,
    Urgency,
    Workup,
)

__all__ = [
    "AlertItem",
    "Assessment",
    "CodeItem",
    "Conclusion",
    "Explanation",
    "LabResult",
    "NotReadItem",
    "Question",
    "Summary",
    "TreatmentItem",
    "WorkupItem",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Explanation(_Out):
    """Why a conclusion was reached."""

    rule: str = Field(description="Id of the knowledge-base rule that made the conclusion")
    facts: tuple[str, ...] = Field(default=(), description="The facts of the case the rule used")
    source: str = Field(description="Id of the source in the knowledge base's sources")
    citation: str = Field(description="The source, as a reader would cite it")
    rationale: str = Field(default="", description="The rule's reason, in words")


class Conclusion(_Out):
    """One classification conclusion (a summary field) with its explanation."""

    field: str
    value: str | None
    label: str = ""
    why: Explanation


class AlertItem(_Out):
    code: Alert
    urgency: Urgency
    message: str
    why: Explanation


class WorkupItem(_Out):
    code: Workup
    priority: Urgency
    label: str
    reason: str
    loinc: tuple[str, ...] = ()
    why: Explanation


class TreatmentItem(_Out):
    code: Treatment
    label: str
    line: int = Field(description="Order in which to consider it: 1 is first")
    kind: str = Field(description="causal, emergency, first-line, oral, surgical, supportive")
    reason: str
    why: Explanation


class CodeItem(_Out):
    system: str = Field(description="ICD-10-CM, ICD-11, HPO, SNOMED CT, UMLS or LOINC")
    code: str
    display: str
    role: str = Field(description="What the code stands for: 'main diagnosis', 'finding', ...")


class Question(_Out):
    """Something the case does not say that would change the answer."""

    field: str
    question: str
    why: str


class NotReadItem(_Out):
    """One item of the input that was not used, or was changed before use."""

    path: str = Field(description="Where it is in the input")
    value: str = Field(description="An excerpt of the value as given")
    reason: str = Field(description="Why it was not used, or what it was read as")


class LabResult(_Out):
    """What the rules read of one analyte: the latest result decides."""

    test: str = Field(description="The knowledge base's test id, e.g. calcium")
    latest: str = Field(description="The latest result in the knowledge base's unit, as a laboratory reports it")
    series: tuple[str, ...] = Field(
        default=(), description="Every result of the test, latest first, when there are several"
    )


class Summary(_Out):
    phenomenology: Phenomenology | None = None
    focal_type: FocalType | None = None
    distribution: Distribution | None = None
    onset_band: OnsetBand | None = None
    associated: Associated | None = None
    etiology: Etiology | None = None
    cause: Cause | None = None
    alerts: tuple[Alert, ...] = ()
    workup: tuple[Workup, ...] = ()
    treatments: tuple[Treatment, ...] = ()
    icd10cm: str | None = None


class Assessment(_Out):
    """What Contraxis concludes about one case."""

    case_id: str | None = None
    knowledge_base_version: str
    hpo_release: str
    summary: Summary
    diagnosis: str = Field(description="The main diagnosis in words")
    conclusions: tuple[Conclusion, ...] = ()
    classification: dict[str, Any] = Field(default_factory=dict, description="Axis I and Axis II in detail")
    alerts: tuple[AlertItem, ...] = ()
    workup: tuple[WorkupItem, ...] = ()
    treatments: tuple[TreatmentItem, ...] = ()
    not_offered: tuple[TreatmentItem, ...] = Field(
        default=(), description="Options considered and not offered now, with the reason"
    )
    codes: tuple[CodeItem, ...] = ()
    missing: tuple[Question, ...] = ()
    notes: tuple[str, ...] = ()
    labs: tuple[LabResult, ...] = Field(
        default=(), description="The laboratory results the rules read, each with its series"
    )
    not_read: tuple[NotReadItem, ...] = Field(
        default=(), description="Every item of the input not used or changed before use, with the reason"
    )
    differential: dict[str, Any] | None = Field(
        default=None, description="Top of the phenotype-driven differential, when computed"
    )
    disclaimer: str = (
        "Decision support for clinicians, not a diagnosis: check each conclusion against its rule, facts and source."
    )

    def to_json(self) -> dict[str, Any]:
        """The assessment as plain JSON-ready data."""
        return self.model_dump(mode="json")
