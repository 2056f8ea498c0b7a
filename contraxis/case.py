"""The native case: the facts about one patient, typed and validated once.

Every field of the ``case`` block of the clinical vignettes is a field here with the same
meaning (see the README's "Case format"). A field left out is *unknown*, which is not the
same as *no*: ``family_history: None`` makes the assessment ask, ``False`` means it was
asked and is absent.

Use :func:`read_case` on a mapping (parsed YAML or JSON) and :func:`load_case` on a file or
text; both raise :class:`~contraxis.errors.CaseError` naming every bad field at once.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import CaseError, ContradictionError, Problem
from .vocabulary import Course, MriResult, Region, Response, Severity, Sex, Treatment

__all__ = [
    "Case",
    "Genetics",
    "Imaging",
    "Lab",
    "Medication",
    "TreatmentTried",
    "case_problems",
    "load_case",
    "parse_document",
    "read_case",
]

HPO_ID = re.compile(r"^HP:\d{7}$")
LOCAL_ID = re.compile(r"^CX:[a-z0-9]+(-[a-z0-9]+)*$")
HISTORY_ID = re.compile(r"^CX:hx-[a-z0-9]+(-[a-z0-9]+)*$")
LOINC_ID = re.compile(r"^\d{1,7}-\d$")
GENE_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9orf.\-]*$")
DRUG_NAME = re.compile(r"^[a-z][a-z0-9 \-/]*$")

MAX_LIST = 500

# libyaml's parser when PyYAML was built with it (about ten times faster), else the
# pure-Python one; both are the safe loader.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _finding_code(value: str) -> str:
    if not (HPO_ID.match(value) or LOCAL_ID.match(value)):
        raise ValueError(
            f"{value!r} is not a finding code (allowed: an HPO id such as HP:0000473, "
            "or a local code such as CX:sensory-trick)"
        )
    return value


class Lab(_Model):
    """One laboratory result, coded in LOINC."""

    loinc: str = Field(description="LOINC code of the test, e.g. 17861-6 for calcium")
    name: str | None = Field(default=None, description="The test's name as written")
    value: float = Field(description="The result, in `unit`")
    unit: str = Field(description="The unit of `value`, e.g. mg/dL")

    @field_validator("loinc")
    @classmethod
    def _loinc(cls, value: str) -> str:
        if not LOINC_ID.match(value):
            raise ValueError(f"{value!r} is not a LOINC code (allowed: digits, a dash, a check digit: 17861-6)")
        return value


class Medication(_Model):
    """A drug taken now or recently."""

    name: str = Field(description="Generic (INN) name in lower case, e.g. metoclopramide")
    days_since_start: int | None = Field(default=None, ge=0, le=60000, description="Days since the drug was started")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DRUG_NAME.match(value):
            raise ValueError(f"{value!r} is not a generic drug name in lower case (e.g. haloperidol)")
        return value


class Imaging(_Model):
    """Brain imaging."""

    mri_brain: MriResult | None = Field(default=None, description="normal, abnormal or not_done")
    findings: tuple[str, ...] = Field(default=(), max_length=MAX_LIST, description="HPO ids of the MRI findings")

    @field_validator("findings")
    @classmethod
    def _findings(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not HPO_ID.match(value):
                raise ValueError(f"{value!r} is not an HPO id (HP: and seven digits)")
        return values


class Genetics(_Model):
    """Gene tests done and their results."""

    tested: tuple[str, ...] = Field(default=(), max_length=MAX_LIST, description="HGNC symbols of the genes tested")
    positive: tuple[str, ...] = Field(default=(), max_length=MAX_LIST, description="Genes with a disease-causing variant")

    @field_validator("tested", "positive")
    @classmethod
    def _genes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not GENE_SYMBOL.match(value):
                raise ValueError(f"{value!r} is not an HGNC gene symbol (upper case, e.g. TOR1A)")
        return values


class TreatmentTried(_Model):
    """A treatment already tried, and how well it worked."""

    treatment: Treatment
    response: Response


class Case(_Model):
    """The facts about one patient. See the README's "Case format" for every field."""

    id: str | None = Field(default=None, max_length=200, description="An identifier for this case")
    age: float | None = Field(default=None, ge=0, le=120, description="Age at this visit, years")
    sex: Sex = "unknown"
    onset_age: float | None = Field(default=None, ge=0, le=120, description="Age when the contractions began, years")
    course: Course | None = None
    regions: tuple[Region, ...] = Field(default=(), max_length=30)
    findings: tuple[str, ...] = Field(default=(), max_length=MAX_LIST)
    absent: tuple[str, ...] = Field(default=(), max_length=MAX_LIST)
    labs: tuple[Lab, ...] = Field(default=(), max_length=MAX_LIST)
    medications: tuple[Medication, ...] = Field(default=(), max_length=MAX_LIST)
    history: tuple[str, ...] = Field(default=(), max_length=MAX_LIST)
    imaging: Imaging | None = None
    genetics: Genetics | None = None
    family_history: bool | None = None
    treatment_history: tuple[TreatmentTried, ...] = Field(default=(), max_length=100)
    severity: Severity | None = None
    disabling: bool | None = None

    @field_validator("findings", "absent")
    @classmethod
    def _codes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            _finding_code(value)
        return values

    @field_validator("history")
    @classmethod
    def _history(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not HISTORY_ID.match(value):
                raise ValueError(f"{value!r} is not a history code (allowed: CX:hx-..., e.g. CX:hx-head-trauma)")
        return values

    @property
    def present(self) -> frozenset[str]:
        """Every finding code given as present, MRI findings included."""
        extra = self.imaging.findings if self.imaging else ()
        return frozenset(self.findings) | frozenset(extra)


def contradictions(case: Case) -> list[Problem]:
    """Check that the case does not contradict itself; return every contradiction found."""
    problems: list[Problem] = []
    if case.age is not None and case.onset_age is not None and case.onset_age > case.age:
        problems.append(Problem("case.onset_age", f"onset at {case.onset_age:g} is after the current age {case.age:g}"))
    for code in sorted(set(case.findings) & set(case.absent)):
        problems.append(Problem("case.absent", f"{code} is both in findings and absent"))
    if case.genetics:
        for gene in sorted(set(case.genetics.positive) - set(case.genetics.tested)):
            problems.append(Problem("case.genetics.positive", f"{gene} is positive but not in genetics.tested"))
    if case.imaging and case.imaging.mri_brain in ("normal", "not_done") and case.imaging.findings:
        problems.append(
            Problem("case.imaging.findings", f"MRI findings are given but mri_brain is {case.imaging.mri_brain!r}")
        )
    seen: set[str] = set()
    for i, lab in enumerate(case.labs):
        if lab.loinc in seen:
            problems.append(Problem(f"case.labs[{i}].loinc", f"{lab.loinc} is given twice: give one result per test"))
        seen.add(lab.loinc)
    return problems


def _field_path(loc: Iterable[Any]) -> str:
    path = "case"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "literal_error":
        expected = error["ctx"]["expected"].replace("'", "").replace(" or ", ", ")
        return f"{value!r} is not one of {expected}"
    if kind == "extra_forbidden":
        return "is not a case field (see the README's case format for the fields allowed)"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in ("missing",):
        return "is required"
    return f"{value!r}: {error['msg'][0].lower()}{error['msg'][1:]}"


def case_problems(data: Any) -> tuple[Case | None, list[Problem]]:
    """Validate ``data`` as a case; return the case (or None) and every problem found."""
    if not isinstance(data, Mapping):
        return None, [Problem("case", f"expected a mapping of case fields, got {type(data).__name__}")]
    try:
        case = Case.model_validate(dict(data))
    except ValidationError as error:
        return None, [Problem(_field_path(e["loc"]), _message(e)) for e in error.errors()]
    return case, contradictions(case)


def read_case(data: Any, *, source: str | None = None) -> Case:
    """Validate a mapping as a case.

    A mapping with a top-level ``case`` block (a vignette, whole or in part) is accepted:
    its ``case`` block is read and nothing else, but for the vignette's ``id``, which names
    the case when the block has none.

    Raises
    ------
    CaseError
        Naming every bad field, its value and what is allowed.
    ContradictionError
        When the case is well-formed but contradicts itself.
    """
    if isinstance(data, Mapping) and "case" in data:
        outer_id = data.get("id")
        data = data["case"]
        if isinstance(data, Mapping) and "id" not in data and isinstance(outer_id, (str, int)):
            data = {"id": str(outer_id), **data}  # a vignette's id names its case
    case, problems = case_problems(data)
    if problems:
        kind = CaseError if case is None else ContradictionError
        raise kind(problems, source=source)
    assert case is not None
    return case


def parse_document(text: str, *, source: str | None = None) -> Any:
    """Parse YAML or JSON text (JSON is YAML, but JSON is tried first for its errors)."""
    stripped = text.lstrip()
    try:
        if stripped.startswith(("{", "[")):
            return json.loads(text)
        return yaml.load(text, Loader=_YamlLoader)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CaseError([Problem("", f"not valid YAML or JSON: {detail}")], source=source) from None


def load_case(path: str | Path, *, text: str | None = None) -> Case:
    """Read a case from a YAML or JSON file (or from ``text``, naming it ``path``)."""
    source = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise CaseError([Problem("", f"cannot read the file: {error.strerror}")], source=source) from None
        except UnicodeDecodeError:
            raise CaseError([Problem("", "the file is not UTF-8 text")], source=source) from None
    return read_case(parse_document(text, source=source), source=source)
