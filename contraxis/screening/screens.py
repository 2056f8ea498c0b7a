"""Screens as knowledge: ``knowledge/data/screens.yaml`` read, validated and compiled.

A screen is a must-not-miss pattern (an alert of the knowledge base) looked for across a
population, with the evidence that closes it when someone acted on it. The file is validated
with pydantic, then every name it uses is checked against the knowledge base and the
terminology tables: the alert (``rules/alerts.yaml``), the condition concepts
(``findings.yaml``), the analytes (``terminology/data/labs.yaml``), the drug classes and
treatment groups (``drugs.yaml``) and the source (``sources.yaml``). Any mistake stops the
load with a :class:`~contraxis.errors.KnowledgeBaseError` naming the file, the screen and the
field, every problem at once.

Compiling a screen turns its names into the codes a database holds: a condition concept into
every ICD-10-CM and SNOMED CT code of the problem table that reads as one of its findings
(plus the HPO ids themselves), an analyte into its LOINC codes. No code is written in the
screens file itself; the codes come from the reviewed terminology tables.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import KnowledgeBaseError, Problem, allowed

__all__ = [
    "SCREENS_FILE",
    "Closure",
    "CompiledScreen",
    "Criterion",
    "ScreenFile",
    "ScreenRow",
    "compile_screens",
    "load_screens",
]

SCREENS_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "screens.yaml"


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabEntry(_Row):
    """A laboratory result below a value (the analyte's canonical unit)."""

    analyte: str = Field(min_length=1)
    below: float = Field(gt=0)


class Criterion(_Row):
    """One event of the record: a condition concept, or a laboratory result below a value."""

    condition: str | None = None
    lab: LabEntry | None = None

    @model_validator(mode="after")
    def _one(self) -> Criterion:
        if (self.condition is None) == (self.lab is None):
            raise ValueError("give exactly one of condition or lab")
        return self


class Entry(_Row):
    """Who is a candidate: the index event, and events of which one must also be present."""

    index: Criterion
    with_: tuple[Criterion, ...] = Field(default=(), alias="with")


class Closure(_Row):
    """Evidence that someone acted: an analyte measured, a treatment given or a drug stopped."""

    measured: tuple[str, ...] | None = None
    given: tuple[str, ...] | None = None
    stopped: tuple[str, ...] | None = None
    from_days: int | None = Field(default=None, ge=-36500, le=36500)
    to_days: int | None = Field(default=None, ge=-36500, le=36500)

    @model_validator(mode="after")
    def _one(self) -> Closure:
        given = [k for k in ("measured", "given", "stopped") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of measured, given or stopped")
        if not getattr(self, given[0]):
            raise ValueError(f"{given[0]} names nothing")
        if self.from_days is not None and self.to_days is not None and self.from_days > self.to_days:
            raise ValueError(f"from_days {self.from_days} is after to_days {self.to_days}")
        return self

    @property
    def kind(self) -> str:
        """``measured``, ``given`` or ``stopped``."""
        return next(k for k in ("measured", "given", "stopped") if getattr(self, k) is not None)

    @property
    def names(self) -> tuple[str, ...]:
        """The analytes, treatment groups or drug classes named."""
        return tuple(getattr(self, self.kind))

    def describe(self) -> str:
        """The evidence in words: ``ceruloplasmin measured``, ``sodium measured, 1 to 2 days after the index date``."""
        what = f"{' or '.join(self.names)} {self.kind}"
        if self.from_days is None and self.to_days is None:
            return what
        lo = "any time" if self.from_days is None else _day(self.from_days)
        hi = "the screen date" if self.to_days is None else _day(self.to_days)
        if self.kind == "stopped" and self.from_days is None:
            return f"{what} by {hi}"
        return f"{what}, from {lo} to {hi}"


def _day(days: int) -> str:
    if days == 0:
        return "the index date"
    return f"{abs(days)} day{'s' if abs(days) != 1 else ''} {'after' if days > 0 else 'before'} the index date"


class ScreenRow(_Row):
    """One screen as written in the file."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    label: str = Field(min_length=1)
    alert: str
    entry: Entry
    closed_by: tuple[Closure, ...] = Field(min_length=1)
    lookback_days: int = Field(ge=1, le=36500)
    action: str = Field(min_length=1)
    source: str
    reviewed: dt.date


class ScreenFile(_Row):
    """The whole file."""

    version: str = Field(min_length=1)
    screens: tuple[ScreenRow, ...] = Field(min_length=1)


@dataclass(frozen=True)
class CompiledCriterion:
    """A criterion with the codes a database holds for it.

    ``codes`` are exact codes (ICD-10-CM dotted and undotted, SNOMED CT ids, HPO ids, LOINC
    codes); ``prefixes`` are ICD-10-CM codes whose children count too (``G24.0`` for
    ``G24.09``); ``below`` is the selection bound for a laboratory result: the value below
    which it counts in the unit that gives the highest number, so that selection is never
    narrower than the assessment.
    """

    kind: str
    name: str
    codes: tuple[str, ...]
    prefixes: tuple[str, ...] = ()
    below: float | None = None
    findings: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CompiledScreen:
    """A screen ready to run: the row, its criteria compiled to codes."""

    row: ScreenRow
    index: CompiledCriterion
    with_: tuple[CompiledCriterion, ...]

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def alert(self) -> str:
        return self.row.alert


def _where(raw: Any, loc: Sequence[Any]) -> str:
    parts: list[str] = []
    node = raw
    for i, key in enumerate(loc):
        if i == 1 and isinstance(key, int) and isinstance(node, list) and isinstance(node[key], dict):
            parts[-1:] = [str(node[key].get("id", f"screens[{key}]"))]
        elif isinstance(key, int):
            parts.append(f"[{key}]")
        else:
            parts.append(str(key))
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts).replace(".[", "[")


def _schema_problems(error: ValidationError, raw: Any, name: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = [k for k in item["loc"] if not (isinstance(k, str) and k.startswith(("function-after", "model")))]
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "is not a field of a screen (check the spelling)"
        problems.append(Problem(f"{name}: {_where(raw, loc)}", msg))
    return problems


def _check_names(data: ScreenFile, name: str) -> list[Problem]:
    from ..knowledge import load_knowledge_base
    from ..terminology.labs import analytes

    kb = load_knowledge_base()
    labs = analytes()
    groups = sorted(set(kb.treats_as.values()))
    classes = sorted(kb.drug_classes)
    alerts = sorted({rule.row.alert for rule in kb.alerts})
    problems: list[Problem] = []
    seen: set[str] = set()
    for screen in data.screens:
        at = f"{name}: {screen.id}"
        if screen.id in seen:
            problems.append(Problem(f"{at}.id", f"screen {screen.id!r} is defined twice"))
        seen.add(screen.id)
        if screen.alert not in alerts:
            problems.append(Problem(f"{at}.alert", f"{screen.alert!r} is not an alert of the knowledge base "
                                                   f"(allowed: {allowed(alerts)})"))
        if screen.source not in kb.sources:
            problems.append(Problem(f"{at}.source", f"{screen.source!r} is not in sources.yaml"))
        criteria = [("entry.index", screen.entry.index)] + [
            (f"entry.with[{i}]", c) for i, c in enumerate(screen.entry.with_)
        ]
        for path, criterion in criteria:
            if criterion.condition is not None and criterion.condition not in kb.concepts:
                problems.append(Problem(f"{at}.{path}.condition", f"{criterion.condition!r} is not a concept of "
                                        f"findings.yaml (allowed: {allowed(sorted(kb.concepts))})"))
            if criterion.lab is not None and criterion.lab.analyte not in labs:
                problems.append(Problem(f"{at}.{path}.lab.analyte", f"{criterion.lab.analyte!r} is not an analyte "
                                        f"of labs.yaml (allowed: {allowed(sorted(labs))})"))
        for i, closure in enumerate(screen.closed_by):
            known = {"measured": sorted(labs), "given": groups, "stopped": classes}[closure.kind]
            where = {"measured": "an analyte of labs.yaml", "given": "a treatment group of drugs.yaml",
                     "stopped": "a drug class of drugs.yaml"}[closure.kind]
            for value in closure.names:
                if value not in known:
                    problems.append(Problem(f"{at}.closed_by[{i}].{closure.kind}",
                                            f"{value!r} is not {where} (allowed: {allowed(known)})"))
    return problems


def load_screens(path: str | Path | None = None, *, only: Iterable[str] | None = None) -> tuple[CompiledScreen, ...]:
    """Read, validate and compile the screens.

    Parameters
    ----------
    path : path, optional
        A screens file; the bundled ``knowledge/data/screens.yaml`` by default.
    only : iterable of str, optional
        Screen ids to keep (all by default); an unknown id is an error naming the known ones.

    Returns
    -------
    tuple of CompiledScreen
        In file order.

    Raises
    ------
    KnowledgeBaseError
        Naming the file, the screen and the field of every problem: a field missing or
        unknown, a value of the wrong kind, an alert, concept, analyte, treatment group, drug
        class or source that the knowledge base does not hold, a screen defined twice.
    """
    screens = _load(str(Path(path).resolve()) if path is not None else str(SCREENS_FILE))
    if only is None:
        return screens
    wanted = list(only)
    ids = [s.id for s in screens]
    unknown = [w for w in wanted if w not in ids]
    if unknown:
        raise KnowledgeBaseError([Problem("screens", f"{u!r} is not a screen (allowed: {allowed(ids)})")
                                  for u in unknown])
    return tuple(s for s in screens if s.id in wanted)


@functools.lru_cache(maxsize=8)
def _load(path: str) -> tuple[CompiledScreen, ...]:
    file = Path(path)
    name = file.name
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise KnowledgeBaseError([Problem(name, f"cannot be read: {error.strerror or error}")]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise KnowledgeBaseError([Problem(name, f"is not valid YAML{line}")]) from None
    try:
        data = ScreenFile.model_validate(raw)
    except ValidationError as error:
        raise KnowledgeBaseError(_schema_problems(error, raw, name), source=str(file)) from None
    problems = _check_names(data, name)
    if problems:
        raise KnowledgeBaseError(problems, source=str(file))
    return compile_screens(data)


def compile_screens(data: ScreenFile) -> tuple[CompiledScreen, ...]:
    """Compile validated screens: each criterion to the codes a database holds for it."""
    return tuple(
        CompiledScreen(row=s, index=_compile(s.entry.index), with_=tuple(_compile(c) for c in s.entry.with_))
        for s in data.screens
    )


def _compile(criterion: Criterion) -> CompiledCriterion:
    if criterion.condition is not None:
        codes, prefixes, findings = _condition_codes(criterion.condition)
        return CompiledCriterion("condition", criterion.condition, codes, prefixes, findings=findings)
    assert criterion.lab is not None
    codes, below = _lab_codes(criterion.lab.analyte, criterion.lab.below)
    return CompiledCriterion("lab", criterion.lab.analyte, codes, below=below)


@functools.lru_cache(maxsize=64)
def _condition_codes(concept: str) -> tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]:
    from ..knowledge import load_knowledge_base
    from ..terminology.problems import load_problem_table

    findings = frozenset(load_knowledge_base().concepts[concept])
    codes: set[str] = set(findings)
    prefixes: set[str] = set()
    for entry, row in load_problem_table().rows():
        if row.system == "ICD-11" or not findings.intersection(entry.findings):
            continue
        codes.add(row.code)
        if row.system == "ICD-10-CM":
            codes.add(row.code.replace(".", ""))
            if row.children:
                prefixes.update({row.code, row.code.replace(".", "")})
    return tuple(sorted(codes)), tuple(sorted(prefixes)), findings


def _lab_codes(analyte: str, below: float) -> tuple[tuple[str, ...], float]:
    from ..terminology.labs import analytes
    from ..terminology.units import convert

    info = analytes()[analyte]
    bounds = [below]
    for unit in info.units:
        try:
            bounds.append(convert(below, info.unit, unit, molar_mass=info.molar_mass, charge=info.charge))
        except ValueError:
            continue
    return tuple(sorted(info.loinc_codes)), max(bounds)


def screens_by_id(screens: Iterable[CompiledScreen]) -> Mapping[str, CompiledScreen]:
    """Screens keyed by id."""
    return {s.id: s for s in screens}
