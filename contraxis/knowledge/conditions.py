"""The condition language of the knowledge base's rules.

A rule's ``when`` is a small tree written in YAML. Its vocabulary is declared here, in code;
its sentences live in the data files. Every condition is compiled once, when the knowledge
base loads, into a function of the patient's :class:`~contraxis.reasoning.facts.Facts` that
returns the facts it used (a tuple of short sentences) when it holds, and ``None`` when it
does not, so that every conclusion can show what it rests on.

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
``lab: {..}``      ``{test: calcium, below: 8.5}``; also ``above``, ``at_least``, ``known``
``drug: {..}``     ``{class: dopamine-blocking, within_days: 7, at_least_days: 30}``: a drug
                   of the class, started before the movement began
``is: {var: v}``   a variable equals ``v`` (``in`` takes a list)
``lt/le/gt/ge``    ``{var: number}``: a numeric variable compared with a number
``known: var``     the variable is known (a case field that was given)
``fact: id``       a definition of ``definitions.yaml`` holds
``alert: code``    an alert was raised
``gene: {..}``     ``{positive: TOR1A}`` or ``{positive: any}`` or ``{positive_class:
                   degenerative}`` or ``{tested: any}``
``tried: {..}``    ``{treatment: levodopa, response: [none]}``: a treatment tried (without
                   ``response``, a drug being taken now counts too); ``treatment`` may be a
                   kind of ``treatments.yaml`` such as ``oral``
=================  ===========================================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ..errors import Problem

if TYPE_CHECKING:  # pragma: no cover
    from ..reasoning.facts import Facts

Used = tuple[str, ...]
Condition = Callable[["Facts"], Used | None]

OPERATORS = (
    "all", "any", "not", "finding", "absent", "region", "only_regions", "history", "lab",
    "drug", "is", "in", "lt", "le", "gt", "ge", "known", "fact", "alert", "gene", "tried",
)

NUMERIC_VARS = ("age", "onset_age", "years_since_onset", "region_count")
VARIABLES = (
    "phenomenology", "focal_type", "distribution", "onset_band", "associated", "etiology",
    "cause", "course", "severity", "sex", "mri", "family_history", "disabling", "undated_drugs",
) + NUMERIC_VARS
KNOWABLE = VARIABLES + (
    "medications", "labs", "history", "imaging", "genetics", "treatment_history", "findings",
    "absent",
)


class Vocabulary:
    """What a condition may refer to; filled by the loader from the data files."""

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


class _Compiler:
    def __init__(self, vocabulary: Vocabulary, where: str, problems: list[Problem]) -> None:
        self.v = vocabulary
        self.where = where
        self.problems = problems

    def fail(self, message: str) -> Condition:
        self.problems.append(Problem(self.where, message))
        return lambda facts: None

    def compile(self, node: Any) -> Condition:
        if not isinstance(node, Mapping) or len(node) != 1:
            return self.fail(f"a condition must be a mapping with one operator, got {node!r} (allowed: {', '.join(OPERATORS)})")
        ((op, arg),) = node.items()
        method = getattr(self, "op_" + str(op), None)
        if op not in OPERATORS or method is None:
            return self.fail(f"unknown operator {op!r} (allowed: {', '.join(OPERATORS)})")
        return method(arg)

    # -- logic -------------------------------------------------------------------------
    def op_all(self, arg: Any) -> Condition:
        if not isinstance(arg, list) or not arg:
            return self.fail(f"all: expects a non-empty list, got {arg!r}")
        parts = [self.compile(a) for a in arg]

        def all_(facts: "Facts") -> Used | None:
            used: list[str] = []
            for part in parts:
                got = part(facts)
                if got is None:
                    return None
                used.extend(got)
            return tuple(used)

        return all_

    def op_any(self, arg: Any) -> Condition:
        if not isinstance(arg, list) or not arg:
            return self.fail(f"any: expects a non-empty list, got {arg!r}")
        parts = [self.compile(a) for a in arg]

        def any_(facts: "Facts") -> Used | None:
            for part in parts:
                got = part(facts)
                if got is not None:
                    return got
            return None

        return any_

    def op_not(self, arg: Any) -> Condition:
        inner = self.compile(arg)
        text = "not: " + describe(arg)

        def not_(facts: "Facts") -> Used | None:
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

    def _finding_op(self, op: str, arg: Any, pool: str) -> Condition:
        got = self._codes(arg)
        if got is None:
            return self.fail(f"{op}: {arg!r} is neither a concept of findings.yaml nor a known code")
        codes = got[0]
        word = "present" if pool == "present" else "absent"

        def finding(facts: "Facts") -> Used | None:
            hit = getattr(facts, pool) & codes
            if not hit:
                return None
            return tuple(f"{word}: {c} {facts.label(c)}" for c in sorted(hit))

        return finding

    def op_finding(self, arg: Any) -> Condition:
        return self._finding_op("finding", arg, "present")

    def op_absent(self, arg: Any) -> Condition:
        return self._finding_op("absent", arg, "absent")

    def _regions(self, op: str, arg: Any) -> frozenset[str] | None:
        values = [arg] if isinstance(arg, str) else arg
        if not isinstance(values, list) or not values or any(r not in self.v.regions for r in values):
            self.fail(f"{op}: expects regions from {', '.join(sorted(self.v.regions))}, got {arg!r}")
            return None
        return frozenset(values)

    def op_region(self, arg: Any) -> Condition:
        regions = self._regions("region", arg)
        if regions is None:
            return lambda facts: None

        def region(facts: "Facts") -> Used | None:
            hit = facts.regions & regions
            return tuple(f"region: {r}" for r in sorted(hit)) if hit else None

        return region

    def op_only_regions(self, arg: Any) -> Condition:
        regions = self._regions("only_regions", arg)
        if regions is None:
            return lambda facts: None

        def only_regions(facts: "Facts") -> Used | None:
            if facts.regions and facts.regions <= regions:
                return ("regions: " + ", ".join(sorted(facts.regions)),)
            return None

        return only_regions

    def op_history(self, arg: Any) -> Condition:
        if not isinstance(arg, str) or arg not in self.v.history:
            return self.fail(f"history: {arg!r} is not a history code or category of history.yaml")
        codes = self.v.history[arg]

        def history(facts: "Facts") -> Used | None:
            hit = facts.history & codes
            return tuple(f"history: {c} {facts.label(c)}" for c in sorted(hit)) if hit else None

        return history

    # -- laboratory ----------------------------------------------------------------------
    def op_lab(self, arg: Any) -> Condition:
        if not isinstance(arg, Mapping) or arg.get("test") not in self.v.labs:
            return self.fail(f"lab: expects {{test: <one of {', '.join(sorted(self.v.labs))}>, below|above|at_least|known: ...}}, got {arg!r}")
        test = arg["test"]
        unit = self.v.labs[test]
        tests = [k for k in arg if k != "test"]
        if len(tests) != 1 or tests[0] not in ("below", "above", "at_least", "known"):
            return self.fail(f"lab: {test}: give one of below, above, at_least, known; got {sorted(tests)}")
        kind = tests[0]
        limit = arg[kind]
        if kind == "known":
            def known(facts: "Facts") -> Used | None:
                fact = facts.labs.get(test)
                if (fact is not None) == bool(limit):
                    return (f"{test}: {fact.shown}",) if fact is not None else (f"{test}: not measured",)
                return None
            return known
        if not isinstance(limit, (int, float)) or isinstance(limit, bool):
            return self.fail(f"lab: {test}: {kind} expects a number, got {limit!r}")
        word = {"below": "<", "above": ">", "at_least": ">="}[kind]

        def lab(facts: "Facts") -> Used | None:
            fact = facts.labs.get(test)
            if fact is None or not getattr(fact, kind)(limit):
                return None
            return (f"{test}: {fact.shown} ({word} {limit:g} {unit})",)

        return lab

    # -- drugs ---------------------------------------------------------------------------
    def op_drug(self, arg: Any) -> Condition:
        if not isinstance(arg, Mapping) or arg.get("class") not in self.v.drug_classes:
            return self.fail(f"drug: expects {{class: <one of {', '.join(sorted(self.v.drug_classes))}>, within_days?, at_least_days?}}, got {arg!r}")
        unknown = set(arg) - {"class", "within_days", "at_least_days", "undated"}
        if unknown:
            return self.fail(f"drug: unknown keys {sorted(unknown)} (allowed: class, within_days, at_least_days, undated)")
        cls = arg["class"]
        within = arg.get("within_days")
        at_least = arg.get("at_least_days")
        undated = arg.get("undated")
        if undated is not None and (not isinstance(undated, bool) or within is not None or at_least is not None):
            return self.fail(f"drug: undated: expects true or false, alone with class; got {arg!r}")

        def drug(facts: "Facts") -> Used | None:
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
                if days is None:
                    when = ", start date not known"
                else:
                    when = f", started {days} day{'' if days == 1 else 's'} ago"
                if within is not None and med.days_since_dose_increase is not None and med.days_since_dose_increase <= within:
                    when += f", dose raised {med.days_since_dose_increase} day{'' if med.days_since_dose_increase == 1 else 's'} ago"
                return (f"drug: {med.display} ({cls}{when})",)
            return None

        return drug

    # -- variables -----------------------------------------------------------------------
    def _var(self, op: str, arg: Any) -> tuple[str, Any] | None:
        if not isinstance(arg, Mapping) or len(arg) != 1:
            self.fail(f"{op}: expects {{variable: value}}, got {arg!r}")
            return None
        ((var, value),) = arg.items()
        if var not in VARIABLES:
            self.fail(f"{op}: unknown variable {var!r} (allowed: {', '.join(VARIABLES)})")
            return None
        return var, value

    def op_is(self, arg: Any) -> Condition:
        got = self._var("is", arg)
        if got is None:
            return lambda facts: None
        var, value = got

        def is_(facts: "Facts") -> Used | None:
            return (f"{var}: {value}",) if facts.var(var) == value else None

        return is_

    def op_in(self, arg: Any) -> Condition:
        got = self._var("in", arg)
        if got is None:
            return lambda facts: None
        var, values = got
        if not isinstance(values, list):
            return self.fail(f"in: {var}: expects a list, got {values!r}")
        allowed = tuple(values)

        def in_(facts: "Facts") -> Used | None:
            value = facts.var(var)
            return (f"{var}: {value}",) if value in allowed else None

        return in_

    def _compare(self, op: str, arg: Any, test: Callable[[float, float], bool], word: str) -> Condition:
        got = self._var(op, arg)
        if got is None:
            return lambda facts: None
        var, limit = got
        if var not in NUMERIC_VARS or not isinstance(limit, (int, float)):
            return self.fail(f"{op}: expects a number for one of {', '.join(NUMERIC_VARS)}, got {arg!r}")

        def compare(facts: "Facts") -> Used | None:
            value = facts.var(var)
            if value is None or not test(value, limit):
                return None
            return (f"{var}: {value:g} ({word} {limit:g})",)

        return compare

    def op_lt(self, arg: Any) -> Condition:
        return self._compare("lt", arg, lambda a, b: a < b, "<")

    def op_le(self, arg: Any) -> Condition:
        return self._compare("le", arg, lambda a, b: a <= b, "<=")

    def op_gt(self, arg: Any) -> Condition:
        return self._compare("gt", arg, lambda a, b: a > b, ">")

    def op_ge(self, arg: Any) -> Condition:
        return self._compare("ge", arg, lambda a, b: a >= b, ">=")

    def op_known(self, arg: Any) -> Condition:
        if arg not in KNOWABLE:
            return self.fail(f"known: unknown field {arg!r} (allowed: {', '.join(KNOWABLE)})")

        def known(facts: "Facts") -> Used | None:
            return (f"{arg}: given",) if facts.known(arg) else None

        return known

    def op_fact(self, arg: Any) -> Condition:
        if arg not in self.v.definitions:
            return self.fail(f"fact: {arg!r} is not defined in definitions.yaml")

        def fact(facts: "Facts") -> Used | None:
            return facts.definition(arg)

        return fact

    def op_alert(self, arg: Any) -> Condition:
        if arg not in self.v.alerts:
            return self.fail(f"alert: {arg!r} is not an alert (allowed: {', '.join(sorted(self.v.alerts))})")

        def alert(facts: "Facts") -> Used | None:
            return (f"alert: {arg}",) if arg in facts.alerts else None

        return alert

    def op_gene(self, arg: Any) -> Condition:
        if not isinstance(arg, Mapping) or len(arg) != 1:
            return self.fail(f"gene: expects one of {{positive: GENE|any}}, {{positive_class: C}}, {{tested: GENE|any}}, got {arg!r}")
        ((kind, value),) = arg.items()
        if kind == "positive_class":
            if value not in self.v.gene_classes:
                return self.fail(f"gene: positive_class {value!r} is not a class of genes.yaml (allowed: {', '.join(sorted(self.v.gene_classes))})")

            def positive_class(facts: "Facts") -> Used | None:
                hit = [g for g in facts.gene_positive if facts.gene_class(g) == value]
                return tuple(f"gene test positive: {g} ({value})" for g in sorted(hit)) if hit else None

            return positive_class
        if kind not in ("positive", "tested") or not isinstance(value, str):
            return self.fail(f"gene: unknown form {arg!r} (allowed: positive, positive_class, tested)")

        def gene(facts: "Facts") -> Used | None:
            pool = facts.gene_positive if kind == "positive" else facts.gene_tested
            hit = sorted(pool) if value == "any" else ([value] if value in pool else [])
            word = "positive" if kind == "positive" else "tested"
            return tuple(f"gene test {word}: {g}" for g in hit) if hit else None

        return gene

    def op_tried(self, arg: Any) -> Condition:
        if not isinstance(arg, Mapping) or "treatment" not in arg:
            return self.fail(f"tried: expects {{treatment: T, response?: [..]}}, got {arg!r}")
        name = arg["treatment"]
        if name in self.v.treatment_kinds:
            targets = self.v.treatment_kinds[name]
        elif name in self.v.treatments:
            targets = frozenset([name])
        else:
            return self.fail(f"tried: {name!r} is neither a treatment nor a treatment kind of treatments.yaml")
        responses = arg.get("response")
        if responses is not None and (not isinstance(responses, list) or not set(responses) <= {"none", "partial", "good"}):
            return self.fail(f"tried: response must be a list of none, partial, good; got {responses!r}")

        def tried(facts: "Facts") -> Used | None:
            for treatment, response in facts.tried:
                if treatment in targets and (responses is None or response in responses):
                    return (f"tried: {treatment} (response: {response})",)
            if responses is None:
                for med, treatment in facts.taking:
                    if treatment in targets:
                        return (f"taking: {med} ({treatment})",)
            return None

        return tried


DERIVED = ("phenomenology", "focal_type", "distribution", "onset_band", "associated", "etiology", "cause")


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
    """The derived variables and the definitions a condition reads, directly."""
    variables: set[str] = set()
    facts: set[str] = set()

    def walk(n: Any) -> None:
        if isinstance(n, Mapping):
            for op, arg in n.items():
                if op in ("is", "in", "lt", "le", "gt", "ge") and isinstance(arg, Mapping):
                    variables.update(k for k in arg if k in DERIVED)
                elif op == "known" and arg in DERIVED:
                    variables.add(arg)
                elif op == "fact" and isinstance(arg, str):
                    facts.add(arg)
                elif op == "alert":
                    variables.add("alerts")
                else:
                    walk(arg)
        elif isinstance(n, list):
            for item in n:
                walk(item)

    walk(node)
    return frozenset(variables), frozenset(facts)


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
    """Compile a ``when`` tree; append every problem found to ``problems``."""
    return _Compiler(vocabulary, where, problems).compile(node)
