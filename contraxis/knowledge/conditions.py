"""The condition language of the knowledge base's rules.

A rule's ``when`` is a small tree written in YAML. Its vocabulary is declared here, in code;
its sentences live in the data files. Every condition is compiled once, when the knowledge
base loads, into a function of a frozen view of the patient's facts
(:class:`~contraxis.knowledge.view.CaseView`) that returns the facts it used (a tuple of short
sentences) when it holds, and ``None`` when it does not, so that every conclusion can show
what it rests on.

Compiling checks every word of the tree against its vocabulary (the Literals of
:mod:`contraxis.vocabulary` and the names the data files define) and appends one
:class:`~contraxis.errors.Problem` per mistake, naming the rule, the path of the field inside
the condition (``alert.airway-risk.when.all[0].in.phenomenology``), the value and what is
allowed; the loader then refuses the knowledge base.

Operators (``X`` is a concept id from ``findings.yaml`` or a single code):

=================  ===========================================================================
``all: [..]``      every condition holds
``any: [..]``      at least one holds (the first that holds is reported)
``not: {..}``      the condition does not hold
``finding: X``     a code of X is among the present findings (MRI findings included)
``absent: X``      a code of X was looked for and found absent
``region: [..]``   one of these body regions is involved
``only_regions``   every region involved is one of these (and there is at least one)
``history: H``     a history code, or a history category of ``history.yaml``
``lab: {..}``      ``{test: calcium, below: 8.5}``; also ``above``, ``at_least``, ``known``; the
                   limit is in the test's unit of ``labs.yaml`` (``unit: mg/dL`` may say so,
                   and must then be that unit) and must be a possible value of the test
``drug: {..}``     ``{class: dopamine-blocking, within_days: 7, at_least_days: 30}``: a drug
                   of the class, started before the movement began
``is: {var: v}``   a variable equals ``v`` (``in`` takes a list); ``v`` is a word of the
                   variable's vocabulary (:data:`VARIABLE_TYPES`)
``lt/le/gt/ge``    ``{var: number}``: a numeric variable compared with a number
``known: var``     the variable is known (a case field that was given)
``fact: id``       a definition of ``definitions.yaml`` holds
``alert: code``    an alert was raised
``gene: {..}``     ``{positive: TOR1A}`` or ``{positive: any}`` or ``{positive_class:
                   degenerative}`` or ``{tested: any}``; genes are those of ``genes.yaml``
``tried: {..}``    ``{treatment: levodopa, response: [none]}``: a treatment tried (without
                   ``response``, a drug being taken now counts too); ``treatment`` may be a
                   kind of ``treatments.yaml`` such as ``oral``
=================  ===========================================================================

Beside compiling, this module reads conditions statically: :func:`reads` (the derived
variables and alerts a condition reads, through the definitions it uses), :func:`provides`
(the variables known whenever it holds, which a message may name) and :func:`readable` (what
a rule of each step may read, from the order in which the engine runs its steps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from types import MappingProxyType
from typing import Any, Generic, TypeVar, get_args

from ..errors import Problem
from ..vocabulary import (
    Associated,
    Cause,
    Course,
    Distribution,
    Etiology,
    FocalType,
    MriResult,
    OnsetBand,
    Phenomenology,
    Response,
    Severity,
    Sex,
)
from .schema import Definition, Rule
from .view import CaseView, Used

__all__ = [
    "Compiled", "Condition", "DERIVED", "KNOWABLE", "NUMERIC_VARS", "OPERATORS", "STEPS", "VARIABLES",
    "VARIABLE_TYPES", "Vocabulary", "compile_condition", "dependencies", "describe",
    "phenomenology_guard", "provides", "readable", "reads",
]

#: A compiled condition: the view of a case -> the facts it used when it holds, else None.
Condition = Callable[[CaseView], Used | None]

RowT = TypeVar("RowT", bound="Rule | Definition", covariant=True)


@dataclass(frozen=True, slots=True)
class Compiled(Generic[RowT]):
    """A knowledge-base row with its compiled condition.

    ``row`` is the validated row (an :class:`~contraxis.knowledge.schema.AlertRule`, a
    :class:`~contraxis.knowledge.schema.PhenomenologyRow`...); ``test`` its condition;
    ``guard`` the phenomenologies the condition can hold for (None: any); ``depends`` the
    derived variables it reads (``alerts`` for any alert), through the definitions it uses too.
    """

    row: RowT
    test: Condition
    guard: frozenset[str] | None = None
    depends: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.row.id

OPERATORS = (
    "all", "any", "not", "finding", "absent", "region", "only_regions", "history", "lab",
    "drug", "is", "in", "lt", "le", "gt", "ge", "known", "fact", "alert", "gene", "tried",
)

#: Every variable of the facts (:meth:`CaseView.var`) a condition may read or a message may name,
#: with the type of its values: a Literal of :mod:`contraxis.vocabulary` (its words), ``bool``,
#: a number, or ``str`` (free text, only for ``known`` and for messages).
VARIABLE_TYPES: Mapping[str, Any] = MappingProxyType({
    "phenomenology": Phenomenology,
    "focal_type": FocalType,
    "distribution": Distribution,
    "onset_band": OnsetBand,
    "associated": Associated,
    "etiology": Etiology,
    "cause": Cause,
    "course": Course,
    "severity": Severity,
    "sex": Sex,
    "mri": MriResult,
    "family_history": bool,
    "disabling": bool,
    "undated_drugs": str,
    "age": float,
    "onset_age": float,
    "years_since_onset": float,
    "region_count": int,
})
NUMERIC_VARS = tuple(k for k, t in VARIABLE_TYPES.items() if t in (int, float))
VARIABLES = tuple(VARIABLE_TYPES)
KNOWABLE = VARIABLES + (
    "medications", "labs", "history", "imaging", "genetics", "treatment_history", "findings",
    "absent",
)

#: The steps of the engine (:func:`contraxis.engine.assess`) in the order they run, each with
#: the rule families it reads and the derived variables it concludes. A rule may read only
#: what the steps before its own conclude; the case's own fields are known from the start.
#: ``classification`` computes the onset band and the distribution before its tables run.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("phenomenology", ("phenomenology",)),
    ("classification", ("onset_band", "distribution")),
    ("focal_type", ("focal_type",)),
    ("associated", ("associated",)),
    ("temporal_pattern", ()),
    ("named_forms", ()),
    ("etiology", ("etiology",)),
    ("pathology", ()),
    ("inheritance", ()),
    ("cause", ("cause",)),
    ("alerts", ("alerts",)),
    ("workup", ()),
    ("treatment", ()),
    ("diagnosis", ()),
    ("questions", ()),
)
DERIVED = tuple(var for _, concludes in STEPS for var in concludes if var != "alerts")
#: Steps that run instead of each other: the cause of a movement that is not a dystonia is
#: decided in place of a dystonia's etiology, so the cause table never sees an etiology.
_NEVER_SET = MappingProxyType({"cause": frozenset({"etiology"})})


def readable(step: str) -> frozenset[str]:
    """The derived variables (and ``alerts``) a rule of ``step`` may read.

    Parameters
    ----------
    step : str
        A step of :data:`STEPS`.

    Returns
    -------
    frozenset of str
        What the steps before it conclude, less what is never set when it runs.

    Raises
    ------
    KeyError
        ``step`` is not a step of :data:`STEPS`.
    """
    names = [name for name, _ in STEPS]
    index = names.index(step) if step in names else None
    if index is None:
        raise KeyError(step)
    before = {var for _, concludes in STEPS[:index] for var in concludes}
    return frozenset(before - _NEVER_SET.get(step, frozenset()))


def concluded_by(variable: str) -> str:
    """The step that concludes a derived variable (or ``alerts``)."""
    return next(step for step, concludes in STEPS if variable in concludes)


def allowed(value: Any, options: Iterable[str], kind: str) -> str:
    """What is allowed, for an error message: every option when there are few, else how many,
    with the closest matches to ``value`` either way."""
    options = sorted(options)
    close = get_close_matches(str(value), options, n=3, cutoff=0.7) if isinstance(value, str) else []
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    if len(options) <= 40:
        return f"allowed: {', '.join(options)}{hint}"
    return f"allowed: one of {len(options)} {kind}{hint}"


class Vocabulary:
    """What a condition may refer to; filled by the loader from the data files.

    ``labs`` maps a test to its unit; ``lab_plausible`` to the (low, high) of the values a
    patient can have in that unit; ``same_unit(a, b)`` says whether two spellings name one
    unit. ``genes`` are the gene symbols of ``genes.yaml``.
    """

    def __init__(
        self,
        *,
        concepts: Mapping[str, frozenset[str]],
        concept_labels: Mapping[str, str],
        regions: Sequence[str],
        history: Mapping[str, frozenset[str]],
        labs: Mapping[str, str],
        drug_classes: Sequence[str],
        definitions: Sequence[str],
        alerts: Sequence[str],
        gene_classes: Sequence[str],
        treatments: Sequence[str],
        treatment_kinds: Mapping[str, frozenset[str]],
        is_code: Callable[[str], bool],
        label: Callable[[str], str],
        genes: Sequence[str] = (),
        lab_plausible: Mapping[str, tuple[float, float]] | None = None,
        same_unit: Callable[[str, str], bool] = lambda a, b: a == b,
    ) -> None:
        self.concepts = concepts
        self.concept_labels = concept_labels
        self.regions = frozenset(regions)
        self.history = history
        self.labs = labs
        self.drug_classes = frozenset(drug_classes)
        self.definitions = frozenset(definitions)
        self.alerts = frozenset(alerts)
        self.gene_classes = frozenset(gene_classes)
        self.treatments = frozenset(treatments)
        self.treatment_kinds = treatment_kinds
        self.is_code = is_code
        self.label = label
        self.genes = frozenset(genes)
        self.lab_plausible = lab_plausible or {}
        self.same_unit = same_unit


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _never(facts: CaseView) -> Used | None:
    return None


class _Compiler:
    def __init__(self, vocabulary: Vocabulary, where: str, problems: list[Problem]) -> None:
        self.v = vocabulary
        self.where = where
        self.problems = problems
        self.path: list[str] = []

    def fail(self, message: str, *at: str) -> Condition:
        """Record a problem at the current path (extended by ``at``); the condition never holds."""
        self.problems.append(Problem(self.where + "".join(self.path) + "".join(at), message))
        return _never

    def compile(self, node: Any, at: str = "") -> Condition:
        self.path.append(at)
        try:
            if not isinstance(node, Mapping) or len(node) != 1:
                ops = ", ".join(OPERATORS)
                return self.fail(f"a condition must be a mapping with one operator, got {node!r} (allowed: {ops})")
            ((op, arg),) = node.items()
            method: Callable[[Any], Condition] | None = getattr(self, "op_" + str(op), None)
            if op not in OPERATORS or method is None:
                return self.fail(f"unknown operator {op!r} ({allowed(op, OPERATORS, 'operators')})")
            self.path.append("." + str(op))
            try:
                return method(arg)
            finally:
                self.path.pop()
        finally:
            self.path.pop()

    # -- logic -------------------------------------------------------------------------
    def _parts(self, op: str, arg: Any) -> list[Condition] | None:
        if not isinstance(arg, list) or not arg:
            self.fail(f"expects a non-empty list of conditions, got {arg!r}")
            return None
        return [self.compile(a, f"[{i}]") for i, a in enumerate(arg)]

    def op_all(self, arg: Any) -> Condition:
        parts = self._parts("all", arg)
        if parts is None:
            return _never

        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            first, second = parts

            def all2(facts: CaseView) -> Used | None:
                a = first(facts)
                if a is None:
                    return None
                b = second(facts)
                return None if b is None else a + b

            return all2

        def all_(facts: CaseView) -> Used | None:
            used: tuple[str, ...] = ()
            for part in parts:
                got = part(facts)
                if got is None:
                    return None
                used += got
            return used

        return all_

    def op_any(self, arg: Any) -> Condition:
        parts = self._parts("any", arg)
        if parts is None:
            return _never

        def any_(facts: CaseView) -> Used | None:
            for part in parts:
                got = part(facts)
                if got is not None:
                    return got
            return None

        return any_

    def op_not(self, arg: Any) -> Condition:
        inner = self.compile(arg)
        text = "not: " + describe(arg)

        def not_(facts: CaseView) -> Used | None:
            return (text,) if inner(facts) is None else None

        return not_

    # -- findings ------------------------------------------------------------------------
    def _codes(self, name: Any) -> tuple[frozenset[str], str] | None:
        if not isinstance(name, str):
            return None
        if name in self.v.concepts:
            return self.v.concepts[name], self.v.concept_labels[name]
        if self.v.is_code(name):
            return frozenset([name]), f"{name} {self.v.label(name)}"
        return None

    def _finding_op(self, arg: Any, pool: str) -> Condition:
        got = self._codes(arg)
        if got is None:
            return self.fail(
                f"{arg!r} is neither a concept of findings.yaml, a current HPO term nor a local code of findings.yaml "
                f"({allowed(arg, self.v.concepts, 'concepts, or a code')})"
            )
        codes = got[0]
        word = "present" if pool == "present" else "absent"

        lines: dict[str, str] = {}  # code -> its line, made at its first hit

        def line(facts: CaseView, code: str) -> str:
            text = lines.get(code)
            if text is None:
                text = lines[code] = f"{word}: {code} {facts.label(code)}"
            return text

        def finding(facts: CaseView) -> Used | None:
            hit = getattr(facts, pool) & codes
            if not hit:
                return None
            if len(hit) == 1:
                return (line(facts, next(iter(hit))),)
            return tuple(line(facts, c) for c in sorted(hit))

        return finding

    def op_finding(self, arg: Any) -> Condition:
        return self._finding_op(arg, "present")

    def op_absent(self, arg: Any) -> Condition:
        return self._finding_op(arg, "absent")

    def _regions(self, arg: Any) -> frozenset[str] | None:
        values = [arg] if isinstance(arg, str) else arg
        if not isinstance(values, list) or not values:
            self.fail(f"expects a list of regions, got {arg!r} ({allowed(None, self.v.regions, 'regions')})")
            return None
        bad = [(i, r) for i, r in enumerate(values) if r not in self.v.regions]
        for i, r in bad:
            self.fail(f"{r!r} is not a region ({allowed(r, self.v.regions, 'regions')})", f"[{i}]")
        return None if bad else frozenset(values)

    def op_region(self, arg: Any) -> Condition:
        regions = self._regions(arg)
        if regions is None:
            return _never

        def region(facts: CaseView) -> Used | None:
            hit = facts.regions & regions
            return tuple(f"region: {r}" for r in sorted(hit)) if hit else None

        return region

    def op_only_regions(self, arg: Any) -> Condition:
        regions = self._regions(arg)
        if regions is None:
            return _never

        def only_regions(facts: CaseView) -> Used | None:
            if facts.regions and facts.regions <= regions:
                return ("regions: " + ", ".join(sorted(facts.regions)),)
            return None

        return only_regions

    def op_history(self, arg: Any) -> Condition:
        if not isinstance(arg, str) or arg not in self.v.history:
            options = allowed(arg, self.v.history, "codes and categories")
            return self.fail(f"{arg!r} is not a history code or category of history.yaml ({options})")
        codes = self.v.history[arg]

        def history(facts: CaseView) -> Used | None:
            hit = facts.history & codes
            return tuple(f"history: {c} {facts.label(c)}" for c in sorted(hit)) if hit else None

        return history

    # -- laboratory ----------------------------------------------------------------------
    def op_lab(self, arg: Any) -> Condition:
        if not isinstance(arg, Mapping):
            return self.fail(f"expects {{test: T, below|above|at_least|known: ...}}, got {arg!r}")
        test = arg.get("test")
        if not isinstance(test, str) or test not in self.v.labs:
            options = allowed(test, self.v.labs, "tests")
            return self.fail(f"{test!r} is not a laboratory test of labs.yaml ({options})", ".test")
        unit = self.v.labs[test]
        tests = [k for k in arg if k not in ("test", "unit")]
        if len(tests) != 1 or tests[0] not in ("below", "above", "at_least", "known"):
            return self.fail(f"{test}: give one of below, above, at_least, known; got {sorted(map(str, tests))}")
        kind = tests[0]
        limit = arg[kind]
        if "unit" in arg and not (isinstance(arg["unit"], str) and self.v.same_unit(arg["unit"], unit)):
            return self.fail(f"{arg['unit']!r} is not the unit of {test}: its limits are written in {unit} (labs.yaml)",
                             ".unit")
        if kind == "known":
            if not isinstance(limit, bool):
                return self.fail(f"expects true or false, got {limit!r}", ".known")

            def known(facts: CaseView) -> Used | None:
                fact = facts.labs.get(test)
                if (fact is not None) == limit:
                    return (f"{test}: {fact.shown}",) if fact is not None else (f"{test}: not measured",)
                return None
            return known
        if not _number(limit):
            return self.fail(f"{test}: expects a number in {unit}, got {limit!r}", f".{kind}")
        plausible = self.v.lab_plausible.get(test)
        if plausible is not None and not plausible[0] <= limit <= plausible[1]:
            low, high = plausible
            return self.fail(
                f"{limit:g} is not a possible {test} value in {unit} (plausible: {low:g} to {high:g} {unit}): "
                f"is the limit written in another unit?", f".{kind}",
            )
        word = {"below": "<", "above": ">", "at_least": ">="}[kind]
        shown_limit = f"{limit:f}".rstrip("0").rstrip(".")  # as written: 8.5, 15000, never 1.5e+04

        def lab(facts: CaseView) -> Used | None:
            fact = facts.labs.get(test)
            if fact is None or not getattr(fact, kind)(limit):
                return None
            return (f"{test}: {fact.shown} ({word} {shown_limit} {unit})",)

        return lab

    # -- drugs ---------------------------------------------------------------------------
    def op_drug(self, arg: Any) -> Condition:
        if not isinstance(arg, Mapping):
            return self.fail(f"expects {{class: C, within_days?, at_least_days?, undated?}}, got {arg!r}")
        if arg.get("class") not in self.v.drug_classes:
            cls = arg.get("class")
            options = allowed(cls, self.v.drug_classes, "classes")
            return self.fail(f"{cls!r} is not a drug class of drugs.yaml ({options})", ".class")
        unknown = set(map(str, arg)) - {"class", "within_days", "at_least_days", "undated"}
        if unknown:
            return self.fail(f"unknown keys {sorted(unknown)} (allowed: class, within_days, at_least_days, undated)")
        cls = arg["class"]
        within = arg.get("within_days")
        at_least = arg.get("at_least_days")
        undated = arg.get("undated")
        for key in ("within_days", "at_least_days"):
            days = arg.get(key)
            if days is not None and not (isinstance(days, int) and not isinstance(days, bool) and days >= 0):
                return self.fail(f"expects a whole number of days (0 or more), got {days!r}", f".{key}")
        if undated is not None and (not isinstance(undated, bool) or within is not None or at_least is not None):
            return self.fail(f"undated: expects true or false, alone with class; got {arg!r}", ".undated")

        def drug(facts: CaseView) -> Used | None:
            for med in facts.drugs_in(cls):
                days = med.days_since_start
                if undated is not None and (days is None) != undated:
                    continue
                if within is not None:
                    # A dose increase counts like a start for a reaction within days.
                    recent = [d for d in (days, med.days_since_dose_increase) if d is not None and d <= within]
                    if not recent:
                        continue
                if at_least is not None and (days is None or days < at_least):
                    continue
                if not facts.started_before_onset(med):
                    continue
                when = ", start date not known" if days is None else f", started {_days_ago(days)}"
                raised = med.days_since_dose_increase
                if within is not None and raised is not None and raised <= within:
                    when += f", dose raised {_days_ago(raised)}"
                return (f"drug: {med.display} ({cls}{when})",)
            return None

        return drug

    # -- variables -----------------------------------------------------------------------
    def _var(self, arg: Any) -> tuple[str, Any] | None:
        if not isinstance(arg, Mapping) or len(arg) != 1:
            self.fail(f"expects {{variable: value}}, got {arg!r}")
            return None
        ((var, value),) = arg.items()
        if var not in VARIABLE_TYPES:
            self.fail(f"unknown variable {var!r} ({allowed(var, VARIABLES, 'variables')})", f".{var}")
            return None
        return var, value

    def _word(self, var: str, value: Any, at: str) -> bool:
        """Whether ``value`` is one ``var`` can take; records a problem when not."""
        kind = VARIABLE_TYPES[var]
        words = get_args(kind)
        name = var.replace("_", " ")
        if words:
            if value in words:
                return True
            hint = " (to ask whether it is known, write known: " + var + ")" if value is None else ""
            self.fail(f"{value!r} is not a {name} ({allowed(value, words, 'values')}){hint}", at)
        elif kind is bool:
            if isinstance(value, bool):
                return True
            self.fail(f"{name} is true or false, got {value!r}", at)
        elif kind in (int, float):
            if _number(value):
                return True
            self.fail(f"{name} is a number, got {value!r}", at)
        else:
            self.fail(f"{name} is free text: test it with known: {var}, not with a value", at)
        return False

    def op_is(self, arg: Any) -> Condition:
        got = self._var(arg)
        if got is None:
            return _never
        var, value = got
        if not self._word(var, value, f".{var}"):
            return _never

        used = (f"{var}: {value}",)

        def is_(facts: CaseView) -> Used | None:
            return used if facts.variables[var] == value else None

        return is_

    def op_in(self, arg: Any) -> Condition:
        got = self._var(arg)
        if got is None:
            return _never
        var, values = got
        if not isinstance(values, list) or not values:
            return self.fail(f"{var}: expects a non-empty list, got {values!r}", f".{var}")
        if not all([self._word(var, v, f".{var}[{i}]") for i, v in enumerate(values)]):
            return _never
        allowed_values = tuple(values)

        def in_(facts: CaseView) -> Used | None:
            value = facts.variables[var]
            return (f"{var}: {value}",) if value in allowed_values else None

        return in_

    def _compare(self, arg: Any, test: Callable[[float, float], bool], word: str) -> Condition:
        got = self._var(arg)
        if got is None:
            return _never
        var, limit = got
        if var not in NUMERIC_VARS:
            return self.fail(f"{var!r} is not a number (allowed: {', '.join(NUMERIC_VARS)})", f".{var}")
        if not _number(limit):
            return self.fail(f"{var}: expects a number, got {limit!r}", f".{var}")

        def compare(facts: CaseView) -> Used | None:
            value = facts.variables[var]
            if not isinstance(value, (int, float)) or not test(value, limit):
                return None
            return (f"{var}: {value:g} ({word} {limit:g})",)

        return compare

    def op_lt(self, arg: Any) -> Condition:
        return self._compare(arg, lambda a, b: a < b, "<")

    def op_le(self, arg: Any) -> Condition:
        return self._compare(arg, lambda a, b: a <= b, "<=")

    def op_gt(self, arg: Any) -> Condition:
        return self._compare(arg, lambda a, b: a > b, ">")

    def op_ge(self, arg: Any) -> Condition:
        return self._compare(arg, lambda a, b: a >= b, ">=")

    def op_known(self, arg: Any) -> Condition:
        if arg not in KNOWABLE:
            return self.fail(f"unknown field {arg!r} ({allowed(arg, KNOWABLE, 'fields')})")

        used = (f"{arg}: given",)

        def known(facts: CaseView) -> Used | None:
            return used if facts.known(arg) else None

        return known

    def op_fact(self, arg: Any) -> Condition:
        if arg not in self.v.definitions:
            options = allowed(arg, self.v.definitions, "definitions")
            return self.fail(f"{arg!r} is not defined in definitions.yaml ({options})")

        def fact(facts: CaseView) -> Used | None:
            return facts.definition(arg)

        return fact

    def op_alert(self, arg: Any) -> Condition:
        if arg not in self.v.alerts:
            return self.fail(f"{arg!r} is not an alert ({allowed(arg, self.v.alerts, 'alerts')})")

        used = (f"alert: {arg}",)

        def alert(facts: CaseView) -> Used | None:
            return used if arg in facts.alerts else None

        return alert

    def op_gene(self, arg: Any) -> Condition:
        if not isinstance(arg, Mapping) or len(arg) != 1:
            forms = "{positive: GENE|any}, {positive_class: C}, {tested: GENE|any}"
            return self.fail(f"expects one of {forms}, got {arg!r}")
        ((kind, value),) = arg.items()
        if kind == "positive_class":
            if value not in self.v.gene_classes:
                options = allowed(value, self.v.gene_classes, "classes")
                return self.fail(f"{value!r} is not a class of genes.yaml ({options})", ".positive_class")

            def positive_class(facts: CaseView) -> Used | None:
                hit = [g for g in facts.gene_positive if facts.gene_class(g) == value]
                return tuple(f"gene test positive: {g} ({value})" for g in sorted(hit)) if hit else None

            return positive_class
        if kind not in ("positive", "tested"):
            return self.fail(f"unknown form {kind!r} (allowed: positive, positive_class, tested)", f".{kind}")
        if value != "any" and value not in self.v.genes:
            options = allowed(value, self.v.genes, "genes")
            return self.fail(f"{value!r} is not a gene of genes.yaml nor 'any' ({options})", f".{kind}")

        def gene(facts: CaseView) -> Used | None:
            pool = facts.gene_positive if kind == "positive" else facts.gene_tested
            hit = sorted(pool) if value == "any" else ([value] if value in pool else [])
            word = "positive" if kind == "positive" else "tested"
            return tuple(f"gene test {word}: {g}" for g in hit) if hit else None

        return gene

    def op_tried(self, arg: Any) -> Condition:
        if not isinstance(arg, Mapping) or "treatment" not in arg:
            return self.fail(f"expects {{treatment: T, response?: [..]}}, got {arg!r}")
        unknown = set(map(str, arg)) - {"treatment", "response"}
        if unknown:
            return self.fail(f"unknown keys {sorted(unknown)} (allowed: treatment, response)")
        name = arg["treatment"]
        if name in self.v.treatment_kinds:
            targets = self.v.treatment_kinds[name]
        elif name in self.v.treatments:
            targets = frozenset([name])
        else:
            options = [*self.v.treatments, *self.v.treatment_kinds]
            return self.fail(f"{name!r} is neither a treatment nor a treatment kind of treatments.yaml "
                             f"({allowed(name, options, 'treatments')})", ".treatment")
        responses = arg.get("response")
        words = get_args(Response)
        good = isinstance(responses, list) and responses and set(responses) <= set(words)
        if responses is not None and not good:
            return self.fail(f"expects a list of {', '.join(words)}; got {responses!r}", ".response")

        def tried(facts: CaseView) -> Used | None:
            for treatment, response in facts.tried:
                if treatment in targets and (responses is None or response in responses):
                    return (f"tried: {treatment} (response: {response})",)
            if responses is None:
                for med, treatment in facts.taking:
                    if treatment in targets:
                        return (f"taking: {med} ({treatment})",)
            return None

        return tried


def phenomenology_guard(node: Any) -> frozenset[str] | None:
    """The phenomenologies a condition can hold for, when it says so at its top level.

    ``{all: [{is: {phenomenology: dystonia}}, ...]}`` holds only for a dystonia; the engine
    skips such a rule for anything else without evaluating it (an optimisation that never
    changes a result).
    """
    parts = node["all"] if isinstance(node, Mapping) and isinstance(node.get("all"), list) else [node]
    for part in parts:
        if isinstance(part, Mapping) and len(part) == 1:
            ((op, arg),) = part.items()
            if op in ("is", "in") and isinstance(arg, Mapping) and set(arg) == {"phenomenology"}:
                value = arg["phenomenology"]
                return frozenset(value if isinstance(value, list) else [value])
    return None


def dependencies(node: Any) -> tuple[frozenset[str], frozenset[str]]:
    """The derived variables (``alerts`` for any alert) and the definitions a condition reads, directly."""
    variables: set[str] = set()
    facts: set[str] = set()
    for name in reads(node, {}):
        variables.add("alerts" if name.startswith("alert:") else name)
    for op, arg in _walk(node):
        if op == "fact" and isinstance(arg, str):
            facts.add(arg)
    return frozenset(variables), frozenset(facts)


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (operator, argument) of a condition tree, through all, any and not."""
    if isinstance(node, Mapping):
        for op, arg in node.items():
            yield op, arg
            if op in ("all", "any") and isinstance(arg, list):
                for item in arg:
                    yield from _walk(item)
            elif op == "not":
                yield from _walk(arg)


def reads(node: Any, definitions: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The derived variables and the alerts a condition reads, through the definitions it uses.

    Parameters
    ----------
    node : condition tree
        A rule's ``when``.
    definitions : mapping
        Definition id -> its ``when`` (``definitions.yaml``); ``{}`` reads the condition alone.

    Returns
    -------
    dict
        ``{name: via}``: ``name`` is a variable of :data:`DERIVED` or ``alert:<code>``; ``via`` the
        chain of definitions it is read through (empty when the condition reads it itself).
    """
    out: dict[str, tuple[str, ...]] = {}

    def visit(n: Any, via: tuple[str, ...]) -> None:
        for op, arg in _walk(n):
            if op in ("is", "in", "lt", "le", "gt", "ge") and isinstance(arg, Mapping):
                for var in arg:
                    if var in DERIVED:
                        out.setdefault(var, via)
            elif op == "known" and arg in DERIVED:
                out.setdefault(arg, via)
            elif op == "alert" and isinstance(arg, str):
                out.setdefault("alert:" + arg, via)
            elif op == "fact" and isinstance(arg, str) and arg in definitions and arg not in via:
                visit(definitions[arg], via + (arg,))

    visit(node, ())
    return out


#: Variables every case has a value for (the sex defaults to unknown; no region is 0 regions).
_ALWAYS_KNOWN = frozenset({"sex", "region_count"})


def provides(node: Any, definitions: Mapping[str, Any]) -> frozenset[str]:
    """The variables known (not None) whenever a condition holds: those a message may name.

    A variable is known when the condition compares it (``is``, ``in``, ``lt`` ...) or asks
    ``known`` of it at a level every way of holding goes through (each part of ``all``, every
    branch of ``any``, never under ``not``); a ``drug`` with ``undated: true`` provides
    ``undated_drugs``; a ``fact`` provides what its definition provides.
    """

    def walk(n: Any, seen: frozenset[str]) -> frozenset[str]:
        if not isinstance(n, Mapping) or len(n) != 1:
            return frozenset()
        ((op, arg),) = n.items()
        if op == "all" and isinstance(arg, list):
            return frozenset().union(*(walk(a, seen) for a in arg))
        if op == "any" and isinstance(arg, list) and arg:
            branches = [walk(a, seen) for a in arg]
            return frozenset.intersection(*branches)
        if op == "is" and isinstance(arg, Mapping):
            return frozenset(k for k, v in arg.items() if v is not None)
        if op == "in" and isinstance(arg, Mapping):
            return frozenset(k for k, v in arg.items() if isinstance(v, list) and v and None not in v)
        if op in ("lt", "le", "gt", "ge") and isinstance(arg, Mapping):
            return frozenset(arg)
        if op == "known" and arg in VARIABLE_TYPES:
            return frozenset([arg])
        if op == "drug" and isinstance(arg, Mapping) and arg.get("undated") is True:
            return frozenset(["undated_drugs"])
        if op == "fact" and isinstance(arg, str) and arg in definitions and arg not in seen:
            return walk(definitions[arg], seen | {arg})
        return frozenset()

    return _ALWAYS_KNOWN | walk(node, frozenset())


def describe(node: Any) -> str:
    """A short, stable text of a condition, for explanations."""
    if isinstance(node, Mapping) and len(node) == 1:
        ((op, arg),) = node.items()
        if op in ("all", "any") and isinstance(arg, list):
            return f"{op}(" + "; ".join(describe(a) for a in arg) + ")"
        if op == "not":
            return "not " + describe(arg)
        if isinstance(arg, Mapping):
            return f"{op} " + ", ".join(f"{k}={v}" for k, v in arg.items())
        return f"{op} {arg}"
    return repr(node)


def compile_condition(node: Any, *, vocabulary: Vocabulary, where: str, problems: list[Problem]) -> Condition:
    """Compile a ``when`` tree; append every problem found to ``problems``.

    Parameters
    ----------
    node : condition tree
        The ``when`` as read from YAML.
    vocabulary : Vocabulary
        What the condition may name.
    where : str
        Where the condition is (``rules/alerts.yaml: alert.wilson-screen.when``); each problem
        extends it with the path inside the condition (``.all[1].lt.onset_age``).
    problems : list of Problem
        Appended to, one per mistake (a misspelt operator, value, code, test, class, gene...).

    Returns
    -------
    Condition
        CaseView -> the facts used when the condition holds, else None. A part with a mistake
        never holds (the loader refuses the knowledge base anyway).
    """
    return _Compiler(vocabulary, where, problems).compile(node)


def _days_ago(days: int) -> str:
    """'today', '1 day ago', '9 days ago'."""
    return "today" if days == 0 else f"{days} day{'' if days == 1 else 's'} ago"
