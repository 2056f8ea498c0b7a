"""Units of measure of laboratory results: read as UCUM codes, and converted.

:func:`normalise_unit` turns what clinicians, EHRs and ontologies write for a unit (UCUM codes,
spellings such as ``mg/dl``, ``mEq/L``, ``ug/24 h``, ``IU/L``, words such as "milligram per
deciliter", Units Ontology ids such as ``UO:0010067``, SNOMED CT unit codes such as
``258797006``) into one UCUM code, or ``None``. :func:`convert` converts a value between two
units of the same kind, and between mass and moles through a molar mass. The units, their
spellings and ids are reviewed data in ``terminology/data/units.yaml``.

Why ucumvert
------------
UCUM is parsed and converted with ucumvert (a Lark grammar of the full UCUM specification
over pint, maintained, pure Python, MIT-licensed), not with ucumate or our own tables. ucumate
1.0.8 wraps a Java library through JPype: it needs a Java 21 runtime (it fails under Java 17
with ``UnsupportedClassVersionError``) and ships 17 MB of jars, which a clinical service that
must install from PyPI alone cannot depend on. pint with home-made UCUM definitions would be
our own grammar to maintain. ucumvert costs about 0.45 s to build its registry, so it is never
loaded on the hot path: the units a laboratory result is expected in are listed in the data
file with their factor to the base unit of their kind (computed with ucumvert and checked
against it by the tests), and ucumvert is loaded, once, only for a UCUM code not in that
table.

Kinds of quantity use LOINC's property abbreviations: ``MCnc`` mass concentration (base g/L),
``SCnc`` substance concentration (mol/L), ``CCnc`` catalytic concentration (U/L), ``ACnc``
arbitrary concentration ([IU]/L), ``MRat`` mass rate (g/(24.h)), ``SRat`` substance rate
(mol/(24.h)). An equivalent (``meq/L``) is a mole in UCUM; for an ion of charge *z*,
1 mmol = *z* mEq, so converting equivalents to moles or mass needs ``charge``.

Sources: UCUM (``ucum``), the Units Ontology release 2026-01-16 (``units-ontology``), SNOMED
CT (``snomed-ct``); each id in the data file names what it was checked against.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contraxis.codes.patterns import SCTID, anchored
from contraxis.errors import KnowledgeBaseError, Problem

__all__ = [
    "PROPERTIES",
    "Property",
    "UnitInfo",
    "UnitTable",
    "convert",
    "describe_property",
    "fold",
    "is_written_out",
    "library_unit_info",
    "load_unit_table",
    "normalise_unit",
    "unit_info",
]

Property = Literal["MCnc", "SCnc", "CCnc", "ACnc", "MRat", "SRat"]
"""A kind of quantity, by its LOINC property abbreviation."""

PROPERTIES: Final[tuple[str, ...]] = ("MCnc", "SCnc", "CCnc", "ACnc", "MRat", "SRat")

_DATA: Final = Path(__file__).parent / "data" / "units.yaml"
_SOURCES: Final = Path(__file__).parent.parent / "knowledge" / "data" / "sources.yaml"

_PROPERTY_NAMES: Final[Mapping[str, str]] = MappingProxyType({
    "MCnc": "mass per volume",
    "SCnc": "substance (moles) per volume",
    "CCnc": "enzyme activity per volume",
    "ACnc": "international units per volume",
    "MRat": "mass per time",
    "SRat": "substance (moles) per time",
})


# --- the data file ------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _PropertyRow(_Row):
    name: str
    base: str


class _UnitRow(_Row):
    code: str = Field(min_length=1)
    property: Property
    factor: float = Field(gt=0)
    eq: bool = False
    words: list[str] = Field(default_factory=list)


class _SnomedRow(_Row):
    code: str = Field(pattern=anchored(SCTID))
    unit: str
    evidence: str = Field(min_length=1)


class _UnitFile(_Row):
    source: str
    uo_source: str
    snomed_source: str
    properties: dict[Property, _PropertyRow]
    units: list[_UnitRow]
    aliases: dict[str, str] = Field(default_factory=dict)
    uo: dict[str, str] = Field(default_factory=dict)
    snomed: list[_SnomedRow] = Field(default_factory=list)

    @field_validator("uo")
    @classmethod
    def _uo_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not re.fullmatch(r"UO:[0-9]{7}", key):
                raise ValueError(f"{key!r} is not a Units Ontology id (UO: and seven digits)")
        return value


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """What Contraxis knows of one UCUM unit.

    Parameters
    ----------
    code : str
        The UCUM code (``mg/dL``).
    property : str
        Its kind, one of :data:`PROPERTIES`.
    factor : float
        The value of one ``code`` in the base unit of its property (mg/dL: 0.01 g/L).
    eq : bool
        True for equivalents (``meq/L``), which need an ion's charge to become moles.
    """

    code: str
    property: str
    factor: float
    eq: bool = False


@dataclass(frozen=True, slots=True)
class UnitTable:
    """The reviewed unit table, read once from ``units.yaml``.

    Parameters
    ----------
    units : Mapping[str, UnitInfo]
        Every UCUM code read without the UCUM library.
    spellings : Mapping[str, str]
        Folded spellings and words (see :func:`fold`) to UCUM codes.
    words : frozenset of str
        The folded keys that are words or non-UCUM spellings, not UCUM codes.
    uo, snomed : Mapping[str, str]
        Units Ontology ids and SNOMED CT codes to UCUM codes.
    bases : Mapping[str, str]
        Each property's base unit.
    """

    units: Mapping[str, UnitInfo]
    spellings: Mapping[str, str]
    words: frozenset[str]
    uo: Mapping[str, str]
    snomed: Mapping[str, str]
    bases: Mapping[str, str]


_PLURAL = re.compile(r"\b([a-z]{4,})s\b")
_LITRE = re.compile(r"(litre|liter|deciliter|decilitre|millilitre|milliliter)")
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Fold a unit as written into a lookup key.

    Case, spaces, the micro sign (µ, μ, mcg), British spellings (litre) and English plurals
    are folded: ``"Milligrams per decilitre"`` and ``"milligram per deciliter"`` give the same
    key, as do ``"µg/24 h"`` and ``"ug/24h"``.
    """
    text = unicodedata.normalize("NFKC", text).replace("μ", "u").replace("µ", "u").lower()
    text = text.replace("litre", "liter")
    text = _PLURAL.sub(r"\1", text)
    text = _SPACE.sub("", text)
    return re.sub(r"mcg", "ug", text)


def _known_sources() -> set[str]:
    """The ids of the knowledge base's sources.yaml (the unit and laboratory tables cite them)."""
    return set(_source_ids(_SOURCES.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=2)
def _source_ids(text: str) -> frozenset[str]:
    """The ids of a sources.yaml text, parsed once per content with the C loader when present."""
    rows = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []
    return frozenset(str(row["id"]) for row in rows if isinstance(row, dict) and row.get("id") is not None)


def load_unit_table(path: Path | None = None) -> UnitTable:
    """Read and check a unit table (the packaged ``units.yaml`` when ``path`` is None).

    Returns
    -------
    UnitTable

    Raises
    ------
    KnowledgeBaseError
        The file is missing, is not YAML, or a row is wrong: the message names the file, the
        row and the field (``units.yaml: units[3].factor: ...``). Checked beyond the schema:
        sources resolve in sources.yaml, codes are unique, every spelling, UO id and SNOMED
        CT code points to a unit of the table, and SNOMED CT codes pass their check digit.
    """
    from contraxis.codes import snomed_check_digit_ok  # cheap; only at load

    path = _DATA if path is None else path
    name = path.name
    data = read_data_file(path, _UnitFile)

    problems: list[Problem] = []
    sources = _known_sources()
    for field in ("source", "uo_source", "snomed_source"):
        if getattr(data, field) not in sources:
            problems.append(Problem(f"{name}: {field}", f"source {getattr(data, field)!r} is not in sources.yaml"))
    missing = set(PROPERTIES) - set(data.properties)
    if missing:
        problems.append(Problem(f"{name}: properties", f"missing {', '.join(sorted(missing))}"))

    units: dict[str, UnitInfo] = {}
    for i, row in enumerate(data.units):
        if row.code in units:
            problems.append(Problem(f"{name}: units[{i}].code", f"{row.code!r} is listed twice"))
        units[row.code] = UnitInfo(row.code, row.property, row.factor, row.eq)
    for prop, info in data.properties.items():
        base = units.get(info.base)
        if base is None or base.property != prop or base.factor != 1:
            problems.append(Problem(f"{name}: properties.{prop}.base",
                                    f"{info.base!r} must be a unit of the table of property {prop} with factor 1"))

    spellings: dict[str, str] = {}
    words: set[str] = set()

    def add(key: str, target: str, where: str, *, word: bool) -> None:
        if target not in units:
            problems.append(Problem(where, f"{target!r} is not a unit of the table"))
            return
        folded = fold(key)
        if spellings.get(folded, target) != target:
            problems.append(Problem(where, f"{key!r} reads as both {spellings[folded]!r} and {target!r}"))
            return
        spellings[folded] = target
        if word:
            words.add(folded)

    for code in units:
        add(code, code, f"{name}: units.{code}", word=False)
    for key, target in data.aliases.items():
        add(key, target, f"{name}: aliases.{key}", word=False)
    for i, row in enumerate(data.units):
        for j, word in enumerate(row.words):
            add(word, row.code, f"{name}: units[{i}].words[{j}]", word=True)
    # a folded key that is also an exact UCUM code of the table is not a word
    words -= {fold(code) for code in units}

    for key, target in data.uo.items():
        if target not in units:
            problems.append(Problem(f"{name}: uo.{key}", f"{target!r} is not a unit of the table"))
    snomed: dict[str, str] = {}
    for i, concept in enumerate(data.snomed):
        where = f"{name}: snomed[{i}].code"
        if not snomed_check_digit_ok(concept.code):
            problems.append(Problem(where, f"{concept.code} fails the SNOMED CT check digit"))
        if concept.unit not in units:
            problems.append(Problem(f"{name}: snomed[{i}].unit", f"{concept.unit!r} is not a unit of the table"))
        if concept.code in snomed:
            problems.append(Problem(where, f"{concept.code} is listed twice"))
        snomed[concept.code] = concept.unit
    if problems:
        raise KnowledgeBaseError(problems, source=str(path))
    return UnitTable(
        units=MappingProxyType(units),
        spellings=MappingProxyType(spellings),
        words=frozenset(words),
        uo=MappingProxyType(dict(data.uo)),
        snomed=MappingProxyType(snomed),
        bases=MappingProxyType({p: info.base for p, info in data.properties.items()}),
    )


_Model = TypeVar("_Model", bound=BaseModel)


def read_data_file(path: Path, model: type[_Model]) -> _Model:
    """Read one reviewed YAML data file of the terminology and validate it with ``model``.

    Raises
    ------
    KnowledgeBaseError
        When the file is missing, is not YAML, or breaks the schema: one problem per field,
        naming the file and the field's path, with an excerpt of the value.
    """
    name = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise KnowledgeBaseError([Problem(name, "file is missing")], source=str(path)) from None
    except yaml.YAMLError as error:
        msg = f"not valid YAML: {str(error).splitlines()[0]}"
        raise KnowledgeBaseError([Problem(name, msg)], source=str(path)) from None
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        refused = [
            Problem(f"{name}: {_loc(e['loc'])}", f"{e['msg']} (got {e.get('input')!r})"[:300])
            for e in error.errors()
        ]
        raise KnowledgeBaseError(refused, source=str(path)) from None


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@functools.cache
def _table() -> UnitTable:
    return load_unit_table()


# --- the UCUM library, loaded once and only when needed -----------------------------------

_REGISTRY_LOCK = threading.Lock()
_UCUM_CHARS = re.compile(r"[!-~]+")  # printable ASCII, no spaces: the UCUM character set


_REGISTRY: Any = None


def _registry() -> Any:
    global _REGISTRY
    with _REGISTRY_LOCK:
        if _REGISTRY is None:
            from ucumvert import PintUcumRegistry

            _REGISTRY = PintUcumRegistry()
        return _REGISTRY


def _property_of(dimensionality: Mapping[str, float], code: str) -> str | None:
    dims = {k: v for k, v in dict(dimensionality).items() if v}
    if dims == {"[mass]": 1, "[length]": -3}:
        return "MCnc"
    if dims == {"[substance]": 1, "[length]": -3}:
        return "SCnc"
    if dims == {"[substance]": 1, "[time]": -1, "[length]": -3}:
        return "CCnc"
    if dims == {"[length]": -3} and re.search(r"\[(IU|iU)\]", code):
        return "ACnc"
    if dims == {"[mass]": 1, "[time]": -1}:
        return "MRat"
    if dims == {"[substance]": 1, "[time]": -1}:
        return "SRat"
    return None


@functools.lru_cache(maxsize=256)
def library_unit_info(code: str) -> UnitInfo | None:
    """Parse a UCUM code with ucumvert (loading it on first use) into a :class:`UnitInfo`.

    Returns None when ``code`` is not valid UCUM or is not a concentration or rate that a
    laboratory result can have (``kg``, ``/L``). Results are cached per code. This is the slow
    path, for units that are not in the data file.
    """
    if not _UCUM_CHARS.fullmatch(code):
        return None
    registry = _registry()
    try:
        quantity = registry.from_ucum(code)
        prop = _property_of(quantity.dimensionality, code)
        if prop is None:
            return None
        base = registry.from_ucum(_table().bases[prop])
        factor = float(quantity.to(base.units).magnitude / base.magnitude)
    except Exception:  # noqa: BLE001 - any parser or conversion failure means "not a unit we read"
        return None
    if not math.isfinite(factor) or factor <= 0:
        return None
    eq = bool(re.search(r"(^|[^a-zA-Z])[munpf]?eq([^a-zA-Z]|$)", code))
    return UnitInfo(code, prop, factor, eq)


# --- public functions ---------------------------------------------------------------------

_UO = re.compile(r"^(?:https?://purl\.obolibrary\.org/obo/)?UO[:_]([0-9]{7})$", re.IGNORECASE)


def normalise_unit(text: str | None) -> str | None:
    """Read a unit as written into a UCUM code.

    Parameters
    ----------
    text : str or None
        A UCUM code (``mg/dL``, ``mg/dl``), a common spelling (``mEq/L``, ``ug/24 h``,
        ``µg/24h``, ``IU/L``), words (``milligram per deciliter``), a Units Ontology id
        (``UO:0010067``, also as ``UO_0010067`` or its OBO PURL) or a SNOMED CT unit code
        (``258797006``).

    Returns
    -------
    str or None
        The UCUM code as the data file writes it (``mg/dL``, ``meq/L``, ``ug/(24.h)``,
        ``[IU]/L``), a valid UCUM code not in the table as given, or None when the text is not a
        unit Contraxis can read (also for None, empty text, unknown UO ids and SNOMED codes).

    Only a valid-looking UCUM code that is not in the data file loads the UCUM library.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text:
        return None
    table = _table()
    if text in table.units:
        return text
    uo = _UO.match(text)
    if uo:
        return table.uo.get(f"UO:{uo.group(1)}")
    if SCTID.fullmatch(text):
        return table.snomed.get(text)
    code = table.spellings.get(fold(text))
    if code is not None:
        return code
    info = library_unit_info(text)
    return info.code if info is not None else None


def is_written_out(text: str) -> bool:
    """True when ``text`` is read as a unit only from words or a non-UCUM spelling of the
    table's words (``milligram per deciliter``), not from a code: a reader may say so."""
    return isinstance(text, str) and fold(text.strip()) in _table().words


def unit_info(code: str) -> UnitInfo | None:
    """The :class:`UnitInfo` of a UCUM code: from the data file, else from the UCUM library."""
    info = _table().units.get(code)
    return info if info is not None else library_unit_info(code)


def describe_property(prop: str) -> str:
    """A property in words (``MCnc``: "mass per volume")."""
    return _PROPERTY_NAMES.get(prop, prop)


_MASS_MOLES: Final[Mapping[tuple[str, str], tuple[str, str]]] = MappingProxyType({
    ("MCnc", "SCnc"): ("mass", "moles"),
    ("SCnc", "MCnc"): ("moles", "mass"),
    ("MRat", "SRat"): ("mass", "moles"),
    ("SRat", "MRat"): ("moles", "mass"),
})


def convert(
    value: float,
    from_ucum: str,
    to_ucum: str,
    *,
    molar_mass: float | None = None,
    charge: int | None = None,
) -> float:
    """Convert ``value`` from one unit to another.

    Parameters
    ----------
    value : float
        The value in ``from_ucum``.
    from_ucum, to_ucum : str
        Units, as UCUM codes or anything :func:`normalise_unit` reads.
    molar_mass : float, optional
        g/mol of the analyte, needed between mass and moles (mg/dL <-> mmol/L).
    charge : int, optional
        The ion's charge, needed between equivalents and moles or mass (meq/L <-> mmol/L):
        1 mmol = ``charge`` mEq.

    Returns
    -------
    float
        The value in ``to_ucum``.

    Raises
    ------
    ValueError
        A unit is not read, the units are of different kinds (mg/dL to U/L), or the molar mass
        or charge the conversion needs is missing.

    Examples
    --------
    >>> round(convert(2.35, "mmol/L", "mg/dL", molar_mass=40.078), 2)
    9.42
    """
    src = _info_or_raise(from_ucum)
    dst = _info_or_raise(to_ucum)
    if src.code == dst.code:
        return float(value)
    if src.eq != dst.eq:
        if not charge:
            raise ValueError(f"converting {src.code} to {dst.code} needs the ion's charge (mEq = mmol x charge)")
        value = value / charge if src.eq else value * charge
    base = value * src.factor
    if src.property == dst.property:
        return base / dst.factor
    if (src.property, dst.property) in _MASS_MOLES:
        if molar_mass is None or not molar_mass > 0:
            raise ValueError(f"converting {src.code} to {dst.code} needs the analyte's molar mass")
        here, _ = _MASS_MOLES[(src.property, dst.property)]
        base = base / molar_mass if here == "mass" else base * molar_mass
        return base / dst.factor
    raise ValueError(
        f"{src.code} ({describe_property(src.property)}) cannot be converted to "
        f"{dst.code} ({describe_property(dst.property)})"
    )


def _info_or_raise(unit: str) -> UnitInfo:
    code = normalise_unit(unit)
    info = unit_info(code) if code is not None else None
    if info is None:
        raise ValueError(f"{unit!r} is not a unit Contraxis can read")
    return info
