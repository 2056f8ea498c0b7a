"""Rating scales of dystonia: item codes, ranges and the scoring arithmetic, as data.

Each scale is a reviewed file in ``registry/data/scales/`` (BFMDRS, TWSTRS, Tsui, GDRS,
JRS, BSDI, VHI, CDIP-58) that gives its item codes, each item's range, and its scores
(subscores and total) as sums of weighted products of items, the arithmetic of the
primary publication it cites. The loader checks each file against that arithmetic: the
range a score can take, worked out from its items, must be the range the publication
states (BFMDRS movement 0-120, TWSTRS severity 0-35 and so on), so a mistyped weight or
range stops the load.

Totals are always computed here, never typed: an answer that gives a score, a value out of
an item's range or off its steps, or an item the scale does not have, is refused with a
:class:`~contraxis.errors.CaseError` naming the item, the value and the range.

The scales' item wording is not shipped (several are copyrighted, and their owners require
permission to put them on an electronic platform): items carry short neutral labels. A
clinic that holds a licence supplies the wording in a YAML file of item texts
(:func:`load_scales` ``texts=``), merged at load and used in the FHIR Questionnaire::

    licence: "Licensed to ... for use in ... (reference ...)"
    scales:
      twstrs:
        items:
          I.A1: "..."

Exchange is FHIR R4: :func:`questionnaire` builds a Questionnaire per scale,
:func:`questionnaire_response` a QuestionnaireResponse from item values, and
:func:`read_response` reads one back into a :class:`ScaleScore`; each is validated against
the R4B models of ``fhir.resources`` (:mod:`contraxis.io.fhir.validation`). An item answered
"not applicable" (BSDI) carries the data-absent-reason extension ``not-applicable``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contraxis.documents import kind_of
from contraxis.errors import CaseError, KnowledgeBaseError, Problem
from contraxis.reading import excerpt

__all__ = [
    "QUESTIONNAIRE_URL",
    "Scale",
    "ScaleItem",
    "ScaleScore",
    "Scales",
    "Source",
    "Subscore",
    "load_scales",
    "questionnaire",
    "questionnaire_response",
    "read_response",
    "score",
]

SCALES_DIR: Final = Path(__file__).parent / "data" / "scales"
SOURCES_FILE: Final = Path(__file__).parent.parent / "knowledge" / "data" / "sources.yaml"

QUESTIONNAIRE_URL: Final = "urn:contraxis:questionnaire:"
"""The canonical URL of a scale's Questionnaire is this prefix and the scale id."""

_MIN_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/minValue"
_MAX_VALUE: Final = "http://hl7.org/fhir/StructureDefinition/maxValue"
_ABSENT: Final = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
_DONE_STATUSES: Final = ("completed", "amended")

Number = int | float


# --- the data files -----------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _SectionRow(_Row):
    id: str = Field(min_length=1)
    label: str = Field(min_length=1)


class _ItemRow(_Row):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
    label: str = Field(min_length=1, max_length=80)
    section: str
    min: float
    max: float
    step: float = Field(default=1, gt=0)
    not_applicable: bool = False


class _TermRow(_Row):
    items: list[str] = Field(min_length=1)
    weight: float = Field(default=1, gt=0)


class _ScoreRow(_Row):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
    label: str = Field(min_length=1)
    range: tuple[float, float]
    terms: list[_TermRow] = Field(default_factory=list)
    of: list[str] = Field(default_factory=list)
    aggregate: Literal["sum", "mean"] = "sum"
    rescale: bool = False


class _ConstraintRow(_Row):
    kind: Literal["zero-together"]
    items: list[str] = Field(min_length=2)


class _ScaleFile(_Row):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    title: str
    version: str
    source: str
    also: list[str] = Field(default_factory=list)
    reviewed: dt.date
    sections: list[_SectionRow] = Field(min_length=1)
    items: list[_ItemRow] = Field(min_length=1)
    scores: list[_ScoreRow] = Field(min_length=1)
    total: str | None
    constraints: list[_ConstraintRow] = Field(default_factory=list)


class _TextScale(_Row):
    title: str | None = None
    items: dict[str, str] = Field(default_factory=dict)


class _TextFile(_Row):
    licence: str = Field(min_length=1)
    scales: dict[str, _TextScale]


# --- the loaded scales --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """A publication a scale cites: its id in ``sources.yaml``, the citation and the URL."""

    id: str
    citation: str
    url: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "citation": self.citation, "url": self.url}


@dataclass(frozen=True, slots=True)
class ScaleItem:
    """One item of a scale.

    Parameters
    ----------
    code : str
        The item code (the FHIR ``linkId``).
    label : str
        A short neutral label of our own (never the scale's wording).
    section : str
        The section (FHIR group) the item belongs to.
    min, max, step : Fraction
        The range and the steps a value may take (``min``, ``min + step``, ... ``max``).
    not_applicable : bool
        Whether "not applicable" is an answer (the item then counts in no score).
    text : str or None
        The licensed wording, when a clinic supplied it.
    """

    code: str
    label: str
    section: str
    min: Fraction
    max: Fraction
    step: Fraction
    not_applicable: bool = False
    text: str | None = None

    @property
    def whole(self) -> bool:
        """Whether every allowed value is a whole number."""
        return self.min.denominator == 1 and self.step.denominator == 1

    def allowed(self) -> str:
        """The range in words, for messages."""
        steps = "" if self.step == 1 else f" in steps of {_show(self.step)}"
        na = ", or not applicable" if self.not_applicable else ""
        return f"{_show(self.min)}–{_show(self.max)}{steps}{na}"


@dataclass(frozen=True, slots=True)
class Subscore:
    """A score of a scale: a sum (or mean) of weighted products of items, plus other scores.

    ``terms`` is a tuple of ``(weight, item codes)``; a term's value is the weight times the
    product of its items. ``of`` names scores defined before this one that are added in.
    With ``rescale``, the sum is mapped onto 0-100 from its lowest and highest possible
    values. ``range`` is the publication's stated range, checked against the arithmetic.
    """

    id: str
    label: str
    range: tuple[Fraction, Fraction]
    terms: tuple[tuple[Fraction, tuple[str, ...]], ...]
    of: tuple[str, ...] = ()
    aggregate: Literal["sum", "mean"] = "sum"
    rescale: bool = False

    def items(self) -> tuple[str, ...]:
        """The item codes of its own terms (not those of the scores it adds in)."""
        return tuple(dict.fromkeys(code for _, codes in self.terms for code in codes))


@dataclass(frozen=True, slots=True)
class Scale:
    """One rating scale: items, scores and the publication behind its arithmetic."""

    id: str
    title: str
    version: str
    source: Source
    also: tuple[Source, ...]
    reviewed: dt.date
    sections: tuple[tuple[str, str], ...]
    items: Mapping[str, ScaleItem]
    scores: tuple[Subscore, ...]
    total: str | None
    zero_together: tuple[tuple[str, ...], ...] = ()
    licence: str | None = None

    @property
    def url(self) -> str:
        """The canonical URL of its FHIR Questionnaire."""
        return QUESTIONNAIRE_URL + self.id

    def subscore(self, score_id: str) -> Subscore:
        return next(s for s in self.scores if s.id == score_id)


@dataclass(frozen=True)
class Scales(Mapping[str, Scale]):
    """The loaded scales, by id (``bfmdrs``, ``twstrs``, ``tsui``, ``gdrs``, ``jrs``,
    ``bsdi``, ``vhi``, ``cdip58``)."""

    by_id: Mapping[str, Scale]
    texts: Path | None = None

    def __getitem__(self, key: str) -> Scale:
        return self.by_id[key]

    def __iter__(self) -> Any:
        return iter(self.by_id)

    def __len__(self) -> int:
        return len(self.by_id)

    def get_scale(self, scale_id: Any, *, where: str = "scale") -> Scale:
        """The scale of that id, or a :class:`CaseError` listing the scales there are."""
        if isinstance(scale_id, str) and scale_id in self.by_id:
            return self.by_id[scale_id]
        shown = excerpt(scale_id, 40) if isinstance(scale_id, str) else kind_of(scale_id)
        raise CaseError([Problem(where, f"{shown!r} is not a rating scale (scales: {', '.join(self.by_id)})")])

    def by_url(self, url: str) -> Scale | None:
        """The scale whose Questionnaire has that canonical URL (a ``|version`` is ignored)."""
        base = url.split("|", 1)[0]
        return next((s for s in self.by_id.values() if s.url == base), None)


# --- the result ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScaleScore:
    """The scores of one rating, computed from its items.

    Parameters
    ----------
    scale : str
        The scale id.
    title, version : str
        The scale's name and the version of its arithmetic (the publication year).
    items : Mapping[str, float | None]
        The item values as given (None: answered not applicable).
    scores : Mapping[str, float]
        Every score whose items were all given, by score id (subscores and total).
    total : float or None
        The scale's total, when it has one and its items were all given.
    missing : tuple of str
        The item codes not given.
    not_computed : tuple of str
        The scores left out because some of their items were not given.
    source : Source
        The publication of the arithmetic; ``also`` the supporting sources.
    """

    scale: str
    title: str
    version: str
    items: Mapping[str, float | None]
    scores: Mapping[str, float]
    total: float | None
    missing: tuple[str, ...]
    not_computed: tuple[str, ...]
    source: Source
    also: tuple[Source, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "title": self.title,
            "version": self.version,
            "items": dict(self.items),
            "scores": dict(self.scores),
            "total": self.total,
            "missing": list(self.missing),
            "not_computed": list(self.not_computed),
            "source": self.source.to_json(),
            "also": [s.to_json() for s in self.also],
        }


# --- loading ------------------------------------------------------------------------------


def _show(value: Fraction | float) -> str:
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):g}"


def _loc(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise KnowledgeBaseError([Problem(path.name, "file is missing")], source=str(path)) from None
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0] if str(error) else "parse error"
        raise KnowledgeBaseError([Problem(path.name, f"not valid YAML: {first}")], source=str(path)) from None


def _sources(path: Path = SOURCES_FILE) -> dict[str, Source]:
    rows = _read_yaml(path) or []
    out: dict[str, Source] = {}
    for row in rows:
        if isinstance(row, dict) and row.get("id"):
            out[str(row["id"])] = Source(str(row["id"]), str(row.get("citation", "")), str(row.get("url", "")))
    return out


def _frac(value: float) -> Fraction:
    return Fraction(str(value))


def _score_range(score: Subscore, items: Mapping[str, ScaleItem],
                 done: Mapping[str, tuple[Fraction, Fraction]]) -> tuple[Fraction, Fraction]:
    """The lowest and highest value a score can take, from its items' ranges."""
    if score.rescale:
        return Fraction(0), Fraction(100)
    lows: list[Fraction] = []
    highs: list[Fraction] = []
    for weight, codes in score.terms:
        low = high = weight
        for code in codes:
            low *= items[code].min
            high *= items[code].max
        lows.append(low)
        highs.append(high)
    if score.aggregate == "mean":
        return min(lows), max(highs)
    low_sum = sum(lows, Fraction(0)) + sum((done[o][0] for o in score.of), Fraction(0))
    high_sum = sum(highs, Fraction(0)) + sum((done[o][1] for o in score.of), Fraction(0))
    return low_sum, high_sum


def _check_scale(data: _ScaleFile, name: str, sources: Mapping[str, Source]) -> tuple[Scale | None, list[Problem]]:
    problems: list[Problem] = []
    if data.id != Path(name).stem:
        problems.append(Problem(f"{name}: id", f"{data.id!r} must be the file name without .yaml"))
    for field_name, ids in (("source", [data.source]), ("also", data.also)):
        for source_id in ids:
            if source_id not in sources:
                problems.append(Problem(f"{name}: {field_name}", f"source {source_id!r} is not in sources.yaml"))
    section_ids = [s.id for s in data.sections]
    items: dict[str, ScaleItem] = {}
    for i, row in enumerate(data.items):
        where = f"{name}: items[{i}]"
        if row.code in items:
            problems.append(Problem(f"{where}.code", f"{row.code!r} is listed twice"))
        if row.section not in section_ids:
            problems.append(Problem(f"{where}.section", f"{row.section!r} is not a section ({', '.join(section_ids)})"))
        low, high, step = _frac(row.min), _frac(row.max), _frac(row.step)
        if low >= high:
            problems.append(Problem(f"{where}.max", f"{row.max:g} must be above min {row.min:g}"))
        elif (high - low) % step:
            problems.append(Problem(f"{where}.step", f"{row.step:g} does not divide the range {row.min:g}–{row.max:g}"))
        if low < 0:
            problems.append(Problem(f"{where}.min", f"{row.min:g}: item values are 0 or more"))
        items[row.code] = ScaleItem(row.code, row.label, row.section, low, high, step, row.not_applicable)

    used: set[str] = set()
    scores: list[Subscore] = []
    ranges: dict[str, tuple[Fraction, Fraction]] = {}
    for i, srow in enumerate(data.scores):
        where = f"{name}: scores[{i}]"
        if srow.id in items or srow.id in ranges:
            problems.append(Problem(f"{where}.id", f"{srow.id!r} is already an item or a score"))
            continue
        bad = False
        for j, term in enumerate(srow.terms):
            for code in term.items:
                if code not in items:
                    close = difflib.get_close_matches(code, items, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    problems.append(Problem(f"{where}.terms[{j}]", f"{code!r} is not an item of the scale{hint}"))
                    bad = True
                used.add(code)
        for other in srow.of:
            if other not in ranges:
                problems.append(Problem(f"{where}.of", f"{other!r} is not a score defined before {srow.id!r}"))
                bad = True
        if not srow.terms and not srow.of:
            problems.append(Problem(where, "a score needs terms or scores it adds up (of)"))
            bad = True
        if (srow.rescale or srow.aggregate == "mean") and srow.of:
            problems.append(Problem(f"{where}.of", "a rescaled or mean score adds up items only"))
            bad = True
        if bad:
            continue
        subscore = Subscore(
            srow.id, srow.label, (_frac(srow.range[0]), _frac(srow.range[1])),
            tuple((_frac(t.weight), tuple(t.items)) for t in srow.terms), tuple(srow.of), srow.aggregate, srow.rescale,
        )
        low, high = _score_range(subscore, items, ranges)
        if (low, high) != subscore.range:
            problems.append(Problem(
                f"{where}.range",
                f"the arithmetic gives {_show(low)}–{_show(high)} but the publication's range is "
                f"{_show(subscore.range[0])}–{_show(subscore.range[1])}: a weight, a range or a term is wrong",
            ))
        ranges[srow.id] = (low, high)
        scores.append(subscore)
    for code in items:
        if code not in used:
            problems.append(Problem(f"{name}: items.{code}", "is used by no score"))
    if data.total is not None and data.total not in ranges:
        problems.append(Problem(f"{name}: total", f"{data.total!r} is not a score of the scale"))
    together: list[tuple[str, ...]] = []
    for i, constraint in enumerate(data.constraints):
        unknown = [c for c in constraint.items if c not in items]
        if unknown:
            problems.append(Problem(f"{name}: constraints[{i}]", f"{', '.join(unknown)} not items of the scale"))
        together.append(tuple(constraint.items))
    if problems:
        return None, problems
    scale = Scale(
        id=data.id, title=data.title, version=data.version, source=sources[data.source],
        also=tuple(sources[s] for s in data.also), reviewed=data.reviewed,
        sections=tuple((s.id, s.label) for s in data.sections), items=MappingProxyType(items),
        scores=tuple(scores), total=data.total, zero_together=tuple(together),
    )
    return scale, []


def _validation_problems(error: ValidationError, name: str) -> list[Problem]:
    return [
        Problem(f"{name}: {_loc(e['loc'])}", f"{e['msg']} (got {excerpt(e.get('input'), 60)!r})")
        for e in error.errors()
    ]


def _merge_texts(scales: dict[str, Scale], path: Path) -> dict[str, Scale]:
    """Merge a clinic's licensed item texts into the scales."""
    raw = _read_yaml(path)
    try:
        data = _TextFile.model_validate(raw)
    except ValidationError as error:
        raise KnowledgeBaseError(_validation_problems(error, path.name), source=str(path)) from None
    problems: list[Problem] = []
    merged = dict(scales)
    for scale_id, texts in data.scales.items():
        scale = scales.get(scale_id)
        if scale is None:
            problems.append(Problem(f"{path.name}: scales.{scale_id}",
                                    f"is not a rating scale (scales: {', '.join(scales)})"))
            continue
        items = dict(scale.items)
        for code, text in texts.items.items():
            if code not in items:
                problems.append(Problem(f"{path.name}: scales.{scale_id}.items.{code}",
                                        f"is not an item of {scale.title}"))
                continue
            items[code] = ScaleItem(**{**_fields(items[code]), "text": text})
        title = texts.title or scale.title
        merged[scale_id] = Scale(**{**_fields(scale), "items": MappingProxyType(items), "title": title,
                                    "licence": data.licence})
    if problems:
        raise KnowledgeBaseError(problems, source=str(path))
    return merged


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def load_scales(*, texts: Path | None = None, folder: Path | None = None,
                sources: Path | None = None) -> Scales:
    """Read and check the rating scales.

    Parameters
    ----------
    texts : Path, optional
        A clinic's YAML file of licensed item texts, merged into the items (see the module
        docstring for its shape). The file must exist when given.
    folder : Path, optional
        The folder of scale files (the packaged ``registry/data/scales`` by default).
    sources : Path, optional
        The ``sources.yaml`` the scales cite (the knowledge base's by default).

    Returns
    -------
    Scales
        The scales by id.

    Raises
    ------
    KnowledgeBaseError
        A file is not YAML or a row is wrong, naming file, row and field; a source is not in
        ``sources.yaml``; a score's range, worked out from its items, is not the range its
        publication states; the texts file names a scale or item that does not exist.
    """
    folder = SCALES_DIR if folder is None else folder
    known = _sources(SOURCES_FILE if sources is None else sources)
    problems: list[Problem] = []
    scales: dict[str, Scale] = {}
    for path in sorted(folder.glob("*.yaml")):
        raw = _read_yaml(path)
        try:
            data = _ScaleFile.model_validate(raw)
        except ValidationError as error:
            problems.extend(_validation_problems(error, path.name))
            continue
        scale, found = _check_scale(data, path.name, known)
        problems.extend(found)
        if scale is not None:
            scales[scale.id] = scale
    if not scales and not problems:
        problems.append(Problem(str(folder), "holds no scale file"))
    if problems:
        raise KnowledgeBaseError(problems, source=str(folder))
    if texts is not None:
        scales = _merge_texts(scales, texts)
    return Scales(MappingProxyType(scales), texts)


@functools.lru_cache(maxsize=1)
def _default_scales() -> Scales:
    return load_scales()


# --- scoring ------------------------------------------------------------------------------


def _number(value: Any) -> Fraction | None:
    """The value as an exact number, or None when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Fraction(value) if isinstance(value, int) else Fraction(str(value))


def _check_items(scale: Scale, items: Mapping[str, Any], where: Mapping[str, str]) -> dict[str, Fraction | None]:
    problems: list[Problem] = []
    values: dict[str, Fraction | None] = {}
    score_ids = {s.id for s in scale.scores}
    for code, value in items.items():
        at = where.get(code, f"{scale.id}.{code}")
        if not isinstance(code, str):
            problems.append(Problem(f"{scale.id}", f"item codes are text, got {kind_of(code)}"))
            continue
        if code in score_ids:
            problems.append(Problem(at, f"{code!r} is a score of {scale.title}: scores are computed, never entered"))
            continue
        item = scale.items.get(code)
        if item is None:
            close = difflib.get_close_matches(code, scale.items, n=3)
            hint = f"did you mean {', '.join(close)}? " if close else ""
            problems.append(Problem(at, f"{excerpt(code, 40)!r} is not an item of {scale.title} "
                                        f"({hint}{len(scale.items)} items: {', '.join(list(scale.items)[:8])}, ...)"))
            continue
        if value is None:
            if item.not_applicable:
                values[code] = None
            else:
                problems.append(Problem(at, f"'not applicable' is not an answer to {item.label}: "
                                            f"give a value {item.allowed()}"))
            continue
        number = _number(value)
        if number is None:
            problems.append(Problem(at, f"{item.label}: expected a number {item.allowed()}, got {kind_of(value)}"
                                        f" {excerpt(value, 30)!r}"))
        elif not item.min <= number <= item.max:
            problems.append(Problem(at, f"{item.label}: {excerpt(value, 20)} is out of range {item.allowed()}"))
        elif (number - item.min) % item.step:
            kind = "a whole number" if item.whole else f"a multiple of {_show(item.step)}"
            problems.append(Problem(at, f"{item.label}: {excerpt(value, 20)} is not {kind} ({item.allowed()})"))
        else:
            values[code] = number
    for group in scale.zero_together:
        given = [values.get(c) for c in group]
        if all(v is not None for v in given) and any(v == 0 for v in given) and any(v != 0 for v in given):
            shown = ", ".join(f"{scale.items[c].label} {_show(v)}"
                              for c, v in zip(group, given, strict=True) if v is not None)
            problems.append(Problem(where.get(group[0], f"{scale.id}.{group[0]}"),
                                    f"{shown}: these are 0 together (absent) or all above 0"))
    if problems:
        raise CaseError(problems)
    return values


def _compute(scale: Scale, values: Mapping[str, Fraction | None]) -> tuple[dict[str, Fraction], list[str]]:
    done: dict[str, Fraction] = {}
    skipped: list[str] = []
    for sub in scale.scores:
        if any(code not in values for code in sub.items()) or any(o not in done for o in sub.of):
            skipped.append(sub.id)
            continue
        terms: list[Fraction] = []
        low = high = Fraction(0)
        for weight, codes in sub.terms:
            if any(values[c] is None for c in codes):
                continue  # answered not applicable: the term counts in no score
            term = weight
            term_low = term_high = weight
            for code in codes:
                term *= values[code]  # type: ignore[operator]
                term_low *= scale.items[code].min
                term_high *= scale.items[code].max
            terms.append(term)
            low += term_low
            high += term_high
        if sub.terms and not terms:
            skipped.append(sub.id)  # every item not applicable
            continue
        if sub.aggregate == "mean":
            value = sum(terms, Fraction(0)) / len(terms)
        elif sub.rescale:
            value = (sum(terms, Fraction(0)) - low) / (high - low) * 100
        else:
            value = sum(terms, Fraction(0)) + sum((done[o] for o in sub.of), Fraction(0))
        done[sub.id] = value
    return done, skipped


def _float(value: Fraction) -> float:
    return round(float(value), 4)


def _score(scale: Scale, items: Mapping[str, Any], where: Mapping[str, str]) -> ScaleScore:
    values = _check_items(scale, items, where)
    done, skipped = _compute(scale, values)
    total = done.get(scale.total) if scale.total else None
    return ScaleScore(
        scale=scale.id, title=scale.title, version=scale.version,
        items=MappingProxyType({c: (None if v is None else float(v)) for c, v in values.items()}),
        scores=MappingProxyType({k: _float(v) for k, v in done.items()}),
        total=None if total is None else _float(total),
        missing=tuple(c for c in scale.items if c not in values), not_computed=tuple(skipped),
        source=scale.source, also=scale.also,
    )


def score(scale_id: str, items: Mapping[str, Number | None], *, scales: Scales | None = None) -> ScaleScore:
    """Score one rating from its item values.

    Parameters
    ----------
    scale_id : str
        ``bfmdrs``, ``twstrs``, ``tsui``, ``gdrs``, ``jrs``, ``bsdi``, ``vhi`` or ``cdip58``.
    items : Mapping[str, number or None]
        Item code -> value; None answers "not applicable" where the scale allows it. Items
        left out are missing: the scores that need them are not computed.
    scales : Scales, optional
        The loaded scales (the packaged ones by default).

    Returns
    -------
    ScaleScore
        Every score whose items were all given, the total, and the publication of the
        arithmetic.

    Raises
    ------
    CaseError
        An unknown scale or item, a score given as an item, a value that is not a number,
        out of the item's range or off its steps; each problem names the item, the value and
        the range.
    """
    scales = _default_scales() if scales is None else scales
    scale = scales.get_scale(scale_id)
    if not isinstance(items, Mapping):
        raise CaseError([Problem(scale.id, f"expected an object of item codes and values, got {kind_of(items)}")])
    return _score(scale, items, {})


# --- FHIR ---------------------------------------------------------------------------------


def _validated(resource: dict[str, Any], path: str) -> dict[str, Any]:
    from contraxis.io.fhir.validation import check_resource

    checked = check_resource(resource, path=path, strict=True)
    if checked.problems:  # pragma: no cover - what is built here is valid by construction
        raise CaseError(list(checked.problems))
    return resource


def _bound(item: ScaleItem, value: Fraction) -> dict[str, Any]:
    return {"valueInteger": int(value)} if item.whole else {"valueDecimal": float(value)}


def questionnaire(scale_id: str, *, scales: Scales | None = None) -> dict[str, Any]:
    """The FHIR R4 Questionnaire of a scale (JSON), validated against ``fhir.resources``.

    One group per section, one integer (or decimal) item per scale item with its range as
    the ``minValue`` / ``maxValue`` extensions. Item text is the neutral label, or the
    licensed wording when a clinic supplied it (:func:`load_scales` ``texts=``).

    Raises
    ------
    CaseError
        The scale is unknown.
    """
    scales = _default_scales() if scales is None else scales
    scale = scales.get_scale(scale_id)
    groups = []
    for section_id, label in scale.sections:
        members = [item for item in scale.items.values() if item.section == section_id]
        groups.append({
            "linkId": section_id,
            "type": "group",
            "text": label,
            "item": [
                {
                    "linkId": item.code,
                    "type": "integer" if item.whole else "decimal",
                    "text": item.text or item.label,
                    "extension": [{"url": _MIN_VALUE, **_bound(item, item.min)},
                                  {"url": _MAX_VALUE, **_bound(item, item.max)}],
                }
                for item in members
            ],
        })
    wording = (f"Item wording used under licence: {scale.licence}" if scale.licence else
               "Item wording is not included (copyright of its owners; electronic use needs their "
               "permission): items carry neutral labels. Scoring follows the cited publication.")
    resource = {
        "resourceType": "Questionnaire",
        "id": scale.id,
        "url": scale.url,
        "version": scale.version,
        "name": scale.id.upper().replace("-", "_"),
        "title": scale.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": f"Items and ranges of the {scale.title}. Scoring: {scale.source.citation}",
        "copyright": wording,
        "item": groups,
    }
    return _validated(resource, "Questionnaire")


def questionnaire_response(scale_id: str, items: Mapping[str, Number | None], *, subject: str | None = None,
                           authored: str | None = None, scales: Scales | None = None) -> dict[str, Any]:
    """A FHIR R4 QuestionnaireResponse (JSON) holding item values, validated first.

    Parameters
    ----------
    scale_id : str
        The scale.
    items : Mapping[str, number or None]
        Item values as for :func:`score` (None: not applicable).
    subject : str, optional
        A reference to the patient (``Patient/abc``).
    authored : str, optional
        When it was answered (a FHIR dateTime).

    Raises
    ------
    CaseError
        As :func:`score`.
    """
    scales = _default_scales() if scales is None else scales
    scale = scales.get_scale(scale_id)
    result = score(scale_id, items, scales=scales)
    groups = []
    for section_id, _label in scale.sections:
        answered = []
        for item in scale.items.values():
            if item.section != section_id or item.code not in result.items:
                continue
            value = result.items[item.code]
            if value is None:
                answered.append({"linkId": item.code, "extension": [{"url": _ABSENT, "valueCode": "not-applicable"}]})
            else:
                answer = {"valueInteger": int(value)} if item.whole else {"valueDecimal": value}
                answered.append({"linkId": item.code, "answer": [answer]})
        if answered:
            groups.append({"linkId": section_id, "item": answered})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{scale.url}|{scale.version}",
        "status": "completed",
    }
    if subject:
        resource["subject"] = {"reference": subject}
    if authored:
        resource["authored"] = authored
    if groups:
        resource["item"] = groups
    return _validated(resource, "QuestionnaireResponse")


def _walk(items: Sequence[Any], path: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for i, item in enumerate(items):
        at = f"{path}.item[{i}]"
        yield at, item
        if isinstance(item, Mapping) and item.get("item"):
            yield from _walk(item["item"], at)


def _not_applicable(item: Mapping[str, Any]) -> bool:
    return any(
        isinstance(ext, Mapping) and ext.get("url") == _ABSENT and ext.get("valueCode") == "not-applicable"
        for ext in item.get("extension") or ()
    )


def read_response(resource: Mapping[str, Any], *, scales: Scales | None = None) -> ScaleScore:
    """Score a FHIR R4 QuestionnaireResponse of one of the scales.

    The response is validated against the R4B model; its ``questionnaire`` must be the
    canonical URL of a scale (``urn:contraxis:questionnaire:twstrs``, optionally with
    ``|version``); its status ``completed`` or ``amended``. Groups are walked; each answered
    item must be an item of the scale with one integer or decimal answer; an item with the
    data-absent-reason extension ``not-applicable`` is not applicable.

    Raises
    ------
    CaseError
        The resource is not a valid QuestionnaireResponse, names another questionnaire or
        version, is not completed, holds an unknown item, a score, several answers or an
        answer that is not a number, or a value out of range; each problem names the
        element (``QuestionnaireResponse.item[0].item[2].answer[0]``).
    """
    from contraxis.io.fhir.validation import check_resource

    scales = _default_scales() if scales is None else scales
    root = "QuestionnaireResponse"
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "QuestionnaireResponse":
        got = resource.get("resourceType") if isinstance(resource, Mapping) else kind_of(resource)
        raise CaseError([Problem(f"{root}.resourceType",
                                 f"expected a QuestionnaireResponse, got {excerpt(got, 40)!r}")])
    checked = check_resource(dict(resource), path=root, strict=True)
    if checked.problems:
        raise CaseError(list(checked.problems))
    given = resource.get("questionnaire")
    canonical = given if isinstance(given, str) else ""
    scale = scales.by_url(canonical) if canonical else None
    if scale is None:
        raise CaseError([Problem(f"{root}.questionnaire",
                                 f"{excerpt(given, 80)!r} is not the Questionnaire of a rating scale "
                                 f"(expected {QUESTIONNAIRE_URL}<scale>, scales: {', '.join(scales)})")])
    problems: list[Problem] = []
    if "|" in canonical and canonical.split("|", 1)[1] != scale.version:
        problems.append(Problem(f"{root}.questionnaire", f"version {excerpt(canonical.split('|', 1)[1], 20)!r} "
                                                        f"of {scale.title} is not known (known: {scale.version})"))
    status = resource.get("status")
    if status not in _DONE_STATUSES:
        problems.append(Problem(f"{root}.status", f"{excerpt(status, 20)!r}: only a completed or amended "
                                                  "response is scored"))
    sections = {s for s, _ in scale.sections}
    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    for at, item in _walk(resource.get("item") or [], root):
        link = str(item.get("linkId", ""))
        answers = item.get("answer") or []
        if link in sections and not answers:
            continue
        if link in where:
            problems.append(Problem(f"{at}.linkId", f"{excerpt(link, 40)!r} is answered twice (also {where[link]})"))
            continue
        if len(answers) > 1:
            problems.append(Problem(f"{at}.answer", f"{len(answers)} answers: each item takes one"))
            continue
        if not answers:
            if _not_applicable(item):
                values[link] = None
                where[link] = at
            continue
        answer = answers[0]
        value = answer.get("valueInteger", answer.get("valueDecimal"))
        key = "valueInteger" if "valueInteger" in answer else "valueDecimal"
        if value is None:
            kinds = [k for k in answer if k.startswith("value")]
            problems.append(Problem(f"{at}.answer[0]", f"expected valueInteger or valueDecimal, got "
                                                       f"{', '.join(kinds) or 'no value'}"))
            continue
        values[link] = value
        where[link] = f"{at}.answer[0].{key}"
    if problems:
        raise CaseError(problems)
    return _score(scale, values, where)
