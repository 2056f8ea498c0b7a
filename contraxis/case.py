"""The native case: the facts about one patient, typed and validated once.

Every field of the ``case`` block of the clinical vignettes is a field here with the same
meaning (see the README's "Case format"). A field left out is *unknown*, which is not the
same as *no*: ``family_history: None`` makes the assessment ask, ``False`` means it was
asked and is absent.

Use :func:`read_case` on a mapping (parsed YAML or JSON) and :func:`load_case` on a file or
text; both raise :class:`~contraxis.errors.CaseError` naming every bad field at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from .codes.patterns import GENE_SYMBOL, HISTORY_ID, HPO_ID, LOCAL_ID, LOINC_CODE, RXNORM_ID
from .documents import parse_document as _parse_document
from .documents import shown
from .errors import CaseError, ContradictionError, Problem
from .reading import NotRead, Reading, excerpt
from .vocabulary import Course, MriResult, Region, Response, Severity, Sex, Treatment

if TYPE_CHECKING:  # pragma: no cover - the readers import the case format lazily
    from .terminology.drugs import DrugReading
    from .terminology.labs import LabReading

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
    "read_case_reading",
]


MAX_LIST = 500


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _finding_code(value: str) -> str:
    if not (HPO_ID.fullmatch(value) or LOCAL_ID.fullmatch(value)):
        raise ValueError(
            f"{shown(value, 60)} is not a finding code (allowed: an HPO id such as HP:0000473, "
            "or a local code such as CX:sensory-trick)"
        )
    return value


Comparator = Literal["<", "<=", ">", ">="]
Interpretation = Literal["low", "high", "normal", "abnormal", "critical-low", "critical-high"]


def _free_text(value: str, *, what: str) -> str:
    if any(not ch.isprintable() for ch in value):
        raise ValueError(f"{shown(value, 60)}: {what} may not hold control characters")
    return value


def _number(value: Any, *, what: str = "a number") -> Any:
    """Refuse a boolean where a number is asked for (``true`` is not 1), before pydantic's
    lax mode reads it as one."""
    if isinstance(value, bool):
        raise ValueError(f"{shown(value)} is not {what} (a boolean is not read as a number)")
    return value


def _boolean(value: Any) -> Any:
    """Accept only true or false (and null) where a yes-or-no is asked for: no 1, "yes"..."""
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{shown(value)} is not true or false")
    return value


class Lab(_Model):
    """One laboratory result, coded in LOINC.

    The value is read through :func:`contraxis.terminology.labs.read_lab`: every LOINC code
    of the analyte (mass or moles; serum, plasma or blood), the unit as UCUM, a common
    spelling or a Units Ontology id, converted into the knowledge base's unit and checked
    against the analyte's plausible limits (an impossible value is an input error naming the
    likely intended unit). A LOINC code that no rule reads is kept for the differential and
    reported in ``not_read``.
    """

    loinc: str = Field(description="LOINC code of the test, e.g. 17861-6 or 2000-8 for calcium")
    name: str | None = Field(default=None, max_length=200, description="The test's name as written")
    value: float | None = Field(
        default=None, description="The result, in `unit`; may be left out when `interpretation` is given"
    )
    unit: str | None = Field(
        default=None,
        max_length=80,
        description="The unit of `value`: UCUM (mg/dL), a common spelling or a Units Ontology id",
    )
    comparator: Comparator | None = Field(default=None, description="The value is a bound: < 20 means below 20")
    interpretation: Interpretation | None = Field(
        default=None, description="The laboratory's flag: low, high, normal, abnormal, critical-low, critical-high"
    )
    days_ago: float | None = Field(default=None, ge=0, le=60000, description="How many days ago the sample was taken")
    date: dt.date | None = Field(default=None, description="The date the sample was taken (ISO 8601)")
    _reading: LabReading | None = PrivateAttr(default=None)

    @field_validator("loinc")
    @classmethod
    def _loinc(cls, value: str) -> str:
        if not LOINC_CODE.fullmatch(value):
            raise ValueError(
                f"{shown(value, 40)} is not a LOINC code (allowed: digits, a dash, a check digit: 17861-6)"
            )
        return value

    @field_validator("value", "days_ago", mode="before")
    @classmethod
    def _numbers(cls, value: Any) -> Any:
        return _number(value)

    @field_validator("name", "unit")
    @classmethod
    def _texts(cls, value: str | None) -> str | None:
        return None if value is None else _free_text(value, what="a laboratory name or unit")

    @model_validator(mode="after")
    def _read(self) -> Lab:
        from .terminology.labs import LabProblem, analyte_of, read_lab

        if self.days_ago is not None and self.date is not None:
            raise ValueError("give days_ago or date, not both")
        if self.date is not None and self.date > dt.date.today():
            raise ValueError(f"date {self.date.isoformat()} is in the future")
        if analyte_of(self.loinc) is None:
            if self.value is None:
                raise ValueError(f"value: is required for LOINC {self.loinc} (a test read without an interpretation)")
            return self
        try:
            self._reading = read_lab(self.loinc, self.value, self.unit, comparator=self.comparator,
                                     interpretation=self.interpretation)
        except LabProblem as problem:
            raise ValueError(f"{problem.field}: {problem.message}") from None
        return self

    @property
    def reading(self) -> LabReading | None:
        """The :class:`~contraxis.terminology.labs.LabReading`, or None for a test no rule reads."""
        # Read from the private values directly: ``self._reading`` goes through pydantic's
        # __getattr__, fifty times slower, and the rules read it several times per result.
        private = self.__pydantic_private__
        reading: LabReading | None = private.get("_reading") if private is not None else None
        return reading

    @property
    def age_days(self) -> float | None:
        """Days since the sample (from ``days_ago`` or ``date``); None when undated."""
        if self.days_ago is not None:
            return self.days_ago
        if self.date is not None:
            return float((dt.date.today() - self.date).days)
        return None


def started_before_onset(days_since_start: float | None, years_since_onset: float | None) -> bool:
    """Whether a drug started ``days_since_start`` days ago began before a movement that began
    ``years_since_onset`` years ago (True when either is unknown). Ages are given in years,
    often whole: the movement may have begun up to a year before the drug only when onset and
    age are the same whole year."""
    if days_since_start is None or years_since_onset is None:
        return True
    return days_since_start / 365.25 >= years_since_onset - 0.5 if years_since_onset >= 1 else True


class Medication(_Model):
    """A drug taken now or recently, as given: its name (generic, brand, salt, an EHR display
    string) and/or its RxNorm code.

    The ingredients the knowledge base reasons about come from
    :func:`contraxis.terminology.drugs.resolve_drug`; a drug that cannot be resolved is kept
    and reported in ``not_read``, never silently dropped.
    """

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The drug as written: generic (INN), brand, salt or display string",
    )
    rxnorm: str | None = Field(default=None, description="RxNorm code (ingredient, clinical drug or branded drug)")
    days_since_start: int | None = Field(default=None, ge=0, le=60000, description="Days since the drug was started")
    days_since_dose_increase: int | None = Field(
        default=None, ge=0, le=60000, description="Days since the dose was last raised"
    )
    days_since_stop: int | None = Field(
        default=None, ge=0, le=60000, description="Days since the drug was stopped (left out: taken now)"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _free_text(value, what="a drug name")

    @field_validator("rxnorm")
    @classmethod
    def _rxnorm(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not RXNORM_ID.fullmatch(value):
            raise ValueError(f"{shown(value, 40)} is not an RxNorm code (allowed: digits, e.g. 311666)")
        return value

    @field_validator("days_since_start", "days_since_dose_increase", "days_since_stop", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        return _number(value, what="a number of days")

    @model_validator(mode="after")
    def _given(self) -> Medication:
        if self.name is None and self.rxnorm is None:
            raise ValueError("give the drug's name or its rxnorm code")
        return self

    @property
    def resolved(self) -> DrugReading:
        """The :class:`~contraxis.terminology.drugs.DrugReading` (cached per name and code)."""
        from .terminology.drugs import resolve_drug

        return resolve_drug(self.name, rxnorm=self.rxnorm)

    @property
    def ingredients(self) -> tuple[str, ...]:
        """The lower-case generic names of its ingredients; () when it could not be resolved."""
        return self.resolved.ingredients

    @property
    def display(self) -> str:
        """How to name it to a reader: 'Reglan (metoclopramide)', 'metoclopramide', and a name
        that already says its ingredients as given ('metoclopramide (Reglan)')."""
        ingredients = " and ".join(self.ingredients)
        given = self.name or f"RxNorm {self.rxnorm}"
        if not ingredients or given.strip().casefold() == ingredients.casefold():
            return ingredients or given
        words = set("".join(c if c.isalpha() else " " for c in given.casefold()).split())
        if self.name and all(set(i.casefold().split()) <= words for i in self.ingredients):
            return given.strip()
        return f"{given} ({ingredients})"


class Imaging(_Model):
    """Brain imaging."""

    mri_brain: MriResult | None = Field(default=None, description="normal, abnormal or not_done")
    findings: tuple[str, ...] = Field(default=(), max_length=MAX_LIST, description="HPO ids of the MRI findings")

    @field_validator("findings")
    @classmethod
    def _findings(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not HPO_ID.fullmatch(value):
                raise ValueError(f"{shown(value, 60)} is not an HPO id (HP: and seven digits)")
        return values


class Genetics(_Model):
    """Gene tests done and their results."""

    tested: tuple[str, ...] = Field(default=(), max_length=MAX_LIST, description="HGNC symbols of the genes tested")
    positive: tuple[str, ...] = Field(
        default=(), max_length=MAX_LIST, description="Genes with a disease-causing variant"
    )

    @field_validator("tested", "positive")
    @classmethod
    def _genes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not GENE_SYMBOL.fullmatch(value):
                raise ValueError(f"{shown(value, 60)} is not an HGNC gene symbol (upper case, e.g. TOR1A)")
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

    @field_validator("age", "onset_age", mode="before")
    @classmethod
    def _ages(cls, value: Any) -> Any:
        return _number(value, what="an age in years")

    @field_validator("family_history", "disabling", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        return _boolean(value)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return None if value is None else _free_text(value, what="an identifier")

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
            if not HISTORY_ID.fullmatch(value):
                raise ValueError(
                    f"{shown(value, 60)} is not a history code (allowed: CX:hx-..., e.g. CX:hx-head-trauma)"
                )
        return values

    @property
    def present(self) -> frozenset[str]:
        """Every finding code given as present, MRI findings included."""
        extra = self.imaging.findings if self.imaging else ()
        return frozenset(self.findings) | frozenset(extra)

    @property
    def years_since_onset(self) -> float | None:
        """Years from the onset to the visit (``age - onset_age``); None when either is unknown."""
        return self.age - self.onset_age if self.age is not None and self.onset_age is not None else None


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
    by_test: dict[str, list[int]] = {}
    for i, lab in enumerate(case.labs):
        key = lab.reading.analyte if lab.reading is not None else lab.loinc
        by_test.setdefault(key, []).append(i)
    for test, rows in by_test.items():
        undated = [i for i in rows if case.labs[i].age_days is None]
        if len(rows) > 1 and undated:
            problems.append(Problem(
                f"case.labs[{undated[0]}]",
                f"{test} is given {len(rows)} times and this result has no date: give days_ago or date to "
                "each result of a repeated test (the latest decides)",
            ))
    return problems


def _field_path(loc: Iterable[Any]) -> str:
    path = "case"
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{excerpt(str(part), 40)}"
    return path


_KINDS = {
    "model_type": "is not an object of fields",
    "model_attributes_type": "is not an object of fields",
    "dict_type": "is not an object of fields",
    "tuple_type": "is not a list",
    "list_type": "is not a list",
    "string_type": "is not text",
    "float_type": "is not a number",
    "float_parsing": "is not a number",
    "int_type": "is not a whole number",
    "int_parsing": "is not a whole number",
    "int_from_float": "is not a whole number",
    "bool_type": "is not true or false",
    "bool_parsing": "is not true or false",
    "finite_number": "is not a finite number",
    "date_type": "is not a date (allowed: YYYY-MM-DD)",
    "date_parsing": "is not a date (allowed: YYYY-MM-DD)",
    "date_from_datetime_parsing": "is not a date (allowed: YYYY-MM-DD)",
    "date_from_datetime_inexact": "is not a date (allowed: YYYY-MM-DD, without a time)",
}


def _message(error: Mapping[str, Any]) -> str:
    """One validation error as a short message: the value shown briefly, what is wrong and
    what is allowed; never a Python type or class name."""
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{shown(value)} is not one of {expected}"
    if kind == "extra_forbidden":
        return "is not a case field (see the README's case format for the fields allowed)"
    if kind == "value_error":
        return str(ctx.get("error", "is not valid"))[:300]
    if kind == "missing":
        return "is required"
    if kind in _KINDS:
        return f"{shown(value)} {_KINDS[kind]}"
    if kind in ("too_long", "too_short", "string_too_long", "string_too_short"):
        unit = "characters" if isinstance(value, str) else "items"
        size = f"{len(value)} {unit}" if isinstance(value, (str, list, tuple)) else unit
        if kind.endswith("too_long"):
            return f"has {size} (allowed: at most {ctx.get('max_length')})"
        return f"has {size} (allowed: at least {ctx.get('min_length')})"
    return f"{shown(value)}: {str(error['msg'])[:1].lower()}{str(error['msg'])[1:200]}"


MAX_PROBLEMS = 20
"""The most problems one error names (then how many more there are)."""


def _overlong_lists(data: Mapping[str, Any]) -> list[Problem]:
    """Lists longer than any field allows, at the top of the case and one level down, found
    before validation reads every item."""
    problems = []

    def check(items: Any, *path: Any) -> None:
        if isinstance(items, (list, tuple)) and len(items) > MAX_LIST:
            where = ".".join(["case", *(excerpt(str(p), 40) for p in path)])
            problems.append(Problem(where, f"has {len(items)} items (allowed: at most {MAX_LIST})"))

    for key, value in data.items():
        check(value, key)
        if isinstance(value, Mapping):
            for inner, items in value.items():
                check(items, key, inner)
    return problems


def _bounded(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], Problem("case", f"and {more} more problems (not shown)")]


def case_problems(data: Any) -> tuple[Case | None, list[Problem]]:
    """Validate ``data`` as a case; return the case (or None) and the problems found (at most
    :data:`MAX_PROBLEMS`, then how many more)."""
    if not isinstance(data, Mapping):
        return None, [Problem("case", f"expected a mapping of case fields, got {shown(data, 40)}")]
    overlong = _overlong_lists(data)
    if overlong:
        return None, _bounded(overlong)
    try:
        case = Case.model_validate(dict(data))
    except ValidationError as error:
        return None, _bounded([Problem(_field_path(e["loc"]), _message(e)) for e in error.errors()])
    return case, _bounded(contradictions(case))


def read_case(data: Any, *, source: str | None = None) -> Case:
    """Validate a mapping as a case (see :func:`read_case_reading`, which also says what was
    not read).

    Raises
    ------
    CaseError
        Naming every bad field, its value and what is allowed.
    ContradictionError
        When the case is well-formed but contradicts itself.
    """
    return read_case_reading(data, source=source).case


def read_case_reading(data: Any, *, source: str | None = None, origins: Mapping[str, str] | None = None) -> Reading:
    """Validate a mapping as a case, and say what in it was not read as given.

    A mapping with a top-level ``case`` block (a vignette, whole or in part) is accepted:
    its ``case`` block is read and nothing else, but for the vignette's ``id``, which names
    the case when the block has none.

    HPO alt_ids and obsolete ids with a replacement are replaced by the current id; drugs are
    resolved to their ingredients; laboratory results are read in the knowledge base's units.
    Each change, and each item that could not be used (an unknown drug, a test no rule reads),
    is a :class:`~contraxis.reading.NotRead` row.

    Parameters
    ----------
    data : Any
        Parsed YAML or JSON.
    source : str, optional
        Names the input in error messages.
    origins : mapping of str to str, optional
        Case path prefix (``case.medications[0]``) -> where in the original input it came
        from (``entry[3].resource``), for readers of other formats.

    Returns
    -------
    Reading
        The case, the not-read rows and the format (``native`` or ``vignette``).

    Raises
    ------
    CaseError
        Naming every bad field, its value and what is allowed.
    ContradictionError
        When the case is well-formed but contradicts itself.
    """
    fmt = "native"
    if isinstance(data, Mapping) and "case" in data:
        fmt = "vignette"
        outer_id = data.get("id")
        data = data["case"]
        named = isinstance(outer_id, (str, int)) and not isinstance(outer_id, bool)
        if isinstance(data, Mapping) and "id" not in data and named:
            data = {"id": str(outer_id), **data}  # a vignette's id names its case
    not_read: list[NotRead] = []
    if isinstance(data, Mapping):
        data = _replace_hpo_ids(data, not_read)
    case, problems = case_problems(data)
    if problems:
        kind = CaseError if case is None else ContradictionError
        raise kind(problems, source=source)
    assert case is not None
    not_read.extend(_resolution_notes(case))
    if origins:
        not_read = [_relocate(item, origins) for item in not_read]
    return Reading(case=case, not_read=tuple(not_read), format=fmt)


def _replace_hpo_ids(data: Mapping[str, Any], not_read: list[NotRead]) -> Mapping[str, Any]:
    """Replace HPO alt_ids and obsolete ids by their current term, noting each."""
    from .codes import HpoTerms
    from .terminology.hpo import hpo_replacement

    terms: list[HpoTerms] = []  # the current release, loaded at the first HPO id (once per case)

    def fix(values: Any, path: str) -> Any:
        if not isinstance(values, (list, tuple)) or len(values) > MAX_LIST:
            return values
        out = []
        for i, code in enumerate(values):
            if isinstance(code, str) and HPO_ID.fullmatch(code):
                if not terms:
                    terms.append(HpoTerms.load())
                if terms[0].is_current(code):
                    out.append(code)
                    continue
                replacement = hpo_replacement(code, ontology=terms[0])
                if replacement is not None:
                    not_read.append(NotRead.of(f"{path}[{i}]", code, replacement.note))
                    code = replacement.current
            out.append(code)
        return out

    fixed = dict(data)
    for key in ("findings", "absent"):
        if key in fixed:
            fixed[key] = fix(fixed[key], f"case.{key}")
    imaging = fixed.get("imaging")
    if isinstance(imaging, Mapping) and "findings" in imaging:
        fixed["imaging"] = {**imaging, "findings": fix(imaging["findings"], "case.imaging.findings")}
    return fixed


def _resolution_notes(case: Case) -> list[NotRead]:
    """What the drug and laboratory resolvers changed or could not read."""
    notes: list[NotRead] = []
    for i, med in enumerate(case.medications):
        resolved = med.resolved
        if resolved.note:
            field = "name" if med.name is not None else "rxnorm"
            notes.append(NotRead.of(f"case.medications[{i}].{field}", getattr(med, field), resolved.note))
    for i, lab in enumerate(case.labs):
        if lab.reading is None:
            notes.append(NotRead.of(
                f"case.labs[{i}].loinc", lab.loinc,
                "not a test the rules read (the differential maps it to HPO terms where it can)",
            ))
        elif lab.reading.note:
            notes.append(NotRead.of(f"case.labs[{i}]", _lab_text(lab), lab.reading.note))
    return notes


def _lab_text(lab: Lab) -> str:
    value = "" if lab.value is None else f"{lab.comparator or ''}{lab.value:g} {lab.unit or ''}".strip()
    return f"{lab.loinc} {value or lab.interpretation or ''}".strip()


def _relocate(item: NotRead, origins: Mapping[str, str]) -> NotRead:
    for prefix in sorted(origins, key=len, reverse=True):
        if item.path == prefix or item.path.startswith(prefix + ".") or item.path.startswith(prefix + "["):
            return NotRead(f"{origins[prefix]} ({item.path})", item.value, item.reason)
    return item


def parse_document(text: str, *, source: str | None = None) -> Any:
    """Parse YAML or JSON text (JSON is YAML, but JSON is tried first for its errors).

    Bounded as :func:`contraxis.documents.parse_document` says: nesting at most
    :data:`~contraxis.documents.MAX_DEPTH` deep, YAML aliases repeating at most
    :data:`~contraxis.documents.MAX_ALIAS_NODES` nodes, no key given twice.

    Raises
    ------
    CaseError
        Naming what is wrong and where (line and column).
    """
    return _parse_document(text, source=source, syntax="YAML or JSON")


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
