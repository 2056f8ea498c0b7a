"""Read, validate and compile the knowledge base once.

:func:`load_knowledge_base` reads every data file of ``contraxis/knowledge/data``,
validates it against :mod:`contraxis.knowledge.schema` (a table's conclusion, an alert,
work-up or treatment code is a word of :mod:`contraxis.vocabulary`) and checks what a
schema cannot:

* every source resolves, and every HPO id is a current term of the bundled ontology;
* every word of every condition is known (:mod:`contraxis.knowledge.conditions`): the values
  of ``is``/``in``, concepts and codes, regions, history codes, drug classes, genes and gene
  classes, laboratory tests and the unit and plausibility of their limits, treatments,
  alerts and definitions (which may not refer to themselves);
* a rule reads only what the steps of the engine before its own conclude
  (:func:`~contraxis.knowledge.conditions.readable`), an alert rule only the alerts raised
  above it, and no rule an alert that no rule raises;
* a text is filled only where its kind of row says (``message`` of an alert, ``question``),
  and each ``{placeholder}`` names a variable its rule's condition makes known;
* every laboratory test is an analyte the case reader reads, in its canonical unit; the onset
  bands cover every age once; every phenomenology, focal type, cause, alert and work-up of
  the vocabulary is concluded by some rule.

It raises one :class:`~contraxis.errors.KnowledgeBaseError` listing every problem found, each
naming the file, the rule, the field (with its path inside the condition), the value and
what is allowed. The result is an immutable :class:`KnowledgeBase` that the engine takes as
an argument.

Once a knowledge base has passed every check, what compiling it needed is kept in the cache
folder (:mod:`contraxis.knowledge.cache`): the rows as read, the concepts expanded over the
HPO graph and the plausible range of each laboratory test, keyed by the content of the data
files, of the code that compiles them and by the libraries installed. A later load with the
same key rebuilds the rows and compiles the conditions from it (a few tens of milliseconds)
without parsing YAML or building the ``hpo3`` ontology; a changed file changes the key, so
the files are read and checked again, and a mistake still stops the load.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from string import Formatter
from types import MappingProxyType
from typing import Any, TypeVar, cast, get_args

from pydantic import BaseModel, ValidationError

from ..codes import HpoOntology, HpoTerms
from ..errors import KnowledgeBaseError, Problem
from ..vocabulary import (
    ALERTS,
    CAUSES,
    DISTRIBUTIONS,
    ETIOLOGIES,
    FOCAL_TYPES,
    ONSET_BANDS,
    PHENOMENOLOGIES,
    REGIONS,
    TREATMENTS,
    WORKUPS,
    Associated,
)
from . import schema as s
from .conditions import (
    STEPS,
    VARIABLE_TYPES,
    VARIABLES,
    Compiled,
    Condition,
    RowT,
    Vocabulary,
    allowed,
    compile_condition,
    concluded_by,
    dependencies,
    phenomenology_guard,
    provides,
    readable,
    reads,
)

__all__ = ["Compiled", "KnowledgeBase", "RuleFamilies", "load_knowledge_base", "DATA_DIR"]

DATA_DIR = Path(__file__).parent / "data"
M = TypeVar("M", bound=BaseModel)
ASSOCIATEDS: tuple[str, ...] = get_args(Associated)


_V = TypeVar("_V")

INTERNED = 20_000
"""The most answer parts a knowledge base keeps (:meth:`KnowledgeBase.intern`): a few MB."""


@dataclass(frozen=True)
class RuleFamilies:
    """The compiled rule families of ``rules/``, in the order the engine applies them: the
    phenomenology, the classification's axes, the etiology, the causes, alerts, work-up,
    treatment, diagnosis and questions. The loader checks them together before the knowledge
    base is made."""

    phenomenology: tuple[Compiled[s.PhenomenologyRow], ...]
    focal_type: tuple[Compiled[s.FocalTypeRow], ...]
    associated: tuple[Compiled[s.AssociatedRow], ...]
    named_forms: tuple[Compiled[s.LabelRow], ...]
    temporal_pattern: tuple[Compiled[s.LabelRow], ...]
    etiology: tuple[Compiled[s.EtiologyRow], ...]
    pathology: tuple[Compiled[s.LabelRow], ...]
    inheritance: tuple[Compiled[s.LabelRow], ...]
    cause: tuple[Compiled[s.CauseRow], ...]
    alerts: tuple[Compiled[s.AlertRule], ...]
    workup: tuple[Compiled[s.WorkupRule], ...]
    treatment_rules: tuple[Compiled[s.TreatmentRule], ...]
    diagnosis: tuple[Compiled[s.DiagnosisRow], ...]
    questions: tuple[Compiled[s.QuestionRule], ...]

    def families(self) -> dict[str, tuple[Compiled[Any], ...]]:
        """The families by field name (shallow: the compiled rows themselves)."""
        return {f.name: getattr(self, f.name) for f in fields(RuleFamilies)}


@dataclass(frozen=True)
class KnowledgeBase(RuleFamilies):
    """The whole knowledge base, validated and compiled: its rule families
    (:class:`RuleFamilies`) and its reviewed tables. Build it with
    :func:`load_knowledge_base`; never mutate it."""

    version: str
    released: str
    hpo_release: str
    directory: Path
    sources: Mapping[str, s.Source]
    regions: s.Regions
    local_findings: Mapping[str, str]
    concepts: Mapping[str, frozenset[str]]
    concept_rows: Mapping[str, s.Concept]
    history: Mapping[str, s.HistoryCode]
    labs: Mapping[str, s.LabTest]
    labs_by_loinc: Mapping[str, s.LabTest]
    drug_classes: Mapping[str, s.DrugClass]
    drug_membership: Mapping[str, frozenset[str]]
    treats_as: Mapping[str, str]
    genes: Mapping[str, s.Gene]
    conditions: Mapping[str, s.Condition]
    tests: Mapping[str, s.TestItem]
    tests_done: Mapping[str, Condition]
    treatments: Mapping[str, s.TreatmentOption]
    treatment_groups: Mapping[str, frozenset[str]]
    definitions: Mapping[str, Compiled[s.Definition]]
    onset_bands: s.OnsetBands
    distribution_rules: Mapping[str, s.DistributionRule]
    distribution_source: str
    hpo_names: Callable[[str], str | None] = field(repr=False)
    interned: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Parts of answers made from this knowledge base alone and never changed (a rule's
    explanation for the facts it used, a finding's codes), kept to be handed out again:
    see :meth:`intern`."""

    def intern(self, key: Hashable, make: Callable[[], _V]) -> _V:
        """The value kept under ``key``, made by ``make()`` the first time.

        For immutable parts of an answer that depend on nothing but the key and this knowledge
        base; at most :data:`INTERNED` values are kept (all are dropped when it is reached).
        """
        try:
            return cast(_V, self.interned[key])
        except KeyError:
            pass
        value = make()
        if len(self.interned) >= INTERNED:
            self.interned.clear()
        self.interned[key] = value
        return value

    def label(self, code: str) -> str:
        """The human name of a finding or history code ('' when unknown)."""
        if code.startswith("HP:"):
            return self.hpo_names(code) or ""
        if code in self.local_findings:
            return self.local_findings[code]
        if code in self.history:
            return self.history[code].label
        return ""

    def is_known_code(self, code: str) -> bool:
        """Whether a finding code is a current HPO term or a local code."""
        if code.startswith("HP:"):
            return self.hpo_names(code) is not None
        return code in self.local_findings

    def citation(self, source: str) -> str:
        return self.sources[source].citation

    def stages(self) -> dict[str, Sequence[Compiled[s.Rule | s.Definition]]]:
        """Every compiled rule, by stage (``definitions`` first, then the steps in order)."""
        return {
            "definitions": tuple(self.definitions.values()),
            "phenomenology": self.phenomenology,
            "focal_type": self.focal_type,
            "associated": self.associated,
            "named_forms": self.named_forms,
            "temporal_pattern": self.temporal_pattern,
            "etiology": self.etiology,
            "pathology": self.pathology,
            "inheritance": self.inheritance,
            "cause": self.cause,
            "alerts": self.alerts,
            "workup": self.workup,
            "treatment": self.treatment_rules,
            "diagnosis": self.diagnosis,
            "questions": self.questions,
        }

    def rules(self) -> list[dict[str, Any]]:
        """Every rule of every stage, as plain data (for browsing and review)."""
        out = []
        for stage, rows in self.stages().items():
            for compiled in rows:
                data = compiled.row.model_dump(mode="json", by_alias=True)
                data["stage"] = stage
                out.append(data)
        return out

    def sections(self) -> dict[str, Any]:
        """The knowledge base as plain data, one section per kind of row."""
        def dump(rows: Iterable[BaseModel]) -> list[dict[str, Any]]:
            return [r.model_dump(mode="json", by_alias=True) for r in rows]

        return {
            "version": {"version": self.version, "released": self.released, "hpo_release": self.hpo_release},
            "sources": dump(self.sources.values()),
            "conditions": dump(self.conditions.values()),
            "rules": self.rules(),
            "findings": [{"code": k, "label": v} for k, v in self.local_findings.items()],
            "concepts": [
                {**r.model_dump(mode="json", by_alias=True), "expanded": sorted(self.concepts[r.id])}
                for r in self.concept_rows.values()
            ],
            "history": [{"code": k, **v.model_dump(mode="json")} for k, v in self.history.items()],
            "labs": dump(self.labs.values()),
            "drugs": dump(self.drug_classes.values()),
            "genes": dump(self.genes.values()),
            "tests": dump(self.tests.values()),
            "treatments": dump(self.treatments.values()),
            "regions": self.regions.model_dump(mode="json"),
        }


class _Reader:
    """Reads data files, collecting every problem instead of stopping at the first.

    ``documents`` keeps what each file held as parsed (plain data); a reader given the
    documents of an earlier load (from the cache) parses no YAML, and a file they lack makes
    the cached load stale.
    """

    def __init__(self, directory: Path, documents: Mapping[str, Any] | None = None) -> None:
        self.directory = directory
        self.problems: list[Problem] = []
        self.cached = documents is not None
        self.documents: dict[str, Any] = dict(documents) if documents is not None else {}

    def raw(self, name: str) -> Any:
        if name in self.documents:
            return self.documents[name]
        if self.cached:
            raise _Stale(f"{name} is not in the cached knowledge base")
        import yaml  # only when the files are read: a load from the cache parses no YAML

        path = self.directory / name
        data = None
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except FileNotFoundError:
            self.problems.append(Problem(name, "file is missing"))
        except yaml.YAMLError as error:
            self.problems.append(Problem(name, f"not valid YAML: {str(error).splitlines()[0]}"))
        self.documents[name] = data
        return data

    def model(
        self, name: str, model: type[M], data: Any = None, *, at: tuple[Any, ...] = (), whole: Any = None
    ) -> M | None:
        data = self.raw(name) if data is None else data
        if data is None:
            return None
        try:
            return model.model_validate(data)
        except ValidationError as error:
            for e in error.errors():
                loc = at + tuple(e["loc"])
                where = _locate(whole if whole is not None else data, loc)
                self.problems.append(Problem(f"{name}: {where}", f"{e['msg']} (got {_excerpt(e.get('input'))})"))
        return None

    def rows(self, name: str, model: type[M]) -> list[M]:
        data = self.raw(name)
        if not isinstance(data, list):
            if data is not None:
                self.problems.append(Problem(name, "expected a list of rows"))
            return []
        out = []
        for i, item in enumerate(data):
            got = self.model(name, model, item if item is not None else {}, at=(i,), whole=data)
            if got is not None:
                out.append(got)
        return out


_ROW_KEYS = ("id", "gene", "band")


def _excerpt(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _locate(data: Any, loc: tuple[Any, ...]) -> str:
    """A location inside a data file, named by the row it falls in.

    ``("rules", 2, "urgency")`` in alerts.yaml is ``alert.airway-risk (rules[2]).urgency``:
    the id of the innermost row the path passes through, where it is, then the field.
    """
    path = ""
    named = ""
    node = data
    for key in loc:
        path += f"[{key}]" if isinstance(key, int) else (f".{key}" if path else str(key))
        in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        node = node[key] if isinstance(node, Mapping) and key in node or in_list else None
        if isinstance(node, Mapping):
            row = next((node[k] for k in _ROW_KEYS if isinstance(node.get(k), str)), None)
            if row is not None:
                named, path = f"{row} ({path})", ""
    if not named:
        return path
    return named + (("." + path.lstrip(".")) if path and not path.startswith("[") else path)


def _unique(rows: list[Any], key: str, where: str, problems: list[Problem]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for row in rows:
        value = getattr(row, key)
        if value in out:
            problems.append(Problem(where, f"{key} {value!r} is defined twice"))
        out[value] = row
    return out


def _expand_concepts(findings: s.Findings, hpo: HpoOntology, problems: list[Problem]) -> dict[str, frozenset[str]]:
    concepts: dict[str, frozenset[str]] = {}
    for concept in findings.concepts:
        where = f"findings.yaml: {concept.id}"
        codes: set[str] = set()
        for code in concept.codes:
            if code.startswith("CX:"):
                if code not in findings.local:
                    problems.append(Problem(where, f"{code} is not a local code of findings.yaml"))
                codes.add(code)
            elif not hpo.is_current(code):
                problems.append(Problem(where, f"{code} is not a current term of the bundled HPO release"))
            else:
                codes.add(code)
        excluded: set[str] = set()
        for code in concept.except_:
            if not hpo.is_current(code):
                problems.append(Problem(where, f"except: {code} is not a current HPO term"))
                continue
            excluded.add(code)
            excluded.update(_descendants(hpo, code))
        for root in concept.descendants_of:
            if not hpo.is_current(root):
                problems.append(Problem(where, f"descendants_of: {root} is not a current HPO term"))
                continue
            codes.add(root)
            codes.update(_descendants(hpo, root))
        concepts[concept.id] = frozenset(codes - excluded)
    return concepts


def _descendants(hpo: HpoOntology, root: str) -> set[str]:
    term = hpo.term(root)
    out: set[str] = set()
    stack = list(term.children) if term is not None else []
    while stack:
        child = stack.pop()
        if child.id not in out:
            out.add(child.id)
            stack.extend(child.children)
    return out


def load_knowledge_base(
    directory: str | Path | None = None,
    *,
    hpo: HpoOntology | None = None,
    cache: bool | None = None,
    cache_dir: Path | None = None,
) -> KnowledgeBase:
    """Read, validate and compile the knowledge base.

    Parameters
    ----------
    directory : path, optional
        The data folder; the bundled one by default (loaded once per process).
    hpo : HpoOntology, optional
        The ontology to check HPO ids against; hpo3's bundled release by default. A
        knowledge base checked against an ontology given here is never cached.
    cache : bool, optional
        Whether to take the compiled knowledge base from the cache folder (and put it there
        after a full load); by default only the bundled knowledge base is cached (another
        folder is usually an edited copy).
    cache_dir : pathlib.Path, optional
        The cache folder; :func:`contraxis.codes.default_cache_dir` if omitted.

    Returns
    -------
    KnowledgeBase
        Immutable. Loaded from the cache or from the files, it is the same.

    Raises
    ------
    KnowledgeBaseError
        Listing every problem found in the data files (never from the cache: only a
        knowledge base that passed every check is cached, under the content of its files).
    """
    if directory is None and hpo is None and cache is None and cache_dir is None:
        return _load_bundled()
    folder = DATA_DIR if directory is None else Path(directory)
    if hpo is None and (cache if cache is not None else _is_bundled(folder)):
        return _load_cached(folder, cache_dir)
    return _load(folder, hpo=hpo or HpoOntology.load())


def _is_bundled(folder: Path) -> bool:
    try:
        return folder.resolve() == DATA_DIR.resolve()
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def _load_bundled() -> KnowledgeBase:
    return _load_cached(DATA_DIR, None)


def _load_cached(directory: Path, cache_dir: Path | None) -> KnowledgeBase:
    """The knowledge base from the cache when it holds this content, else loaded and cached."""
    from . import cache

    key = cache.cache_key(directory)
    stored = cache.read_compiled(key, cache_dir=cache_dir)
    if stored is not None:
        try:
            terms = HpoTerms.load(cache_dir=cache_dir)
            return _load(directory, hpo=terms, compiled=stored)
        except (_Stale, LookupError, TypeError, ValueError, AttributeError) as error:
            # A cached knowledge base that no longer compiles cleanly is never used: rebuilt.
            cache.log.warning("rebuilding the knowledge base cache: %s", error)
    built: dict[str, Any] = {}
    kb = _load(directory, hpo=HpoOntology.load(), keep=built)
    cache.write_compiled(key, built, cache_dir=cache_dir)
    HpoTerms.load(cache_dir=cache_dir)  # the names a cached load uses, taken now the ontology is built
    return kb


class _Stale(Exception):
    """A cached knowledge base that does not compile as it did (it is then rebuilt)."""


def _load(
    directory: Path,
    *,
    hpo: HpoOntology | HpoTerms,
    compiled: Mapping[str, Any] | None = None,
    keep: dict[str, Any] | None = None,
) -> KnowledgeBase:
    """Load a knowledge base: from its files (``compiled`` None), checking everything, or
    from what a checked load kept (``compiled``: the documents as parsed, the expanded
    concepts, the plausible laboratory ranges, the HPO release), checking nothing that needs
    the ``hpo3`` graph, the terminology tables or the case model; ``hpo`` then only names
    terms. ``keep``, when given, receives what a later load from the cache needs."""
    r = _Reader(directory, compiled["documents"] if compiled is not None else None)
    p = r.problems
    manifest = r.model("manifest.yaml", s.Manifest)
    sources = _unique(r.rows("sources.yaml", s.Source), "id", "sources.yaml", p)
    regions = r.model("regions.yaml", s.Regions)
    findings = r.model("findings.yaml", s.Findings)
    history = r.model("history.yaml", s.History)
    labs = _unique(r.rows("labs.yaml", s.LabTest), "id", "labs.yaml", p)
    drugs = r.model("drugs.yaml", s.Drugs)
    genes = _unique(r.rows("genes.yaml", s.Gene), "gene", "genes.yaml", p)
    conditions = _unique(r.rows("conditions.yaml", s.Condition), "id", "conditions.yaml", p)
    tests = _unique(r.rows("tests.yaml", s.TestItem), "id", "tests.yaml", p)
    treatments = r.model("treatments.yaml", s.Treatments)
    definitions = r.rows("rules/definitions.yaml", s.Definition)
    phenomenology = r.model("rules/phenomenology.yaml", s.Table[s.PhenomenologyRow])
    classification = r.model("rules/classification.yaml", s.Classification)
    etiology = r.model("rules/etiology.yaml", s.Etiology)
    cause = r.model("rules/cause.yaml", s.Table[s.CauseRow])
    alerts = r.model("rules/alerts.yaml", s.AlertRules)
    workup = r.model("rules/workup.yaml", s.WorkupRules)
    treatment_rules = r.model("rules/treatment.yaml", s.TreatmentRules)
    diagnosis = r.model("rules/diagnosis.yaml", s.Table[s.DiagnosisRow])
    questions = r.model("rules/questions.yaml", s.QuestionRules)
    parts = (manifest, regions, findings, history, drugs, treatments, phenomenology, classification,
             etiology, cause, alerts, workup, treatment_rules, diagnosis, questions)
    if compiled is not None and (p or any(part is None for part in parts)):
        raise _Stale("; ".join(str(problem) for problem in p[:3]) or "a file is missing from the cache")
    if any(part is None for part in parts):
        raise KnowledgeBaseError(p, source=str(directory))
    assert manifest and regions and findings and history and drugs and treatments and phenomenology
    assert classification and etiology and cause and alerts and workup and treatment_rules and diagnosis and questions

    # Cross-file checks -------------------------------------------------------------
    def need_source(where: str, source: str) -> None:
        if source not in sources:
            p.append(Problem(where, f"source {source!r} is not in sources.yaml"))

    if set(regions.regions) != set(REGIONS):
        p.append(Problem("regions.yaml", f"regions must be exactly the case vocabulary: {', '.join(REGIONS)}"))
    segments = {r_.segment for r_ in regions.regions.values() if r_.segment}
    for seg, neighbours in regions.contiguous.items():
        for n in [seg, *neighbours]:
            if n not in segments:
                p.append(Problem(f"regions.yaml: contiguous.{seg}", f"{n!r} is not a segment of any region"))
            elif n != seg and seg not in regions.contiguous.get(n, []):
                message = f"contiguity must be symmetric: {n} does not list {seg}"
                p.append(Problem(f"regions.yaml: contiguous.{seg}", message))
    need_source("regions.yaml", regions.source)
    need_source("history.yaml", history.source)
    concept_rows = _unique(findings.concepts, "id", "findings.yaml", p)
    for c in findings.concepts:
        need_source(f"findings.yaml: {c.id}", c.source)
    if compiled is None:
        assert isinstance(hpo, HpoOntology)
        concepts = _expand_concepts(findings, hpo, p)
    else:
        concepts = {k: frozenset(v) for k, v in compiled["concepts"].items()}
        if set(concepts) != {c.id for c in findings.concepts}:
            raise _Stale("its concepts are not those of findings.yaml")
    categories: dict[str, set[str]] = {}
    for code, item in history.codes.items():
        categories.setdefault(code, set()).add(code)
        for cat in item.categories:
            categories.setdefault(cat, set()).add(code)
    for lab in labs.values():
        need_source(f"labs.yaml: {lab.id}", lab.source)
        if lab.correction is not None:
            need_source(f"labs.yaml: {lab.id}.correction", lab.correction.source)
            if lab.correction.by not in labs:
                message = f"{lab.correction.by!r} is not a test of labs.yaml"
                p.append(Problem(f"labs.yaml: {lab.id}.correction.by", message))
    if compiled is None:
        plausible = _check_labs(labs, p)
    else:
        plausible = {k: (float(low), float(high)) for k, (low, high) in compiled["plausible"].items()}
        if set(plausible) != set(labs):
            raise _Stale("its laboratory ranges are not those of labs.yaml")
    labs_by_loinc = {lab.loinc: lab for lab in labs.values()}
    drug_classes = _unique(drugs.classes, "id", "drugs.yaml", p)
    membership: dict[str, set[str]] = {}
    for cls in drugs.classes:
        need_source(f"drugs.yaml: {cls.id}", cls.source)
        for member in cls.members:
            membership.setdefault(member, set()).add(cls.id)
    for gene in genes.values():
        need_source(f"genes.yaml: {gene.gene}", gene.source)
        if gene.condition not in conditions:
            p.append(Problem(f"genes.yaml: {gene.gene}", f"condition {gene.condition!r} is not in conditions.yaml"))
    for cond in conditions.values():
        need_source(f"conditions.yaml: {cond.id}", cond.source)
    options = _unique(treatments.options, "id", "treatments.yaml", p)
    for opt in treatments.options:
        need_source(f"treatments.yaml: {opt.id}", opt.source)
    missing = set(TREATMENTS) - set(options)
    if missing:
        p.append(Problem("treatments.yaml", f"no option for {', '.join(sorted(missing))}"))
    missing = set(WORKUPS) - set(tests)
    if missing:
        p.append(Problem("tests.yaml", f"no test for {', '.join(sorted(missing))}"))
    for test in tests.values():
        need_source(f"tests.yaml: {test.id}", test.source)
        for lab_id in test.labs:
            if lab_id not in labs:
                p.append(Problem(f"tests.yaml: {test.id}", f"lab {lab_id!r} is not in labs.yaml"))
    groups = {name: frozenset(members) for name, members in treatments.groups.items()}
    need_source("rules/classification.yaml: onset_bands", classification.onset_bands.source)
    need_source("rules/classification.yaml: distribution", classification.distribution.source)
    if compiled is None:
        _check_bands(classification, p)

    vocabulary = Vocabulary(
        concepts=concepts,
        concept_labels={c.id: c.label for c in findings.concepts},
        regions=REGIONS,
        history={k: frozenset(v) for k, v in categories.items()},
        labs={lab.id: lab.unit for lab in labs.values()},
        drug_classes=list(drug_classes),
        definitions=[d.id for d in definitions],
        alerts=ALERTS,
        gene_classes=sorted({g.class_ for g in genes.values()}),
        treatments=TREATMENTS,
        treatment_kinds=groups,
        is_code=lambda code: (code in findings.local) or (code.startswith("HP:") and hpo.is_current(code)),
        label=lambda code: findings.local.get(code) or _hpo_name(hpo, code) or "",
        genes=list(genes),
        lab_plausible=plausible,
        same_unit=_same_unit if compiled is None else _trusted_unit,
    )
    when_of = {d.id: d.when for d in definitions}
    if compiled is None:
        _check_definition_cycles(definitions, p)
    alert_rows = [(a.id, a.alert) for a in alerts.rules]

    def compile_rows(file: str, rows: Sequence[RowT], step: str | None) -> tuple[Compiled[RowT], ...]:
        seen: set[str] = set()
        out: list[Compiled[RowT]] = []
        for index, row in enumerate(rows):
            where = f"{file}: {row.id}"
            if row.id in seen:
                p.append(Problem(where, "id is defined twice"))
            seen.add(row.id)
            need_source(where, row.source)
            test = compile_condition(row.when, vocabulary=vocabulary, where=where + ".when", problems=p)
            if compiled is None:
                at = index if step == "alerts" else None
                _check_reads(where + ".when", row.when, step, when_of, alert_rows, at, p)
                _check_text(where, row, provides(row.when, when_of), p)
            out.append(Compiled(row, test, phenomenology_guard(row.when), depends_on(row.when)))
        return tuple(out)

    direct = {d.id: dependencies(d.when) for d in definitions}
    through: dict[str, frozenset[str]] = {}  # definition id -> what it reads, through the others

    def definition_reads(name: str, seen: frozenset[str]) -> frozenset[str]:
        if name not in through:
            variables, facts = direct[name]
            out = set(variables)
            for other in facts - seen:
                if other in direct:
                    out |= definition_reads(other, seen | {other})
            through[name] = frozenset(out)
        return through[name]

    def depends_on(node: Any) -> frozenset[str]:
        variables, facts = dependencies(node)
        out = set(variables)
        for name in facts:
            if name in direct:
                out |= definition_reads(name, frozenset({name}))
        return frozenset(out)

    compiled_definitions = {c.id: c for c in compile_rows("rules/definitions.yaml", definitions, None)}
    tests_done: dict[str, Condition] = {}
    for test in tests.values():
        if test.done_when is not None:
            where = f"tests.yaml: {test.id}.done_when"
            tests_done[test.id] = compile_condition(test.done_when, vocabulary=vocabulary, where=where, problems=p)
            if compiled is None:
                _check_reads(where, test.done_when, "workup", when_of, alert_rows, None, p)
    cls_file = "rules/classification.yaml: "
    stages = RuleFamilies(
        phenomenology=compile_rows("rules/phenomenology.yaml", phenomenology.rows, "phenomenology"),
        focal_type=compile_rows(cls_file + "focal_type", classification.focal_type.rows, "focal_type"),
        associated=compile_rows(cls_file + "associated", classification.associated.rows, "associated"),
        named_forms=compile_rows(cls_file + "named_forms", classification.named_forms.rows, "named_forms"),
        temporal_pattern=compile_rows(cls_file + "temporal_pattern", classification.temporal_pattern.rows,
                                      "temporal_pattern"),
        etiology=compile_rows("rules/etiology.yaml: etiology", etiology.etiology.rows, "etiology"),
        pathology=compile_rows("rules/etiology.yaml: pathology", etiology.pathology.rows, "pathology"),
        inheritance=compile_rows("rules/etiology.yaml: inheritance", etiology.inheritance.rows, "inheritance"),
        cause=compile_rows("rules/cause.yaml", cause.rows, "cause"),
        alerts=compile_rows("rules/alerts.yaml", alerts.rules, "alerts"),
        workup=compile_rows("rules/workup.yaml", workup.rules, "workup"),
        treatment_rules=compile_rows("rules/treatment.yaml", treatment_rules.rules, "treatment"),
        diagnosis=compile_rows("rules/diagnosis.yaml", diagnosis.rows, "diagnosis"),
        questions=compile_rows("rules/questions.yaml", questions.rules, "questions"),
    )
    for d in stages.diagnosis:
        if d.row.value not in conditions:
            known_conditions = allowed(d.row.value, conditions, "conditions")
            message = f"{d.row.value!r} is not a condition of conditions.yaml ({known_conditions})"
            p.append(Problem(f"rules/diagnosis.yaml: {d.id}.value", message))
    if compiled is None:
        _check_coverage(stages, p)
    elif p:
        raise _Stale("; ".join(str(problem) for problem in p[:3]))
    if p:
        raise KnowledgeBaseError(p, source=str(directory))
    hpo_release = hpo.release if compiled is None else str(compiled["hpo_release"])
    if keep is not None:
        keep.update(
            documents=r.documents,
            concepts={k: sorted(v) for k, v in concepts.items()},
            plausible={k: [low, high] for k, (low, high) in plausible.items()},
            hpo_release=hpo_release,
        )
    result = KnowledgeBase(
        version=manifest.version,
        released=manifest.released.isoformat(),
        hpo_release=hpo_release,
        directory=directory,
        sources=MappingProxyType(sources),
        regions=regions,
        local_findings=MappingProxyType(dict(findings.local)),
        concepts=MappingProxyType(concepts),
        concept_rows=MappingProxyType(concept_rows),
        history=MappingProxyType(dict(history.codes)),
        labs=MappingProxyType(labs),
        labs_by_loinc=MappingProxyType(labs_by_loinc),
        drug_classes=MappingProxyType(drug_classes),
        drug_membership=MappingProxyType({k: frozenset(v) for k, v in membership.items()}),
        treats_as=MappingProxyType(dict(drugs.treats_as)),
        genes=MappingProxyType(genes),
        conditions=MappingProxyType(conditions),
        tests=MappingProxyType(tests),
        tests_done=MappingProxyType(tests_done),
        treatments=MappingProxyType(options),
        treatment_groups=MappingProxyType(groups),
        definitions=MappingProxyType(compiled_definitions),
        onset_bands=classification.onset_bands,
        distribution_rules=MappingProxyType({d.value: d for d in classification.distribution.rules}),
        distribution_source=classification.distribution.source,
        **stages.families(),
        hpo_names=functools.lru_cache(maxsize=None)(lambda code: _hpo_name(hpo, code)),
    )
    return result


def _hpo_name(hpo: HpoOntology | HpoTerms, code: str) -> str | None:
    if not code.startswith("HP:") or not hpo.is_current(code):
        return None
    term = hpo.term(code)
    return term.name if term is not None else None


# -- checks beyond the schema ------------------------------------------------------------


def _trusted_unit(a: str, b: str) -> bool:
    """Units of a cached knowledge base: compared when it was checked, under the same key."""
    return True


def _same_unit(a: str, b: str) -> bool:
    """Whether two spellings name one unit (``ug/24 h`` and ``ug/(24.h)``)."""
    from ..terminology.units import normalise_unit

    return a == b or (normalise_unit(a) or a) == (normalise_unit(b) or b)


def _check_labs(labs: Mapping[str, s.LabTest], p: list[Problem]) -> dict[str, tuple[float, float]]:
    """Every test of labs.yaml is an analyte the case reader reads, under one of its LOINC
    codes and in its canonical unit; returns each test's plausible (low, high) in that unit."""
    from ..terminology.labs import analytes

    known = analytes()
    plausible: dict[str, tuple[float, float]] = {}
    for lab in labs.values():
        where = f"labs.yaml: {lab.id}"
        info = known.get(lab.id)
        if info is None:
            options = allowed(lab.id, known, "analytes")
            p.append(Problem(f"{where}.id", f"{lab.id!r} is not an analyte of terminology/data/labs.yaml ({options})"))
            continue
        if lab.loinc not in (*info.loinc_codes, *info.case_format_codes):
            codes = ", ".join(info.loinc_codes)
            p.append(Problem(f"{where}.loinc", f"{lab.loinc} is not a LOINC code read as {lab.id} (allowed: {codes})"))
        if not _same_unit(lab.unit, info.unit):
            message = (f"{lab.unit!r} is not the unit results of {lab.id} are read in ({info.unit}): "
                       "limits would be compared in the wrong unit")
            p.append(Problem(f"{where}.unit", message))
            continue
        plausible[lab.id] = info.plausible
    return plausible


def _check_bands(classification: s.Classification, p: list[Problem]) -> None:
    """The onset bands cover every age from 0 once, in order, and name every band of the
    vocabulary; the distribution rules name every distribution."""
    where = "rules/classification.yaml: onset_bands.bands"
    bands = classification.onset_bands.bands
    if [b.band for b in bands] != list(ONSET_BANDS):
        got = ", ".join(b.band for b in bands)
        p.append(Problem(where, f"the bands must be, in order: {', '.join(ONSET_BANDS)} (got {got})"))
    start = 0.0
    for band in bands:
        if band.from_ != start:
            message = f"{band.from_:g} leaves a gap or an overlap: the band before ends at {start:g}"
            p.append(Problem(f"{where}: {band.band}.from", message))
        if band.below is None:
            if band is not bands[-1]:
                p.append(Problem(f"{where}: {band.band}.below", "only the last band may be open (below: null)"))
            break
        if band.below <= band.from_:
            p.append(Problem(f"{where}: {band.band}.below", f"{band.below:g} is not above from ({band.from_:g})"))
        start = band.below
    else:
        p.append(Problem(where, "the last band must be open (below: null)"))
    values = [d.value for d in classification.distribution.rules]
    if sorted(values) != sorted(DISTRIBUTIONS):
        message = f"need one rule for each of {', '.join(DISTRIBUTIONS)} (got {', '.join(values)})"
        p.append(Problem("rules/classification.yaml: distribution.rules", message))


def _check_definition_cycles(definitions: list[s.Definition], p: list[Problem]) -> None:
    """No definition refers to itself, directly or through others."""
    edges = {d.id: dependencies(d.when)[1] for d in definitions}
    reported: set[frozenset[str]] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        for nxt in sorted(edges.get(name, ())):
            if nxt in chain:
                cycle = chain[chain.index(nxt):] + (nxt,)
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    path = " -> ".join(f"fact: {c}" for c in cycle)
                    p.append(Problem(f"rules/definitions.yaml: {nxt}.when", f"refers to itself: {path}"))
            elif nxt in edges:
                visit(nxt, chain + (nxt,))

    for d in definitions:
        visit(d.id, (d.id,))


def _check_reads(
    where: str,
    when: Any,
    step: str | None,
    definitions: Mapping[str, Any],
    alert_rows: Sequence[tuple[str, str]],
    index: int | None,
    p: list[Problem],
) -> None:
    """A rule reads only what the steps before its own conclude, and only alerts some rule
    raises; an alert rule reads only alerts that rules above it raise (they run in order)."""
    for name, via in reads(when, definitions).items():
        through = f" (through {' -> '.join(f'fact: {d}' for d in via)})" if via else ""
        if name.startswith("alert:"):
            code = name[len("alert:"):]
            raisers = [i for i, (_, alert) in enumerate(alert_rows) if alert == code]
            if not raisers and code in ALERTS:
                p.append(Problem(where, f"reads alert {code!r}{through}, which no rule of rules/alerts.yaml raises"))
                continue
            if step is None:
                continue
            if step == "alerts":
                later = [alert_rows[i][0] for i in raisers if index is not None and i >= index]
                if later:
                    p.append(Problem(where, f"reads alert {code!r}{through}, which {', '.join(later)} raise(s) at or "
                                             "below this rule: an alert rule may read only alerts raised by the rules "
                                             "above it"))
                continue
            var = "alerts"
        else:
            var = name
        if step is None or var in readable(step):
            continue
        steps = [n for n, _ in STEPS]
        concluding = concluded_by(var)
        may = ", ".join(sorted(readable(step))) or "none (only the case's own fields)"
        if steps.index(concluding) < steps.index(step):
            why = f"which is never set when the {step} step runs"
        else:
            why = f"which the {concluding} step concludes after the {step} step"
        p.append(Problem(where, f"reads {var!r}{through}, {why}; a {step} rule may read: {may}"))


def _check_text(where: str, row: Any, provided: frozenset[str], p: list[Problem]) -> None:
    """Placeholders only where the text is filled, each naming a variable the rule makes known."""
    templates: tuple[str, ...] = getattr(type(row), "templates", ())
    for name in type(row).model_fields:
        text = getattr(row, name)
        if not isinstance(text, str) or ("{" not in text and "}" not in text):
            continue
        at = f"{where}.{name}"
        if name not in templates:
            filled = " and ".join(templates) if templates else "no field"
            message = (f"{_excerpt(text)}: braces are shown as written here "
                       f"({filled} of this kind of row is filled from the facts)")
            p.append(Problem(at, message))
            continue
        try:
            parsed = [(f, spec, conv) for _, f, spec, conv in Formatter().parse(text) if f is not None]
        except ValueError as error:
            p.append(Problem(at, f"{_excerpt(text)}: {error} (write a brace itself as {{{{ or }}}})"))
            continue
        for field_name, spec, conv in parsed:
            if spec or conv or field_name not in VARIABLE_TYPES:
                if field_name in VARIABLE_TYPES:
                    written = "{" + field_name + ("!" + conv if conv else "") + (":" + spec if spec else "") + "}"
                    message = f"{written}: write {{{field_name}}} alone (values are shown as the facts give them)"
                else:
                    options = allowed(field_name, VARIABLES, "variables")
                    message = f"{{{field_name}}} is not a variable of the facts ({options})"
                p.append(Problem(at, message))
            elif field_name not in provided:
                known = ", ".join(sorted(provided))
                p.append(Problem(at, f"{{{field_name}}} may be empty when the rule holds: its condition does not "
                                     f"make {field_name} known (it makes known: {known}); compare it, or add "
                                     f"known: {field_name}"))


def _check_coverage(stages: RuleFamilies, p: list[Problem]) -> None:
    """Every word of the vocabulary a rule family concludes is concluded by some rule (a word
    with no rule would never be reached), and every question names a case field."""
    concluded = {
        "rules/phenomenology.yaml": ("phenomenology", "value", PHENOMENOLOGIES, "phenomenology"),
        "rules/classification.yaml: focal_type": ("focal_type", "value", FOCAL_TYPES, "focal type"),
        "rules/classification.yaml: associated": ("associated", "value", ASSOCIATEDS, "associated value"),
        "rules/etiology.yaml: etiology": ("etiology", "value", ETIOLOGIES, "etiology"),
        "rules/cause.yaml": ("cause", "value", CAUSES, "cause"),
        "rules/alerts.yaml": ("alerts", "alert", ALERTS, "alert"),
        "rules/workup.yaml": ("workup", "test", WORKUPS, "work-up"),
    }
    for where, (stage, attr, words, kind) in concluded.items():
        rows: tuple[Compiled[s.Rule], ...] = getattr(stages, stage)
        got = {getattr(c.row, attr) for c in rows}
        missing = [w for w in words if w not in got]
        if missing:
            message = f"no rule concludes the {kind} {', '.join(missing)} (every {kind} of the vocabulary needs one)"
            p.append(Problem(where, message))
    from ..case import Case

    fields = set(Case.model_fields)
    for c in stages.questions:
        head = c.row.field.split(".")[0]
        if head not in fields:
            message = f"{c.row.field!r} is not a case field ({allowed(head, fields, 'fields')})"
            p.append(Problem(f"rules/questions.yaml: {c.id}.field", message))
