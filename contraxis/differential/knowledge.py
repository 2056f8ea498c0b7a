"""The reviewed data the differential reads beside the HPO files.

Three files of ``contraxis/knowledge/data``, each with its schema below:

- ``acquired_causes.yaml``: the acquired and common causes ranked beside the Mendelian
  diseases (their phenotypes, the case facts that define them, their pretest weight);
- ``lab_to_hpo.yaml``: laboratory and imaging results as HPO terms;
- ``genetic_dystonias.yaml``: MDS names, levodopa response and disease-specific treatments;

and one of the differential's own, ``contraxis/differential/data/disease_phenotypes.yaml``:
the phenotypes of genetic dystonias as reviewed sources describe them, added to a disease's
annotation where the HPO annotation lacks them (:func:`add_reviewed_phenotypes`).

They cite the sources of ``sources.yaml`` (the knowledge base's one registry), and
refer to the drug classes of ``drugs.yaml``, the history codes of ``history.yaml`` and the
unit conversions of ``labs.yaml``: those come from the loaded
:class:`~contraxis.knowledge.KnowledgeBase`, the one reader of the knowledge files.
:func:`load_knowledge` validates everything a schema and the knowledge base can check and
raises one :class:`~contraxis.errors.KnowledgeBaseError` listing every problem;
:meth:`DifferentialKnowledge.check_terms` then checks every HPO id against an ontology.
The result is plain data (:meth:`DifferentialKnowledge.to_json`), cached beside the index
(:mod:`contraxis.differential.cache`) so that starting the differential needs no knowledge
base load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contraxis.codes.patterns import GENE_SYMBOL, HISTORY_ID, HPO_ID, LOCAL_ID, LOINC_CODE, OMIM_ID, anchored
from contraxis.errors import KnowledgeBaseError, Problem, allowed
from contraxis.knowledge.schema import LabCorrection

from .annotations import FREQUENCY_CLASSES, Annotation, Disease

if TYPE_CHECKING:
    from contraxis.knowledge import KnowledgeBase

__all__ = [
    "ACQUIRED_FILE",
    "DYSTONIAS_FILE",
    "PHENOTYPES_FILE",
    "ReviewedPhenotype",
    "add_reviewed_phenotypes",
    "FREQUENCY_WORDS",
    "LABS_FILE",
    "OWN_FILES",
    "PRETEST_WEIGHTS",
    "AcquiredCause",
    "DifferentialKnowledge",
    "GeneticDystonia",
    "LabTest",
    "Requirement",
    "load_knowledge",
]

ACQUIRED_FILE = "acquired_causes.yaml"
LABS_FILE = "lab_to_hpo.yaml"
DYSTONIAS_FILE = "genetic_dystonias.yaml"
OWN_FILES: Final = (ACQUIRED_FILE, LABS_FILE, DYSTONIAS_FILE)
"""The knowledge base's files that only the differential reads."""
PHENOTYPES_FILE = "disease_phenotypes.yaml"
PHENOTYPES_DIR: Final = Path(__file__).resolve().parent / "data"
"""Where the differential's own reviewed phenotype file lives."""

# libyaml's parser when PyYAML was built with it (about ten times faster), else the
# pure-Python one; both are the safe loader.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FREQUENCY_WORDS: Mapping[str, float] = {
    "obligate": FREQUENCY_CLASSES["HP:0040280"],
    "very frequent": FREQUENCY_CLASSES["HP:0040281"],
    "frequent": FREQUENCY_CLASSES["HP:0040282"],
    "occasional": FREQUENCY_CLASSES["HP:0040283"],
    "very rare": FREQUENCY_CLASSES["HP:0040284"],
}
"""The HPO frequency classes by name, read as in :data:`~.annotations.FREQUENCY_CLASSES`."""

PRETEST_WEIGHTS: Mapping[str, float] = {"common": 1000.0, "uncommon": 100.0}
"""Pretest weight of an acquired cause relative to one Mendelian disease (see the header of
``acquired_causes.yaml``: 1 in 1,000 or more against under 1 in 100,000 for most rare
diseases, and ten times less for an uncommon cause)."""

Frequency = Literal["obligate", "very frequent", "frequent", "occasional", "very rare"]
_HPO = anchored(HPO_ID)
_LOCAL = anchored(LOCAL_ID)
_FINDING = f"^(?:{HPO_ID.pattern}|{LOCAL_ID.pattern})$"
HpoId = Annotated[str, Field(pattern=_HPO)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Term(_Row):
    hpo: str = Field(pattern=_HPO)
    frequency: Frequency


class _Support(_Row):
    code: str = Field(pattern=_LOCAL)
    frequency: Frequency


class Requirement(_Row):
    """One case fact that defines an acquired cause (exactly one of the three kinds).

    Parameters
    ----------
    drug_class : str, optional
        A drug class of ``drugs.yaml``, taken now or recently.
    min_days, max_days : int, optional
        Bounds on the days since that drug was started (a drug without a start date counts).
    history : str, optional
        A history code of ``history.yaml``.
    finding : str, optional
        An HPO term (the term or one below it) or a local ``CX:`` code among the findings.
    """

    drug_class: str | None = None
    min_days: int | None = Field(default=None, ge=0)
    max_days: int | None = Field(default=None, ge=0)
    history: str | None = Field(default=None, pattern=anchored(HISTORY_ID))
    finding: str | None = Field(default=None, pattern=_FINDING)

    @model_validator(mode="after")
    def _one_kind(self) -> Requirement:
        kinds = [k for k in ("drug_class", "history", "finding") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of drug_class, history, finding")
        if (self.min_days is not None or self.max_days is not None) and self.drug_class is None:
            raise ValueError("min_days and max_days go with drug_class only")
        return self

    def describe(self) -> str:
        """The fact in words, for explanations."""
        if self.drug_class is not None:
            timing = ""
            if self.max_days is not None:
                timing = f" started within {self.max_days} days"
            elif self.min_days is not None:
                timing = f" taken for at least {self.min_days} days"
            return f"a {self.drug_class} drug{timing}"
        return f"history {self.history}" if self.history is not None else f"finding {self.finding}"


class AcquiredCause(_Row):
    """An acquired or common cause, as ``acquired_causes.yaml`` describes it.

    ``of_exclusion``: the cause is a diagnosis made once the others are excluded (idiopathic
    dystonia): it is listed by its probability, and is never moved to the front of the list
    as a treatable candidate to look for first.
    """

    id: str = Field(pattern=r"^CX:cause-[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    pretest: Literal["common", "uncommon"]
    requires: tuple[Requirement, ...] = Field(min_length=1)
    phenotype: tuple[_Term, ...] = Field(min_length=1)
    absent: tuple[HpoId, ...] = ()
    supports: tuple[_Support, ...] = ()
    onset: tuple[HpoId, ...] = ()
    treatment: str
    source: str
    of_exclusion: bool = False

    def as_disease(self, *, release: str) -> Disease:
        """The cause as a :class:`~.annotations.Disease` for the index."""
        annotations = tuple(Annotation(t.hpo, FREQUENCY_WORDS[t.frequency]) for t in self.phenotype)
        negated = tuple(Annotation(term, negated=True) for term in self.absent)
        return Disease(id=self.id, name=self.name, annotations=annotations + negated, onsets=self.onset,
                       release=release, kind="acquired")


class _AcquiredFile(_Row):
    reviewed: dt.date
    causes: tuple[AcquiredCause, ...]


class _Limit(_Row):
    below: float | None = None
    above: float | None = None
    hpo: str = Field(pattern=_HPO)


class _Normal(_Row):
    from_: float = Field(alias="from")
    to: float
    excludes: tuple[HpoId, ...]


class LabTest(_Row):
    """How one laboratory test's result becomes HPO terms (``lab_to_hpo.yaml``).

    ``decides_over``: LOINC codes of tests this one overrules: when its result settles a
    side of the limits, theirs are set aside (an ionized calcium decides over the total).
    """

    loinc: str = Field(pattern=anchored(LOINC_CODE))
    name: str
    unit: str
    low: _Limit | None = None
    high: _Limit | None = None
    normal: _Normal | None = None
    source: str
    decides_over: tuple[Annotated[str, Field(pattern=anchored(LOINC_CODE))], ...] = ()

    @model_validator(mode="after")
    def _limits(self) -> LabTest:
        if self.low is not None and self.low.below is None:
            raise ValueError("low needs a 'below' limit")
        if self.high is not None and self.high.above is None:
            raise ValueError("high needs an 'above' limit")
        if self.normal is not None and self.normal.from_ > self.normal.to:
            raise ValueError("normal: 'from' is above 'to'")
        return self


class _Imaging(_Row):
    mri_brain_normal_excludes: tuple[HpoId, ...]
    source: str


class _LabsFile(_Row):
    reviewed: dt.date
    tests: tuple[LabTest, ...]
    imaging: _Imaging


class GeneticDystonia(_Row):
    """A genetic dystonia or treatable genetic disease (``genetic_dystonias.yaml``)."""

    gene: str = Field(pattern=anchored(GENE_SYMBOL))
    mds_name: str | None = None
    omim: tuple[str, ...] = Field(min_length=1)
    inheritance: str
    levodopa_responsive: bool
    treatment: str | None = None
    source: str


class _DystoniasFile(_Row):
    reviewed: dt.date
    entries: tuple[GeneticDystonia, ...]


class _Phenotype(_Row):
    hpo: str = Field(pattern=_HPO)
    frequency: Frequency
    says: str = Field(min_length=10)


class ReviewedPhenotype(_Row):
    """A disease's phenotype as a reviewed source describes it (``disease_phenotypes.yaml``)."""

    disease: str = Field(pattern=anchored(OMIM_ID))
    name: str
    source: str
    phenotype: tuple[_Phenotype, ...] = Field(min_length=1)
    onset: tuple[HpoId, ...] = ()

    def annotations(self) -> tuple[Annotation, ...]:
        """The rows as annotations, each citing the source (origin ``reviewed``)."""
        return tuple(
            Annotation(row.hpo, FREQUENCY_WORDS[row.frequency], references=(self.source,), origin="reviewed")
            for row in self.phenotype
        )


class _PhenotypesFile(_Row):
    reviewed: dt.date
    diseases: tuple[ReviewedPhenotype, ...]


def add_reviewed_phenotypes(
    diseases: Iterable[Disease], phenotypes: Iterable[ReviewedPhenotype]
) -> tuple[list[Disease], list[tuple[str, str, str]]]:
    """Add to each disease the reviewed phenotype rows its annotation lacks.

    A row is added when no row of the disease's annotation names that term (the HPO's own
    row, with its frequency, always wins; a reviewed row for a broader term than an
    annotated one still adds what the source says of the broader term); an onset is added
    when the disease lacks it. The disease is found by any of its ids (a joined row's
    aliases too).

    Returns
    -------
    tuple
        The diseases (in the same order) and the rows added, as ``(disease id, HPO id,
        source)``.
    """
    wanted: dict[str, ReviewedPhenotype] = {p.disease: p for p in phenotypes}
    result: list[Disease] = []
    added: list[tuple[str, str, str]] = []
    for disease in diseases:
        entry = next((wanted[i] for i in disease.ids if i in wanted), None)
        if entry is None:
            result.append(disease)
            continue
        have = {a.term for a in disease.annotations}
        extra = tuple(a for a in entry.annotations() if a.term not in have)
        onsets = tuple(t for t in entry.onset if t not in disease.onsets)
        added += [(disease.id, a.term, entry.source) for a in extra]
        result.append(replace(disease, annotations=disease.annotations + extra, onsets=disease.onsets + onsets))
    return result, added


@dataclass(frozen=True)
class DifferentialKnowledge:
    """The reviewed data the differential uses, validated (see :func:`load_knowledge`).

    Attributes
    ----------
    acquired : tuple of AcquiredCause
        The acquired and common causes.
    labs : Mapping[str, LabTest]
        Laboratory tests by LOINC code.
    mri_normal_excludes : tuple of str
        HPO terms a normal brain MRI excludes.
    dystonias : Mapping[str, GeneticDystonia]
        Genetic dystonia entries by OMIM id.
    drug_classes : Mapping[str, frozenset[str]]
        Members of each drug class of ``drugs.yaml``.
    conversions : Mapping[str, Mapping[str, float]]
        For each LOINC code, other units and the factor into the unit of ``lab_to_hpo.yaml``.
    corrections : Mapping[str, tuple[str, LabCorrection]]
        For each LOINC code of ``lab_to_hpo.yaml`` whose test ``labs.yaml`` reads corrected
        (calcium by albumin), the LOINC code of the other test and the correction, in the
        units of ``labs.yaml`` (the same as ``lab_to_hpo.yaml``'s for that test).
    region_terms : Mapping[str, str]
        For each body region of ``regions.yaml`` with one, the HPO term for a dystonia of
        that region (``dystonia_hpo``).
    sources : Mapping[str, str]
        Every source id the files may cite, with its citation.
    reviewed : Mapping[str, str]
        The review date of each file.
    hashes : Mapping[str, str]
        sha256 of each file read.
    phenotypes : tuple of ReviewedPhenotype
        Disease phenotypes from ``disease_phenotypes.yaml``.
    """

    acquired: tuple[AcquiredCause, ...] = ()
    labs: Mapping[str, LabTest] = field(default_factory=dict)
    mri_normal_excludes: tuple[str, ...] = ()
    dystonias: Mapping[str, GeneticDystonia] = field(default_factory=dict)
    drug_classes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    conversions: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    corrections: Mapping[str, tuple[str, LabCorrection]] = field(default_factory=dict)
    region_terms: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)
    reviewed: Mapping[str, str] = field(default_factory=dict)
    hashes: Mapping[str, str] = field(default_factory=dict)
    phenotypes: tuple[ReviewedPhenotype, ...] = ()

    def acquired_diseases(self) -> list[Disease]:
        """The acquired causes as diseases for the index."""
        release = f"{ACQUIRED_FILE} {self.reviewed.get(ACQUIRED_FILE, '')}".strip()
        return [cause.as_disease(release=release) for cause in self.acquired]

    def priors(self) -> dict[str, float]:
        """Pretest weight of each acquired cause (see :data:`PRETEST_WEIGHTS`)."""
        return {cause.id: PRETEST_WEIGHTS[cause.pretest] for cause in self.acquired}

    def hpo_ids(self) -> list[tuple[str, str]]:
        """Every HPO id the files use, with where it is used."""
        found: list[tuple[str, str]] = []
        for i, cause in enumerate(self.acquired):
            where = f"{ACQUIRED_FILE}: causes[{i}] ({cause.id})"
            found += [(t.hpo, f"{where}.phenotype") for t in cause.phenotype]
            found += [(t, f"{where}.absent") for t in cause.absent]
            found += [(t, f"{where}.onset") for t in cause.onset]
            found += [
                (r.finding, f"{where}.requires") for r in cause.requires if r.finding and r.finding.startswith("HP:")
            ]
        for loinc, test in self.labs.items():
            where = f"{LABS_FILE}: tests ({loinc})"
            found += [(limit.hpo, where) for limit in (test.low, test.high) if limit is not None]
            found += [(t, f"{where}.normal") for t in (test.normal.excludes if test.normal else ())]
        found += [(t, f"{LABS_FILE}: imaging") for t in self.mri_normal_excludes]
        found += [(t, f"regions.yaml: regions.{region}.dystonia_hpo") for region, t in self.region_terms.items()]
        for entry in self.phenotypes:
            where = f"{PHENOTYPES_FILE}: {entry.disease}"
            found += [(row.hpo, f"{where}.phenotype") for row in entry.phenotype]
            found += [(t, f"{where}.onset") for t in entry.onset]
        return found

    def check_terms(self, current: Iterable[str], *, release: str) -> None:
        """Check that every HPO id the files use is a current term of an ontology release.

        Raises
        ------
        KnowledgeBaseError
            Listing every id that is not a current term.
        """
        known = set(current)
        problems = [
            Problem(where, f"{term} is not a current term of HPO {release}")
            for term, where in self.hpo_ids()
            if term not in known
        ]
        if problems:
            raise KnowledgeBaseError(problems)

    def to_json(self) -> dict[str, Any]:
        """The knowledge as JSON-ready data (:meth:`from_json` reads it back)."""
        dump = lambda row: row.model_dump(mode="json", by_alias=True)  # noqa: E731
        return {
            "acquired": [dump(cause) for cause in self.acquired],
            "labs": [dump(test) for test in self.labs.values()],
            "mri_normal_excludes": list(self.mri_normal_excludes),
            "dystonias": {omim: dump(entry) for omim, entry in self.dystonias.items()},
            "drug_classes": {name: sorted(members) for name, members in self.drug_classes.items()},
            "conversions": {loinc: dict(units) for loinc, units in self.conversions.items()},
            "corrections": {loinc: {"by": by, "correction": dump(c)} for loinc, (by, c) in self.corrections.items()},
            "region_terms": dict(self.region_terms),
            "sources": dict(self.sources),
            "reviewed": dict(self.reviewed),
            "hashes": dict(self.hashes),
            "phenotypes": [dump(entry) for entry in self.phenotypes],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DifferentialKnowledge:
        """Read back what :meth:`to_json` wrote.

        Raises
        ------
        pydantic.ValidationError, KeyError, TypeError
            When the data is not what :meth:`to_json` writes.
        """
        labs = [LabTest.model_validate(test) for test in data["labs"]]
        return cls(
            acquired=tuple(AcquiredCause.model_validate(cause) for cause in data["acquired"]),
            labs={test.loinc: test for test in labs},
            mri_normal_excludes=tuple(data["mri_normal_excludes"]),
            dystonias={omim: GeneticDystonia.model_validate(entry) for omim, entry in data["dystonias"].items()},
            drug_classes={name: frozenset(members) for name, members in data["drug_classes"].items()},
            conversions={
                loinc: {unit: float(f) for unit, f in units.items()} for loinc, units in data["conversions"].items()
            },
            corrections={
                str(loinc): (str(row["by"]), LabCorrection.model_validate(row["correction"]))
                for loinc, row in data["corrections"].items()
            },
            region_terms={str(k): str(v) for k, v in data["region_terms"].items()},
            sources={str(k): str(v) for k, v in data["sources"].items()},
            reviewed={str(k): str(v) for k, v in data["reviewed"].items()},
            hashes={str(k): str(v) for k, v in data["hashes"].items()},
            phenotypes=tuple(ReviewedPhenotype.model_validate(entry) for entry in data["phenotypes"]),
        )


def _read(directory: Path, name: str, problems: list[Problem]) -> tuple[Any, str]:
    path = directory / name
    try:
        data = path.read_bytes()
    except OSError as error:
        problems.append(Problem(name, f"cannot read the file: {error.strerror}"))
        return None, ""
    try:
        return yaml.load(data.decode("utf-8"), Loader=_YamlLoader), hashlib.sha256(data).hexdigest()  # noqa: S506 - a safe loader
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        problems.append(Problem(name, f"not valid YAML: {str(error).splitlines()[0]}"))
        return None, ""


def _validate(model: type[BaseModel], data: Any, name: str, problems: list[Problem]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for e in error.errors():
            path = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in e["loc"]).replace(".[", "[")
            value = e.get("input")
            shown = f"{value!r}: " if not isinstance(value, (dict, list)) and e["type"] != "missing" else ""
            problems.append(Problem(f"{name}: {path}", f"{shown}{e['msg']}"))
        return None


def load_knowledge(
    kb: KnowledgeBase | None = None, *, directory: Path | None = None, phenotypes_dir: Path = PHENOTYPES_DIR
) -> DifferentialKnowledge:
    """Read and validate the differential's data files beside the knowledge base.

    The three files of the differential are read from the knowledge base's folder, and
    ``disease_phenotypes.yaml`` from ``phenotypes_dir`` (``contraxis/differential/data``); what
    they refer to (sources, drug classes, history codes, laboratory units) is taken from the
    knowledge base as :func:`~contraxis.knowledge.load_knowledge_base` loaded it, never read
    a second time.

    Parameters
    ----------
    kb : KnowledgeBase, optional
        The loaded knowledge base; loaded from ``directory`` if omitted.
    directory : pathlib.Path, optional
        The knowledge base's data folder when ``kb`` is omitted (``contraxis/knowledge/data``
        by default).
    phenotypes_dir : pathlib.Path
        The folder of ``disease_phenotypes.yaml``.

    Raises
    ------
    KnowledgeBaseError
        Listing every problem: a file that does not read or fit its schema, a source,
        drug class or history code that does not resolve, an id given twice, a reviewed
        phenotype for a disease that ``genetic_dystonias.yaml`` does not list (and any
        problem of the knowledge base itself when it is loaded here).
    """
    if kb is None:
        from contraxis.knowledge import load_knowledge_base

        kb = load_knowledge_base(directory)
    elif directory is not None and Path(directory).resolve() != kb.directory.resolve():
        raise ValueError(f"give kb or directory, not both (kb was loaded from {kb.directory})")
    problems: list[Problem] = []
    raw = {name: _read(kb.directory, name, problems) for name in OWN_FILES}
    raw[PHENOTYPES_FILE] = _read(Path(phenotypes_dir), PHENOTYPES_FILE, problems)
    acquired = _validate(_AcquiredFile, raw[ACQUIRED_FILE][0], ACQUIRED_FILE, problems)
    labs = _validate(_LabsFile, raw[LABS_FILE][0], LABS_FILE, problems)
    dystonias = _validate(_DystoniasFile, raw[DYSTONIAS_FILE][0], DYSTONIAS_FILE, problems)
    phenotypes = _validate(_PhenotypesFile, raw[PHENOTYPES_FILE][0], PHENOTYPES_FILE, problems)
    if problems:
        raise KnowledgeBaseError(problems)

    sources = {source_id: row.citation for source_id, row in kb.sources.items()}
    drug_classes = {class_id: frozenset(row.members) for class_id, row in kb.drug_classes.items()}

    def need_source(where: str, source: str) -> None:
        if source not in sources:
            problems.append(Problem(where, f"source {source!r} is not in sources.yaml"))

    seen: set[str] = set()
    for i, cause in enumerate(acquired.causes):
        where = f"{ACQUIRED_FILE}: causes[{i}]"
        if cause.id in seen:
            problems.append(Problem(where, f"{cause.id} is given twice"))
        seen.add(cause.id)
        need_source(where, cause.source)
        for j, requirement in enumerate(cause.requires):
            if requirement.drug_class is not None and requirement.drug_class not in drug_classes:
                problems.append(
                    Problem(
                        f"{where}.requires[{j}]",
                        f"drug class {requirement.drug_class!r} is not in drugs.yaml "
                        f"(allowed: {allowed(sorted(drug_classes))})",
                    )
                )
            if requirement.history is not None and requirement.history not in kb.history:
                problems.append(
                    Problem(f"{where}.requires[{j}]", f"{requirement.history} is not a code of history.yaml")
                )
    by_loinc: dict[str, LabTest] = {}
    for test in labs.tests:
        if test.loinc in by_loinc:
            problems.append(Problem(f"{LABS_FILE}: tests", f"{test.loinc} is given twice"))
        by_loinc[test.loinc] = test
        need_source(f"{LABS_FILE}: {test.loinc}", test.source)
    for test in labs.tests:
        for other in test.decides_over:
            if other not in by_loinc or other == test.loinc:
                known = allowed(sorted(by_loinc))
                problems.append(Problem(f"{LABS_FILE}: {test.loinc}.decides_over",
                                        f"{other} is not another test of the file (tests: {known})"))
    need_source(f"{LABS_FILE}: imaging", labs.imaging.source)
    by_omim: dict[str, GeneticDystonia] = {}
    for entry in dystonias.entries:
        need_source(f"{DYSTONIAS_FILE}: {entry.gene}", entry.source)
        for omim in entry.omim:
            if not OMIM_ID.fullmatch(omim):
                problems.append(
                    Problem(
                        f"{DYSTONIAS_FILE}: {entry.gene}.omim", f"{omim!r} is not an OMIM id (OMIM: and six digits)"
                    )
                )
            if omim in by_omim:
                problems.append(
                    Problem(f"{DYSTONIAS_FILE}: {entry.gene}.omim", f"{omim} is already given for {by_omim[omim].gene}")
                )
            by_omim[omim] = entry
    described: set[str] = set()
    for i, entry in enumerate(phenotypes.diseases):
        where = f"{PHENOTYPES_FILE}: diseases[{i}] ({entry.disease})"
        need_source(where, entry.source)
        if entry.disease not in by_omim:
            problems.append(Problem(where, f"{entry.disease} is not an entry of {DYSTONIAS_FILE}"))
        if entry.disease in described:
            problems.append(Problem(where, f"{entry.disease} is given twice"))
        described.add(entry.disease)
        terms = [row.hpo for row in entry.phenotype]
        if len(set(terms)) != len(terms):
            problems.append(Problem(f"{where}.phenotype", "a term is given twice"))
    if problems:
        raise KnowledgeBaseError(problems)

    conversions = {
        loinc: dict(row.conversions)
        for loinc, row in kb.labs_by_loinc.items()
        if loinc in by_loinc and row.unit == by_loinc[loinc].unit
    }
    corrections = {
        loinc: (kb.labs[row.correction.by].loinc, row.correction)
        for loinc, row in kb.labs_by_loinc.items()
        if row.correction is not None and loinc in conversions and row.correction.by in kb.labs
    }
    return DifferentialKnowledge(
        acquired=acquired.causes,
        labs=by_loinc,
        mri_normal_excludes=labs.imaging.mri_brain_normal_excludes,
        dystonias=by_omim,
        drug_classes=drug_classes,
        conversions=conversions,
        corrections=corrections,
        region_terms={name: row.dystonia_hpo for name, row in kb.regions.regions.items() if row.dystonia_hpo},
        sources=sources,
        reviewed={
            ACQUIRED_FILE: str(acquired.reviewed),
            LABS_FILE: str(labs.reviewed),
            DYSTONIAS_FILE: str(dystonias.reviewed),
            PHENOTYPES_FILE: str(phenotypes.reviewed),
        },
        hashes={name: digest for name, (_, digest) in raw.items()},
        phenotypes=phenotypes.diseases,
    )
