"""Laboratory results: which test a LOINC code is, its value in the analyte's canonical unit,
and whether that value is possible at all.

Every reader (native case, web form, FHIR, phenopacket) calls :func:`read_lab` for each result
and gets a :class:`LabReading` or a :class:`LabProblem` that names the field, the analyte, the
LOINC code, the value and unit as given and what is allowed. The analytes, their LOINC codes
(each with its Long Common Name and where it was checked), canonical units, molar masses,
plausible limits and the interpretation codes are reviewed data in
``terminology/data/labs.yaml``; units are read and converted by :mod:`contraxis.terminology.units`.

How a result is read
--------------------
* The LOINC code decides the analyte (calcium under 17861-6, 2000-8 or 49765-1); the unit
  decides how the value is read, even where it is of another kind than the code's property
  (mmol/L under the mass code 17861-6), as the case format specifies: laboratories often
  report SI values under the conventional code, so this is not noted.
* The value is converted to the analyte's canonical unit (calcium mg/dL), through the molar
  mass between mass and moles and through the ion's charge for equivalents (mEq/L of a
  divalent ion = mmol/L x 2); enzymatic U/L and IU/L are the same.
* A value that no living patient can have (NaN, infinite, negative, zero where impossible, or
  outside the analyte's plausible limits) is refused. When another unit the analyte is
  reported in makes it plausible, the message says so: "2.35 mg/dL is not a possible calcium
  (17861-6) value (plausible: 3 to 25 mg/dL); 2.35 mmol/L is 9.4 mg/dL: was it in mmol/L?".
* A comparator (``<``, ``<=``, ``>``, ``>=``) is kept: the value is then a bound, and it is
  refused only when no plausible value lies on its side of the bound.
* A result given only as an interpretation (``low``, FHIR ``L``) is kept without a value.
* A possible but abnormal value that would be usual in another reported unit (magnesium 0.85
  mg/dL, a normal 0.85 mmol/L) is read as given, with a note to check the unit.

Sources: LOINC (``loinc``) for the codes, CIAAW 2021 (``ciaaw-2021``) for atomic weights, HL7
v3 ObservationInterpretation for interpretation codes; reference intervals are the knowledge
base's. Plausible limits are reasoned in the data file, not taken from a study.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from contraxis.codes.patterns import LOINC_CODE, anchored
from contraxis.errors import KnowledgeBaseError, Problem
from contraxis.terminology import units as _units

__all__ = [
    "COMPARATORS",
    "INTERPRETATIONS",
    "AnalyteInfo",
    "LabProblem",
    "LabReading",
    "LabTables",
    "analyte_of",
    "analytes",
    "format_value",
    "lab_loinc_codes",
    "load_lab_tables",
    "normalise_interpretation",
    "read_lab",
]

COMPARATORS: Final = ("<", "<=", ">", ">=")
"""The comparators a result may carry (FHIR Quantity.comparator, less ``ad``)."""

INTERPRETATIONS: Final = ("low", "high", "normal", "abnormal", "critical-low", "critical-high")
"""The interpretations Contraxis reasons with."""

Interpretation = Literal["low", "high", "normal", "abnormal", "critical-low", "critical-high"]
LoincProperty = Literal["MCnc", "SCnc", "CCnc", "MRat", "SRat"]

_DATA: Final = Path(__file__).parent / "data" / "labs.yaml"
_SOURCES: Final = Path(__file__).parent.parent / "knowledge" / "data" / "sources.yaml"


# --- public types -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabReading:
    """One laboratory result as Contraxis reads it.

    Parameters
    ----------
    analyte : str
        The analyte id: the knowledge base's test ids (``calcium``, ``sodium``, ``magnesium``,
        ``ceruloplasmin``, ``creatine-kinase``, ``parathyroid-hormone``, ``urine-copper``) plus
        ``ionized-calcium``, ``potassium``, ``albumin``.
    loinc : str
        The LOINC code as given (surrounding spaces removed).
    value : float or None
        The value in the canonical unit, unrounded; None for a result given only as an
        interpretation.
    unit : str
        The analyte's canonical unit (UCUM), e.g. ``mg/dL``.
    given_value : float or None
        The value as given.
    given_unit : str or None
        The unit as given.
    comparator : str or None
        One of :data:`COMPARATORS`: the value is then a bound.
    interpretation : str or None
        One of :data:`INTERPRETATIONS`.
    note : str
        ``""`` when read as given; else one sentence saying what was assumed or changed.
    """

    analyte: str
    loinc: str
    value: float | None
    unit: str
    given_value: float | None
    given_unit: str | None
    comparator: str | None
    interpretation: str | None
    note: str


class LabProblem(ValueError):
    """A laboratory result that cannot be read.

    Attributes
    ----------
    field : str
        ``loinc``, ``value``, ``unit``, ``comparator`` or ``interpretation``.
    message : str
        Names the analyte and LOINC code, the value and unit as given, and what is allowed.
    analyte : str or None
        The analyte id, when the LOINC code was read.
    loinc : str or None
        The LOINC code as given, when it is text.
    """

    def __init__(self, field: str, message: str, *, analyte: str | None = None, loinc: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.analyte = analyte
        self.loinc = loinc


@dataclass(frozen=True, slots=True)
class AnalyteInfo:
    """What Contraxis knows of one analyte.

    Parameters
    ----------
    id, name : str
        The analyte id (``calcium``) and its name in messages (``calcium``).
    unit : str
        The canonical unit (UCUM).
    loinc_codes : tuple of str
        The LOINC codes read as this analyte.
    case_format_codes : tuple of str
        Codes also read as this analyte because the Contraxis case format writes them so,
        though LOINC gives them another meaning (13967-5 for urine copper).
    loinc_names : Mapping[str, str]
        The LOINC Long Common Name of each code (for a case-format code, LOINC's own meaning).
    units : tuple of str
        The units laboratories report it in, canonical first.
    digits : Mapping[str, int]
        Decimals a laboratory reports in each of ``units``.
    plausible : tuple of float
        (low, high) of the values compatible with a living patient, canonical unit, inclusive.
    reference : tuple of float or None
        The adult reference interval, canonical unit (the knowledge base's, where it has one).
    molar_mass : float or None
        g/mol.
    charge : int or None
        The ion's charge, for equivalents.
    """

    id: str
    name: str
    unit: str
    loinc_codes: tuple[str, ...]
    case_format_codes: tuple[str, ...]
    loinc_names: Mapping[str, str]
    units: tuple[str, ...]
    digits: Mapping[str, int]
    plausible: tuple[float, float]
    reference: tuple[float, float] | None
    molar_mass: float | None
    charge: int | None


@dataclass(frozen=True, slots=True)
class _CodeInfo:
    loinc: str
    analyte: str
    name: str
    property: str
    loinc_meaning: str | None


@dataclass(frozen=True, slots=True)
class LabTables:
    """The reviewed laboratory data, read once from ``labs.yaml`` (see :func:`load_lab_tables`)."""

    analytes: Mapping[str, AnalyteInfo]
    codes: Mapping[str, _CodeInfo]
    equivalents: Mapping[str, Mapping[str, str]]
    interpretation_codes: Mapping[str, str]
    interpretation_words: Mapping[str, str]


# --- the data file ------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Code(_Row):
    loinc: str = Field(pattern=anchored(LOINC_CODE))
    name: str = Field(min_length=1)
    property: LoincProperty
    source: str
    evidence: str = Field(min_length=1)
    loinc_meaning: str | None = None


class _Analyte(_Row):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str = Field(min_length=1)
    unit: str
    units: dict[str, int] = Field(min_length=1)
    unit_equivalents: dict[str, str] = Field(default_factory=dict)
    molar_mass: float | None = Field(default=None, gt=0)
    molar_mass_source: str | None = None
    charge: int | None = Field(default=None, ge=1, le=3)
    plausible: tuple[float, float]
    reference: tuple[float, float] | None = None
    reference_source: str | None = None
    codes: list[_Code] = Field(min_length=1)


class _Interpretations(_Row):
    source: str
    codes: dict[str, Interpretation]
    words: dict[str, Interpretation]


class _LabFile(_Row):
    analytes: list[_Analyte] = Field(min_length=1)
    interpretations: _Interpretations


def _word_key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").lower().split())


def load_lab_tables(path: Path | None = None) -> LabTables:
    """Read and check laboratory data (the packaged ``labs.yaml`` when ``path`` is None).

    Returns
    -------
    LabTables

    Raises
    ------
    KnowledgeBaseError
        The file is missing, is not YAML, or a row is wrong; each problem names the file, the
        row and the field (``labs.yaml: analytes[0].codes[1].loinc: ...``). Checked beyond the
        schema: every LOINC code passes its mod-10 check digit and is listed once, sources
        resolve in sources.yaml, units are in the unit table and convert to the canonical unit
        (so a molar mass or charge that is needed is there), the plausible limits hold the
        reference interval.
    """
    from contraxis.codes import loinc_check_digit_ok  # cheap; only at load

    path = _DATA if path is None else path
    name = path.name
    data = _units.read_data_file(path, _LabFile)

    unit_table = _units._table()
    sources = _units._known_sources()
    problems: list[Problem] = []
    analytes: dict[str, AnalyteInfo] = {}
    codes: dict[str, _CodeInfo] = {}
    equivalents: dict[str, Mapping[str, str]] = {}

    def need_source(where: str, source: str | None) -> None:
        if source is not None and source not in sources:
            problems.append(Problem(where, f"source {source!r} is not in sources.yaml"))

    for i, row in enumerate(data.analytes):
        at = f"{name}: analytes[{i}]"
        if row.id in analytes:
            problems.append(Problem(f"{at}.id", f"analyte {row.id!r} is defined twice"))
        need_source(f"{at}.molar_mass_source", row.molar_mass_source)
        need_source(f"{at}.reference_source", row.reference_source)
        if row.reference is not None and row.reference_source is None:
            problems.append(Problem(f"{at}.reference_source", "a reference interval needs its source"))
        if next(iter(row.units)) != row.unit:
            problems.append(Problem(f"{at}.units", f"the first unit must be the canonical unit {row.unit!r}"))
        for unit, digits in row.units.items():
            if unit not in unit_table.units:
                problems.append(Problem(f"{at}.units.{unit}", f"{unit!r} is not a unit of units.yaml"))
            elif not 0 <= digits <= 4:
                problems.append(Problem(f"{at}.units.{unit}", f"decimals must be 0 to 4 (got {digits})"))
            else:
                try:
                    _units.convert(1.0, unit, row.unit, molar_mass=row.molar_mass, charge=row.charge)
                except ValueError as error:
                    problems.append(Problem(f"{at}.units.{unit}", f"does not convert to {row.unit}: {error}"))
        for given, same in row.unit_equivalents.items():
            if given not in unit_table.units or same not in unit_table.units:
                problems.append(Problem(f"{at}.unit_equivalents.{given}", "both units must be in units.yaml"))
        low, high = row.plausible
        if not 0 <= low <= high:
            problems.append(Problem(f"{at}.plausible", f"needs 0 <= low <= high (got {low}, {high})"))
        if row.reference is not None and not (0 <= row.reference[0] <= row.reference[1] <= high):
            problems.append(
                Problem(f"{at}.reference", f"{row.reference} must lie between 0 and the plausible high {high}")
            )
        real: list[str] = []
        legacy: list[str] = []
        names: dict[str, str] = {}
        for j, code in enumerate(row.codes):
            where = f"{at}.codes[{j}].loinc"
            need_source(f"{at}.codes[{j}].source", code.source)
            if not loinc_check_digit_ok(code.loinc):
                problems.append(Problem(where, f"{code.loinc} fails the LOINC mod-10 check digit"))
            if code.loinc in codes:
                problems.append(Problem(where, f"{code.loinc} is already read as {codes[code.loinc].analyte}"))
            codes[code.loinc] = _CodeInfo(code.loinc, row.id, code.name, code.property, code.loinc_meaning)
            (legacy if code.loinc_meaning else real).append(code.loinc)
            names[code.loinc] = code.loinc_meaning or code.name
        analytes[row.id] = AnalyteInfo(
            id=row.id,
            name=row.name,
            unit=row.unit,
            loinc_codes=tuple(real),
            case_format_codes=tuple(legacy),
            loinc_names=MappingProxyType(names),
            units=tuple(row.units),
            digits=MappingProxyType(dict(row.units)),
            plausible=(float(low), float(high)),
            reference=None if row.reference is None else (float(row.reference[0]), float(row.reference[1])),
            molar_mass=row.molar_mass,
            charge=row.charge,
        )
        equivalents[row.id] = MappingProxyType(dict(row.unit_equivalents))

    interp = data.interpretations
    need_source(f"{name}: interpretations.source", interp.source)
    words = {_word_key(w): v for w, v in interp.words.items()}
    for value in INTERPRETATIONS:  # each interpretation reads as itself
        words.setdefault(_word_key(value), value)
    if problems:
        raise KnowledgeBaseError(problems, source=str(path))
    return LabTables(
        analytes=MappingProxyType(analytes),
        codes=MappingProxyType(codes),
        equivalents=MappingProxyType(equivalents),
        interpretation_codes=MappingProxyType({k.upper(): v for k, v in interp.codes.items()}),
        interpretation_words=MappingProxyType(words),
    )


@functools.cache
def _tables() -> LabTables:
    return load_lab_tables()


# --- look-ups -----------------------------------------------------------------------------


def analytes() -> Mapping[str, AnalyteInfo]:
    """Every analyte Contraxis reads, by id (read-only)."""
    return _tables().analytes


def analyte_of(loinc: str) -> str | None:
    """The analyte id a LOINC code is read as (``2000-8`` -> ``calcium``), None if not read."""
    if not isinstance(loinc, str):
        return None
    code = _tables().codes.get(loinc.strip())
    return code.analyte if code is not None else None


def lab_loinc_codes() -> tuple[str, ...]:
    """Every LOINC code read, analyte by analyte, for FHIR search and prefetch filters.

    Codes kept only because the case format writes them for another test (13967-5, which
    LOINC defines as sex hormone binding globulin) are left out, so that EHRs are not asked
    for results Contraxis would misread.
    """
    return tuple(code for info in _tables().analytes.values() for code in info.loinc_codes)


def normalise_interpretation(code_or_text: str) -> str | None:
    """Read an interpretation into one of :data:`INTERPRETATIONS`.

    Parameters
    ----------
    code_or_text : str
        A FHIR v3 ObservationInterpretation code (``L``, ``H``, ``N``, ``A``, ``AA``, ``LL``,
        ``HH``, ``LU``, ``HU``, ``LX``, ``HX``, ``EX``; any case) or words (``Low``,
        ``below normal``, ``within normal limits``, ``critical low``, ``critical-high``).

    Returns
    -------
    str or None
        The interpretation, or None when it is not read (off-scale ``<`` / ``>``, change codes,
        anything else). Source: HL7 v3-ObservationInterpretation (``labs.yaml``).
    """
    if not isinstance(code_or_text, str):
        return None
    text = code_or_text.strip()
    if not text:
        return None
    tables = _tables()
    found = tables.interpretation_codes.get(text.upper()) if len(text) <= 3 else None
    return found if found is not None else tables.interpretation_words.get(_word_key(text))


def format_value(analyte: str, value: float, unit: str | None = None) -> str:
    """A value as a laboratory reports it: ``format_value("calcium", 9.41833)`` is ``"9.4"``.

    Parameters
    ----------
    analyte : str
        An analyte id (:func:`analytes`).
    value : float
        The value, in ``unit``.
    unit : str, optional
        A UCUM unit; the analyte's canonical unit when None.

    Returns
    -------
    str
        Rounded to the decimals kept for that analyte and unit in ``labs.yaml`` (calcium mg/dL
        1, sodium mmol/L 0), else to 3 significant digits; ``nan``/``inf`` as such.

    Raises
    ------
    KeyError
        ``analyte`` is not an analyte id.
    """
    info = _tables().analytes[analyte]
    if not math.isfinite(value):
        return _show(value)
    return _round(value, info.digits.get(info.unit if unit is None else unit))


# --- read_lab -----------------------------------------------------------------------------


def _show(value: float) -> str:
    """A value as given: 2.35, 140, nan, inf."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _round(value: float, digits: int | None) -> str:
    """A value as a laboratory reports it: fixed decimals, or 3 significant digits."""
    if digits is not None:
        return f"{value:.{digits}f}"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    return _trim(f"{value:.{max(0, 2 - magnitude)}f}")


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _bound(value: float, digits: int | None) -> str:
    """A limit, without trailing zeros (3 to 25 mg/dL, 0.75 to 6.24 mmol/L)."""
    text = _trim(_round(value, digits))
    return _trim(_round(value, None)) if text in ("0", "-0") and value != 0 else text


def _allowed(info: AnalyteInfo) -> str:
    return ", ".join(info.units)


def _fits(value: float, comparator: str | None, low: float, high: float) -> bool:
    """Whether some plausible value agrees with ``value`` read with ``comparator``."""
    if comparator is None:
        return low <= value <= high
    if comparator == "<":
        return value > low
    if comparator == "<=":
        return value >= low
    if comparator == ">":
        return value < high
    return value <= high  # ">="


def _to(value: float, src: str, dst: str, info: AnalyteInfo) -> float:
    return _units.convert(value, src, dst, molar_mass=info.molar_mass, charge=info.charge)


def _loinc_list(tables: LabTables) -> str:
    return "; ".join(f"{a.name} {', '.join(a.loinc_codes)}" for a in tables.analytes.values())


def _read_code(loinc: Any) -> tuple[str, AnalyteInfo, _CodeInfo]:
    tables = _tables()
    if not isinstance(loinc, str) or not loinc.strip():
        raise LabProblem("loinc", f"a laboratory result needs a LOINC code such as 17861-6 (got {loinc!r})")
    code = loinc.strip()
    info = tables.codes.get(code)
    if info is None:
        from contraxis.codes import loinc_check_digit_ok

        shown = code[:40]
        if not loinc_check_digit_ok(code):
            raise LabProblem(
                "loinc", f"{shown!r} is not a LOINC code (they look like 17861-6, with a valid check digit)", loinc=code
            )
        raise LabProblem(
            "loinc",
            f"LOINC {code} is not a laboratory test Contraxis reads; it reads {_loinc_list(tables)}",
            loinc=code,
        )
    return code, tables.analytes[info.analyte], info


def _read_comparator(comparator: Any, where: str, code: str, analyte: str) -> str | None:
    if comparator is None:
        return None
    text = comparator.strip() if isinstance(comparator, str) else comparator
    if text in COMPARATORS:
        return text
    if isinstance(text, str) and text.lower() == "ad":
        raise LabProblem("comparator", f"comparator 'ad' on {where} is not read: Contraxis reasons with values and "
                                       f"bounds only (allowed: {', '.join(COMPARATORS)})", analyte=analyte, loinc=code)
    raise LabProblem("comparator", f"comparator {str(comparator)[:20]!r} on {where} is not one of "
                                   f"{', '.join(COMPARATORS)}", analyte=analyte, loinc=code)


def read_lab(
    loinc: str,
    value: float | None,
    unit: str | None,
    *,
    comparator: str | None = None,
    interpretation: str | None = None,
) -> LabReading:
    """Read one laboratory result.

    Parameters
    ----------
    loinc : str
        The LOINC code (any of :func:`lab_loinc_codes`, or a code the case format writes).
    value : float or None
        The value in ``unit``; None for a result given only as an interpretation.
    unit : str or None
        The unit as written: anything :func:`contraxis.terminology.units.normalise_unit` reads.
    comparator : str, optional
        ``<``, ``<=``, ``>`` or ``>=``: the value is a bound.
    interpretation : str, optional
        ``low``, ``high``, ``normal``, ``abnormal``, ``critical-low``, ``critical-high``, a FHIR
        ObservationInterpretation code or words (see :func:`normalise_interpretation`).

    Returns
    -------
    LabReading
        The value in the analyte's canonical unit (unrounded), the value and unit as given,
        and a note when something was assumed.

    Raises
    ------
    LabProblem
        ``field="loinc"``: not a LOINC code, or not one Contraxis reads.
        ``field="value"``: not a number, NaN, infinite, negative, or impossible for the
        analyte (the message gives the plausible range and, when another reported unit makes
        the value plausible, that unit); or neither a value nor an interpretation.
        ``field="unit"``: missing with a value, not a unit, or not convertible to the
        canonical unit (the message lists the units allowed).
        ``field="comparator"``: not one of :data:`COMPARATORS` (``ad`` included), or given
        without a value. ``field="interpretation"``: not read.

    Pure and cheap: the data is read once; the UCUM library is loaded only for a unit that is
    not in the unit table.
    """
    code, info, code_info = _read_code(loinc)
    where = f"{info.name} ({code})"

    def problem(field: str, message: str) -> LabProblem:
        return LabProblem(field, message, analyte=info.id, loinc=code)

    comparator = _read_comparator(comparator, where, code, info.id)
    interp: str | None = None
    if interpretation is not None:
        interp = normalise_interpretation(interpretation) if isinstance(interpretation, str) else None
        if interp is None:
            raise problem("interpretation", f"interpretation {str(interpretation)[:40]!r} of {where} is not read "
                                            f"(allowed: {', '.join(INTERPRETATIONS)}, or a FHIR "
                                            f"ObservationInterpretation code such as L, H, N, A, LL, HH)")
    given_unit = unit if isinstance(unit, str) else (None if unit is None else str(unit))
    case_note = (f"{code} is {code_info.loinc_meaning} in LOINC, read as {info.name} as the Contraxis case "
                 f"format writes it") if code_info.loinc_meaning else ""

    if value is None:
        if comparator is not None:
            raise problem("comparator", f"comparator {comparator!r} of {where} has no value to bound")
        if interp is None:
            raise problem("value", f"{where} has neither a value nor an interpretation "
                                   f"(give a value in {_allowed(info)}, or an interpretation)")
        return LabReading(info.id, code, None, info.unit, None, given_unit, None, interp, _sentence([case_note]))

    if isinstance(value, bool) or not isinstance(value, (Real, Decimal)):
        from contraxis.reading import excerpt

        got = f"text {excerpt(repr(value), 40)}" if isinstance(value, str) else excerpt(value, 40)
        raise problem("value", f"the value of {where} must be a number in {_allowed(info)}, not {got}")
    number = float(value)
    ucum = _units.normalise_unit(given_unit) if given_unit is not None else None
    ucum = _equivalent(info.id, ucum)
    shown_unit = (given_unit or "").strip() or (ucum or info.unit)
    prefix = f"{comparator} " if comparator else ""
    as_given = f"{prefix}{_show(number)} {shown_unit}"

    if not math.isfinite(number):
        why = "not a number" if math.isnan(number) else "infinite"
        raise problem("value", f"{as_given} is not a possible {where} value: {why} "
                               f"({_plausible_in(info, ucum)})")
    if given_unit is None or not given_unit.strip():
        raise problem("unit", f"{prefix}{_show(number)} for {where} has no unit (allowed: {_allowed(info)})")
    if ucum is None:
        raise problem("unit", f"{given_unit.strip()[:40]!r} is not a unit Contraxis can read for {where} "
                              f"(allowed: {_allowed(info)}){_meaning(code, code_info)}")
    try:
        canonical = _to(number, ucum, info.unit, info)
    except ValueError:
        src = _units.unit_info(ucum)
        kind = f" ({_units.describe_property(src.property)})" if src is not None else ""
        raise problem("unit", f"{as_given}: {ucum}{kind} cannot be read as {where}, which is measured in "
                              f"{info.unit} (allowed: {_allowed(info)}){_meaning(code, code_info)}") from None
    if number < 0:
        raise problem("value", f"{as_given} is not a possible {where} value: negative ({_plausible_in(info, ucum)})")
    low, high = info.plausible
    if not _fits(canonical, comparator, low, high):
        raise problem("value", f"{as_given} is not a possible {where} value ({_plausible_in(info, ucum)})"
                               f"{_suggest(number, comparator, ucum, info)}")

    # A value in the unit of the case format's meaning (a mass or moles per time for 13967-5)
    # is read as the case format writes it; only a flag without a value stays ambiguous.
    notes = []
    if given_unit is not None and _units.is_written_out(given_unit):
        notes.append(f"unit {given_unit.strip()[:40]!r} read as {ucum}")
    if comparator is None:
        notes.append(_check_unit(number, canonical, ucum, shown_unit, info))
    return LabReading(info.id, code, canonical, info.unit, number, given_unit, comparator, interp, _sentence(notes))


def _equivalent(analyte: str, ucum: str | None) -> str | None:
    """The unit an analyte reads ``ucum`` as (creatine kinase: [IU]/L is U/L)."""
    if ucum is None:
        return None
    return _tables().equivalents.get(analyte, {}).get(ucum, ucum)


def _sentence(parts: list[str]) -> str:
    text = "; ".join(p for p in parts if p)
    return f"{text[0].upper()}{text[1:]}." if text else ""


def _meaning(code: str, code_info: _CodeInfo) -> str:
    if not code_info.loinc_meaning:
        return ""
    return f"; in LOINC, {code} is {code_info.loinc_meaning}, which Contraxis does not read"


def _plausible_in(info: AnalyteInfo, ucum: str | None) -> str:
    """The plausible range, in the given unit when it converts, else in the canonical unit."""
    unit = info.unit
    low, high = info.plausible
    if ucum is not None and ucum != info.unit:
        try:
            low, high = _to(low, info.unit, ucum, info), _to(high, info.unit, ucum, info)
            unit = ucum
        except ValueError:
            low, high = info.plausible
    digits = info.digits.get(unit)
    return f"plausible: {_bound(low, digits)} to {_bound(high, digits)} {unit}"


def _suggest(number: float, comparator: str | None, ucum: str, info: AnalyteInfo) -> str:
    """"; 2.35 mmol/L is 9.4 mg/dL: was it in mmol/L?" for the first reported unit that fits."""
    low, high = info.plausible
    prefix = f"{comparator} " if comparator else ""
    for alt in info.units:
        if alt == ucum:
            continue
        try:
            canonical = _to(number, alt, info.unit, info)
            shown = _to(number, alt, ucum, info)
        except ValueError:
            continue
        if _fits(canonical, comparator, low, high):
            return (f"; {prefix}{_show(number)} {alt} is {prefix}{_round(shown, info.digits.get(ucum))} {ucum}: "
                    f"was it in {alt}?")
    return ""


def _check_unit(number: float, canonical: float, ucum: str, shown_unit: str, info: AnalyteInfo) -> str:
    """A note when an abnormal value would be usual in another reported unit."""
    if info.reference is None or info.reference[0] <= 0:
        return ""  # with a reference low of 0, any small value is "usual": no signal
    low, high = info.reference
    if low <= canonical <= high:
        return ""
    for alt in info.units:
        if alt == ucum:
            continue
        try:
            other = _to(number, alt, info.unit, info)
        except ValueError:
            continue
        if low <= other <= high and not math.isclose(other, canonical, rel_tol=1e-9):
            digits = info.digits.get(info.unit)
            as_canonical = "" if alt == info.unit else f" ({_round(other, digits)} {info.unit})"
            return (f"{_show(number)} {shown_unit} is outside the usual {_bound(low, digits)} to "
                    f"{_bound(high, digits)} {info.unit}, but {_show(number)} {alt}{as_canonical} "
                    f"would be usual: check the unit")
    return ""
