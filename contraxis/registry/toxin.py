"""Botulinum toxin injections checked against the rules of the products' labels.

The products (onabotulinumtoxinA, abobotulinumtoxinA, incobotulinumtoxinA,
rimabotulinumtoxinB), the muscles, indications and guidance a record may name, and each
label's rules are reviewed data in ``registry/data/toxins.yaml``; each rule quotes the label
and cites it (``sources.yaml``). :func:`check_injection` applies them to one injection and
the patient's earlier injections and returns one :class:`ToxinWarning` per broken rule:

- ``interval``: the time since the previous botulinum toxin injection (of any product: a
  date is comparable across products, units are not) is shorter than the label's minimum
  (12 weeks for most);
- ``session``: more units of the product in one treatment session (one date) than the label
  allows;
- ``cumulative``: more units of the product over the label's window (onabotulinumtoxinA:
  400 Units in 3 months; 200 Units in 30 days for blepharospasm);
- ``per-muscle``: more units into a muscle (per side where the label's table is per limb)
  than the label gives for it.

Units are never added across products or converted between them: every label says its
units are specific to its assay. :class:`Units` carries its product, and adding units of two
products raises a :class:`~contraxis.errors.CaseError` naming both; the checks only ever sum
one product.

Paediatric weight-based limits are not checked (the weight at the injection is not held).
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contraxis.documents import kind_of
from contraxis.errors import CaseError, KnowledgeBaseError, Problem
from contraxis.reading import excerpt

from .scales import Source, _loc, _read_yaml, _sources

__all__ = [
    "SIDES",
    "Agent",
    "Injection",
    "MuscleDose",
    "Product",
    "Rule",
    "ToxinTable",
    "ToxinWarning",
    "Units",
    "check_injection",
    "load_toxin_table",
    "read_injection",
    "sum_units",
    "toxin_table",
]

DATA_FILE: Final = Path(__file__).parent / "data" / "toxins.yaml"
SOURCES_FILE: Final = Path(__file__).parent.parent / "knowledge" / "data" / "sources.yaml"

SIDES: Final = ("left", "right", "midline")
"""The side of an injected muscle; ``midline`` for an unpaired muscle (procerus)."""

RuleKind = Literal["interval", "session", "cumulative", "per-muscle"]


# --- the data file ------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Span(_Row):
    days: int | None = Field(default=None, gt=0)
    weeks: int | None = Field(default=None, gt=0)
    months: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> _Span:
        if sum(v is not None for v in (self.days, self.weeks, self.months)) != 1:
            raise ValueError("give exactly one of days, weeks, months")
        return self


class _RuleRow(_Row):
    id: str = Field(min_length=1)
    kind: RuleKind
    label: str = Field(min_length=10)
    indications: list[str] | None = None
    min: _Span | None = None
    window: _Span | None = None
    max_units: float | None = Field(default=None, gt=0)
    muscles: list[str] | None = None
    per_side: bool = True

    @model_validator(mode="after")
    def _fields_of_kind(self) -> _RuleRow:
        need = {"interval": ("min",), "session": ("max_units",), "cumulative": ("window", "max_units"),
                "per-muscle": ("muscles", "max_units")}[self.kind]
        missing = [name for name in need if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind} rule needs {', '.join(missing)}")
        extra = [name for name in ("min", "window", "max_units", "muscles")
                 if name not in need and getattr(self, name) is not None]
        if extra:
            raise ValueError(f"a {self.kind} rule takes no {', '.join(extra)}")
        return self


class _AgentRow(_Row):
    id: str = Field(pattern=r"^[A-Za-z]+:[A-Za-z0-9]+$")
    label: str = Field(min_length=3)
    source: str


class _ProductRow(_Row):
    id: str = Field(pattern=r"^[a-z]+botulinumtoxin[AB]$")
    serotype: Literal["A", "B"]
    names: list[str] = Field(min_length=1)
    source: str
    agent: _AgentRow | None = None
    rules: list[_RuleRow] = Field(default_factory=list)


class _IdLabel(_Row):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    label: str


class _MuscleRow(_Row):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    names: list[str] = Field(min_length=1)


class _ToxinFile(_Row):
    reviewed: dt.date
    indications: list[_IdLabel]
    guidance: list[str]
    muscles: list[_MuscleRow]
    products: list[_ProductRow]


# --- the loaded table ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """A length of time as a label states it: days, weeks or calendar months."""

    days: int = 0
    months: int = 0

    def before(self, date: dt.date) -> dt.date:
        """The date this long before ``date`` (calendar months, the day kept or clamped)."""
        if self.months:
            month = date.month - 1 - self.months
            year = date.year + month // 12
            month = month % 12 + 1
            day = min(date.day, calendar.monthrange(year, month)[1])
            return dt.date(year, month, day)
        return date - dt.timedelta(days=self.days)

    def __str__(self) -> str:
        if self.months:
            return f"{self.months} month{'s' * (self.months != 1)}"
        if self.days % 7 == 0:
            weeks = self.days // 7
            return f"{weeks} week{'s' * (weeks != 1)}"
        return f"{self.days} day{'s' * (self.days != 1)}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One check a product's label gives.

    Parameters
    ----------
    id : str
        ``<product>.<name>`` (``onabotulinumtoxinA.cumulative-3-months``).
    kind : str
        ``interval``, ``session``, ``cumulative`` or ``per-muscle``.
    label : str
        What the label says, in short.
    indications : frozenset of str or None
        The indications it applies to (None: all).
    min, window : Span or None
        The minimum interval (interval) or the window (cumulative).
    max_units : Fraction or None
        The most units of the product (session, cumulative, per-muscle).
    muscles : tuple of str
        The muscles whose units are added (per-muscle).
    per_side : bool
        Whether a per-muscle limit holds for each side apart.
    source : Source
        The label.
    """

    id: str
    product: str
    kind: RuleKind
    label: str
    indications: frozenset[str] | None
    source: Source
    min: Span | None = None
    window: Span | None = None
    max_units: Fraction | None = None
    muscles: tuple[str, ...] = ()
    per_side: bool = True

    def applies(self, indication: str) -> bool:
        return self.indications is None or indication in self.indications


@dataclass(frozen=True, slots=True)
class Agent:
    """The ontology class an export names a product's substance by (``MESH:D019274``), with
    the label of that class and the source the code was checked against."""

    id: str
    label: str
    source: Source


@dataclass(frozen=True, slots=True)
class Product:
    """A botulinum toxin product: its id (the INN-style name), serotype, names and rules, and
    the ontology class of its substance (``agent``; ``None`` when no checked code is held)."""

    id: str
    serotype: str
    names: tuple[str, ...]
    source: Source
    rules: tuple[Rule, ...]
    agent: Agent | None = None


@dataclass(frozen=True)
class ToxinTable:
    """Products, muscles, indications and guidance a record may name, and the label rules."""

    products: Mapping[str, Product]
    muscles: Mapping[str, str]  # muscle id -> its first name
    indications: Mapping[str, str]
    guidance: tuple[str, ...]
    reviewed: dt.date
    _product_names: Mapping[str, str]
    _muscle_names: Mapping[str, str]

    def product(self, name: str) -> str | None:
        """The product id a name or brand stands for (case and spacing ignored)."""
        return self._product_names.get(_fold(name))

    def muscle(self, name: str) -> str | None:
        """The muscle id a name stands for (case, spacing and hyphens ignored)."""
        return self._muscle_names.get(_fold(name))


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower())


def _span(row: _Span) -> Span:
    if row.months:
        return Span(months=row.months)
    return Span(days=(row.days or 0) + 7 * (row.weeks or 0))


def load_toxin_table(path: Path | None = None, *, sources: Path | None = None) -> ToxinTable:
    """Read and check the product table (the packaged ``toxins.yaml`` by default).

    Raises
    ------
    KnowledgeBaseError
        The file is not YAML or a row is wrong (file, row and field named); a source is not
        in ``sources.yaml``; a rule names an indication or muscle not in the table, or an id
        not prefixed by its product; a name stands for two products or two muscles.
    """
    path = DATA_FILE if path is None else path
    name = path.name
    raw = _read_yaml(path)
    try:
        data = _ToxinFile.model_validate(raw)
    except ValidationError as error:
        refused = [Problem(f"{name}: {_loc(e['loc'])}", f"{e['msg']} (got {excerpt(e.get('input'), 60)!r})")
                   for e in error.errors()]
        raise KnowledgeBaseError(refused, source=str(path)) from None
    known = _sources(SOURCES_FILE if sources is None else sources)
    problems: list[Problem] = []
    indications = {row.id: row.label for row in data.indications}
    muscles: dict[str, str] = {}
    muscle_names: dict[str, str] = {}
    for i, muscle in enumerate(data.muscles):
        if muscle.id in muscles:
            problems.append(Problem(f"{name}: muscles[{i}].id", f"{muscle.id!r} is listed twice"))
        muscles[muscle.id] = muscle.names[0]
        for spelling in [muscle.id, *muscle.names]:
            folded = _fold(spelling)
            if muscle_names.get(folded, muscle.id) != muscle.id:
                problems.append(Problem(f"{name}: muscles[{i}].names",
                                        f"{spelling!r} stands for both {muscle_names[folded]} and {muscle.id}"))
            muscle_names[folded] = muscle.id
    products: dict[str, Product] = {}
    product_names: dict[str, str] = {}
    rule_ids: set[str] = set()
    for i, row in enumerate(data.products):
        where = f"{name}: products[{i}]"
        if row.source not in known:
            problems.append(Problem(f"{where}.source", f"source {row.source!r} is not in sources.yaml"))
            continue
        for spelling in [row.id, *row.names]:
            folded = _fold(spelling)
            if product_names.get(folded, row.id) != row.id:
                problems.append(Problem(f"{where}.names",
                                        f"{spelling!r} stands for both {product_names[folded]} and {row.id}"))
            product_names[folded] = row.id
        rules: list[Rule] = []
        for j, rule in enumerate(row.rules):
            at = f"{where}.rules[{j}]"
            if not rule.id.startswith(row.id + ".") or rule.id in rule_ids:
                problems.append(Problem(f"{at}.id", f"{rule.id!r} must be unique and start with {row.id + '.'!r}"))
            rule_ids.add(rule.id)
            for indication in rule.indications or ():
                if indication not in indications:
                    problems.append(Problem(f"{at}.indications",
                                            f"{indication!r} is not an indication ({', '.join(indications)})"))
            for muscle_id in rule.muscles or ():
                if muscle_id not in muscles:
                    close = difflib.get_close_matches(muscle_id, muscles, n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    problems.append(Problem(f"{at}.muscles", f"{muscle_id!r} is not a muscle of the table{hint}"))
            rules.append(Rule(
                id=rule.id, product=row.id, kind=rule.kind, label=rule.label,
                indications=None if rule.indications is None else frozenset(rule.indications),
                source=known[row.source],
                min=None if rule.min is None else _span(rule.min),
                window=None if rule.window is None else _span(rule.window),
                max_units=None if rule.max_units is None else Fraction(str(rule.max_units)),
                muscles=tuple(rule.muscles or ()), per_side=rule.per_side,
            ))
        agent = None
        if row.agent is not None:
            if row.agent.source not in known:
                problems.append(Problem(f"{where}.agent.source",
                                        f"source {row.agent.source!r} is not in sources.yaml"))
            else:
                agent = Agent(row.agent.id, row.agent.label, known[row.agent.source])
        products[row.id] = Product(row.id, row.serotype, tuple(row.names), known[row.source], tuple(rules), agent)
    if problems:
        raise KnowledgeBaseError(problems, source=str(path))
    return ToxinTable(
        products=MappingProxyType(products), muscles=MappingProxyType(muscles),
        indications=MappingProxyType(indications), guidance=tuple(data.guidance), reviewed=data.reviewed,
        _product_names=MappingProxyType(product_names), _muscle_names=MappingProxyType(muscle_names),
    )


@functools.lru_cache(maxsize=1)
def toxin_table() -> ToxinTable:
    """The packaged product table (``toxins.yaml``), read and checked once.

    Raises
    ------
    KnowledgeBaseError
        As :func:`load_toxin_table`.
    """
    return load_toxin_table()


# --- units and injections -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Units:
    """An amount of one product's units. Units of two products are never added."""

    product: str
    amount: Fraction

    def __add__(self, other: Units) -> Units:
        if not isinstance(other, Units):
            return NotImplemented
        if other.product != self.product:
            raise CaseError([Problem("units", _cross(self.product, other.product))])
        return Units(self.product, self.amount + other.amount)

    def __float__(self) -> float:
        return float(self.amount)

    def __str__(self) -> str:
        return f"{_num(self.amount)} Units of {self.product}"


def _cross(a: str, b: str) -> str:
    return (f"units of {a} and {b} are not added: each label says its units are specific to its "
            "product and cannot be compared with or converted into another's")


def _num(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


@dataclass(frozen=True, slots=True)
class MuscleDose:
    """Units of the injection's product into one muscle on one side."""

    muscle: str
    side: str
    units: Fraction

    def to_json(self) -> dict[str, Any]:
        return {"muscle": self.muscle, "side": self.side, "units": float(self.units)}


@dataclass(frozen=True, slots=True)
class Injection:
    """One botulinum toxin treatment: one product on one date for one indication.

    Parameters
    ----------
    product : str
        The product id (``onabotulinumtoxinA``...).
    date : datetime.date
        The date of the injection (its treatment session).
    indication : str
        An indication of the table (``cervical-dystonia``, ``blepharospasm``...).
    muscles : tuple of MuscleDose
        Muscle, side and units of the product.
    guidance : str or None
        ``emg``, ``ultrasound``, ``electrical-stimulation``, ``anatomical-landmarks``.
    """

    product: str
    date: dt.date
    indication: str
    muscles: tuple[MuscleDose, ...]
    guidance: str | None = None

    @property
    def total(self) -> Units:
        """The units of the product in this injection."""
        return Units(self.product, sum((m.units for m in self.muscles), Fraction(0)))

    def to_json(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "date": self.date.isoformat(),
            "indication": self.indication,
            "guidance": self.guidance,
            "muscles": [m.to_json() for m in self.muscles],
            "total_units": float(self.total),
        }


def sum_units(injections: Iterable[Injection | Units]) -> Units:
    """The units of a set of injections of one product.

    Raises
    ------
    CaseError
        The injections are of more than one product (units are never added across
        products), or there are none.
    """
    totals = [i.total if isinstance(i, Injection) else i for i in injections]
    if not totals:
        raise CaseError([Problem("units", "no injection to add up")])
    products = sorted({t.product for t in totals})
    if len(products) > 1:
        raise CaseError([Problem("units", _cross(products[0], products[1]))])
    result = totals[0]
    for more in totals[1:]:
        result = result + more
    return result


def _allowed(values: Iterable[str], limit: int = 12) -> str:
    values = list(values)
    shown = ", ".join(values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _date(value: Any, where: str, problems: list[Problem]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.append(Problem(where, f"{excerpt(value, 30)!r} is not a date (YYYY-MM-DD)"))
    return None


def _units(value: Any, where: str, problems: list[Problem]) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        problems.append(Problem(where, f"expected a number of units above 0, got {kind_of(value)} "
                                       f"{excerpt(value, 30)!r}"))
        return None
    if value <= 0:
        problems.append(Problem(where, f"{excerpt(value, 20)}: units are above 0"))
        return None
    return Fraction(value) if isinstance(value, int) else Fraction(str(value))


def read_injection(data: Injection | Mapping[str, Any], *, where: str = "injection",
                   table: ToxinTable | None = None) -> Injection:
    """Read an injection record into an :class:`Injection`.

    Parameters
    ----------
    data : Mapping or Injection
        ``{"product": "Botox", "date": "2026-03-01", "indication": "cervical-dystonia",
        "guidance": "emg", "muscles": [{"muscle": "splenius capitis", "side": "left",
        "units": 50}]}``. A product is named by its id or a brand; a muscle by any name the
        table lists.
    where : str
        Where the record sits, for the messages.

    Raises
    ------
    CaseError
        Every field that cannot be read, naming the field, an excerpt of the value and what
        is allowed.
    """
    table = toxin_table() if table is None else table
    if isinstance(data, Injection):
        return data
    if not isinstance(data, Mapping):
        raise CaseError([Problem(where, f"expected an injection (an object), got {kind_of(data)}")])
    problems: list[Problem] = []
    unknown = sorted(set(data) - {"product", "date", "indication", "guidance", "muscles"})
    for key in unknown:
        problems.append(Problem(f"{where}.{excerpt(key, 30)}",
                                "is not a field of an injection (product, date, indication, guidance, muscles)"))
    raw_product = data.get("product")
    product = table.product(raw_product) if isinstance(raw_product, str) else None
    if product is None:
        problems.append(Problem(f"{where}.product", f"{excerpt(raw_product, 40)!r} is not a botulinum toxin product "
                                                    f"of the table ({_allowed(table.products)})"))
    date = _date(data.get("date"), f"{where}.date", problems)
    indication = data.get("indication")
    if indication not in table.indications:
        problems.append(Problem(f"{where}.indication", f"{excerpt(indication, 40)!r} is not one of "
                                                       f"{_allowed(table.indications, 20)}"))
    guidance = data.get("guidance")
    if guidance is not None and guidance not in table.guidance:
        problems.append(Problem(f"{where}.guidance", f"{excerpt(guidance, 40)!r} is not one of "
                                                     f"{', '.join(table.guidance)}"))
    doses: list[MuscleDose] = []
    rows = data.get("muscles")
    if not isinstance(rows, Sequence) or isinstance(rows, str) or not rows:
        problems.append(Problem(f"{where}.muscles", f"expected a list of muscles with side and units, got "
                                                    f"{kind_of(rows)}"))
        rows = []
    for i, row in enumerate(rows):
        at = f"{where}.muscles[{i}]"
        if not isinstance(row, Mapping):
            problems.append(Problem(at, f"expected an object with muscle, side and units, got {kind_of(row)}"))
            continue
        for key in sorted(set(row) - {"muscle", "side", "units"}):
            problems.append(Problem(f"{at}.{excerpt(key, 30)}", "is not a field of a muscle (muscle, side, units)"))
        name = row.get("muscle")
        muscle = table.muscle(name) if isinstance(name, str) else None
        if muscle is None:
            close = difflib.get_close_matches(_fold(name), table._muscle_names, n=3) if isinstance(name, str) else []
            hint = f"did you mean {', '.join(close)}? " if close else ""
            problems.append(Problem(f"{at}.muscle", f"{excerpt(name, 40)!r} is not a muscle of the table ({hint}"
                                                    f"muscles: {_allowed(table.muscles, 8)})"))
        side = row.get("side")
        if side not in SIDES:
            problems.append(Problem(f"{at}.side", f"{excerpt(side, 20)!r} is not one of {', '.join(SIDES)} "
                                                  "(one row per side)"))
        units = _units(row.get("units"), f"{at}.units", problems)
        if muscle is not None and side in SIDES and units is not None:
            doses.append(MuscleDose(muscle, side, units))
    if problems:
        raise CaseError(problems)
    assert product is not None and date is not None  # noqa: S101 - checked above
    return Injection(product, date, str(indication), tuple(doses), guidance)


# --- the checks ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToxinWarning:
    """A label rule an injection breaks.

    Parameters
    ----------
    rule : str
        The rule id (``onabotulinumtoxinA.cumulative-3-months``).
    kind : str
        ``interval``, ``session``, ``cumulative`` or ``per-muscle``.
    product : str
        The product whose label gives the rule.
    message : str
        What was found against what the rule allows.
    label : str
        The rule as the label states it.
    source : Source
        The label (citation and URL).
    muscle, side : str or None
        The muscle and side, for a per-muscle rule.
    """

    rule: str
    kind: str
    product: str
    message: str
    label: str
    source: Source
    muscle: str | None = None
    side: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "kind": self.kind, "product": self.product, "message": self.message,
            "label": self.label, "source": self.source.to_json(), "muscle": self.muscle, "side": self.side,
        }


def _warn(rule: Rule, message: str, *, muscle: str | None = None, side: str | None = None) -> ToxinWarning:
    return ToxinWarning(rule.id, rule.kind, rule.product, message, rule.label, rule.source, muscle, side)


def _interval(rule: Rule, injection: Injection, earlier: Sequence[Injection]) -> list[ToxinWarning]:
    assert rule.min is not None  # noqa: S101 - the schema requires it
    before = [e for e in earlier if e.date < injection.date]
    if not before:
        return []
    last = max(before, key=lambda e: e.date)
    if last.date <= rule.min.before(injection.date):
        return []
    days = (injection.date - last.date).days
    weeks = f"{days // 7} weeks {days % 7} days" if days >= 7 else f"{days} days"
    what = "the same product" if last.product == injection.product else last.product
    return [_warn(rule, f"{weeks} since the previous botulinum toxin injection ({what}, {last.date.isoformat()}): "
                        f"the label's minimum is {rule.min}")]


def _same_session(injection: Injection, earlier: Sequence[Injection]) -> list[Injection]:
    return [injection, *(e for e in earlier if e.date == injection.date and e.product == injection.product)]


def _session(rule: Rule, injection: Injection, earlier: Sequence[Injection]) -> list[ToxinWarning]:
    assert rule.max_units is not None  # noqa: S101
    session = [e for e in _same_session(injection, earlier) if rule.applies(e.indication)]
    total = sum_units(session)
    if total.amount <= rule.max_units:
        return []
    parts = f" in {len(session)} records of the session" if len(session) > 1 else ""
    return [_warn(rule, f"{total}{parts} on {injection.date.isoformat()}: above the label's "
                        f"{_num(rule.max_units)} Units per treatment session")]


def _cumulative(rule: Rule, injection: Injection, earlier: Sequence[Injection]) -> list[ToxinWarning]:
    assert rule.window is not None and rule.max_units is not None  # noqa: S101
    start = rule.window.before(injection.date)
    counted = [injection, *(e for e in earlier if e.product == injection.product and start < e.date <= injection.date
                            and rule.applies(e.indication))]
    total = sum_units(counted)
    if total.amount <= rule.max_units:
        return []
    others = sorted({e.product for e in earlier if e.product != injection.product and start < e.date <= injection.date})
    note = f" (units of {', '.join(others)} in the window are not added)" if others else ""
    return [_warn(rule, f"{total} from {(start + dt.timedelta(days=1)).isoformat()} to "
                        f"{injection.date.isoformat()} ({len(counted)} injections): above the label's "
                        f"{_num(rule.max_units)} Units in {rule.window}{note}")]


def _per_muscle(rule: Rule, injection: Injection, earlier: Sequence[Injection],
                table: ToxinTable) -> list[ToxinWarning]:
    assert rule.max_units is not None  # noqa: S101
    totals: dict[str, Units] = {}
    for record in _same_session(injection, earlier):
        if not rule.applies(record.indication):
            continue
        for dose in record.muscles:
            if dose.muscle in rule.muscles:
                key = dose.side if rule.per_side else "both sides"
                units = Units(record.product, dose.units)
                totals[key] = totals[key] + units if key in totals else units
    names = "/".join(table.muscles[m] for m in rule.muscles)
    warnings = []
    for side, total in sorted(totals.items()):
        if total.amount > rule.max_units:
            warnings.append(_warn(rule, f"{names} ({side}): {total} on {injection.date.isoformat()}, above the "
                                        f"label's {_num(rule.max_units)} Units",
                                  muscle="/".join(rule.muscles), side=None if side == "both sides" else side))
    return warnings


def check_injection(injection: Injection | Mapping[str, Any], history: Sequence[Injection | Mapping[str, Any]] = (),
                    *, table: ToxinTable | None = None) -> list[ToxinWarning]:
    """Check one injection against its product's label, given the earlier injections.

    Parameters
    ----------
    injection : Injection or Mapping
        The injection (read with :func:`read_injection` when a mapping).
    history : sequence of Injection or Mapping
        The patient's other injections, of any product. Those dated after the injection are
        ignored; those of the same product and date are the same treatment session.
    table : ToxinTable, optional
        The product table (the packaged one by default).

    Returns
    -------
    list of ToxinWarning
        One per broken rule, in the order of the product's rules, each naming the rule, what
        was found, what the label allows, and the label as source. Empty when none is broken.

    Raises
    ------
    CaseError
        The injection or a history record cannot be read (``history[2].muscles[0].units``).
    """
    table = toxin_table() if table is None else table
    current = read_injection(injection, table=table)
    problems: list[Problem] = []
    earlier: list[Injection] = []
    for i, record in enumerate(history):
        try:
            earlier.append(read_injection(record, where=f"history[{i}]", table=table))
        except CaseError as error:
            problems.extend(error.problems)
    if problems:
        raise CaseError(problems)
    warnings: list[ToxinWarning] = []
    for rule in table.products[current.product].rules:
        if not rule.applies(current.indication):
            continue
        if rule.kind == "interval":
            warnings += _interval(rule, current, earlier)
        elif rule.kind == "session":
            warnings += _session(rule, current, earlier)
        elif rule.kind == "cumulative":
            warnings += _cumulative(rule, current, earlier)
        else:
            warnings += _per_muscle(rule, current, earlier, table)
    return warnings
