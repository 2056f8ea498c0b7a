"""Disease annotations: which phenotypes, onsets and genes each disease has.

Three readers, each a pure function of the text it is given:

- :func:`read_hpoa` reads ``phenotype.hpoa`` (the HPO disease annotations: a term per row,
  with its frequency, onset, sex and evidence);
- :func:`read_gene_links` reads ``genes_to_phenotype.txt`` for the disease-gene links;
- :func:`diseases_from_hpo3` takes the diseases that the ``hpo3`` release knows and the
  annotation file does not (``hpo3`` has the links but no frequencies or onsets), and
  :func:`add_newer_links` the phenotypes it links to diseases the file already has.

:func:`read_bundled_diseases` reads the files shipped in ``contraxis/data/hpo`` and
reconciles them with the ``hpo3`` ontology (see :func:`reconcile`), each row keeping its
references; :func:`load_bundled_diseases` then joins the OMIM and Orphanet entries that MONDO
maps to the same disease into one row (:func:`join_diseases` over the join shipped in
``contraxis/differential/data``, :func:`read_join`), returning the diseases and a
:class:`Reconciliation` that counts what was mapped, dropped or joined. Rows that name the
same term are pooled into one frequency when the index is built (:func:`pool_rows`).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Literal

from contraxis.errors import KnowledgeBaseError, Problem

from .ontology import ONSET_ROOT, PHENOTYPIC_ABNORMALITY, TermGraph

__all__ = [
    "Annotation",
    "Disease",
    "FREQUENCY_CLASSES",
    "INHERITANCE_ROOT",
    "PooledTerm",
    "Reconciliation",
    "add_newer_links",
    "bundled_files",
    "bundled_join",
    "diseases_from_hpo3",
    "join_diseases",
    "load_bundled_diseases",
    "parse_frequency",
    "pool_rows",
    "read_bundled_diseases",
    "read_gene_links",
    "read_hpoa",
    "read_join",
    "reconcile",
]

INHERITANCE_ROOT = "HP:0000005"
"""Root of the mode-of-inheritance terms."""

FREQUENCY_CLASSES: Mapping[str, float] = {
    # The HPO frequency terms, read as the middle of the range each one's definition gives.
    "HP:0040280": 1.0,  # Obligate: "Always present, i.e. in 100% of the cases."
    "HP:0040281": 0.895,  # Very frequent: "Present in 80% to 99% of the cases."
    "HP:0040282": 0.545,  # Frequent: "Present in 30% to 79% of the cases."
    "HP:0040283": 0.17,  # Occasional: "Present in 5% to 29% of the cases."
    "HP:0040284": 0.025,  # Very rare: "Present in 1% to 4% of the cases."
    "HP:0040285": 0.0,  # Excluded: "Present in 0% of the cases."
}

DiseaseKind = Literal["mendelian", "acquired"]
AnnotationOrigin = Literal["annotation", "newer release", "reviewed"]

_FRACTION = re.compile(r"^(\d+)/(\d+)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")
_HPOA_COLUMNS = (
    "database_id", "disease_name", "qualifier", "hpo_id", "reference", "evidence",
    "onset", "frequency", "sex", "modifier", "aspect", "biocuration",
)
_HPOA_HEADER = "\t".join(_HPOA_COLUMNS)
_GENES_HEADER = "ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id"


@dataclass(frozen=True, slots=True)
class Annotation:
    """One phenotype of a disease.

    Parameters
    ----------
    term : str
        The HPO id.
    frequency : float or None
        A stated frequency (from an HPO frequency term or a percentage), 0 to 1.
    cohort : tuple of (int, int) or None
        ``(n, m)`` when the frequency is stated as *n* of *m* patients.
    negated : bool
        True for a ``NOT`` annotation: the disease is stated not to have the phenotype.
    references : tuple of str
        Where the row says it comes from (``PMID:...``, ``OMIM:...``, ``ORPHA:...`` in
        ``phenotype.hpoa``; the source id of a reviewed file's row).
    origin : str
        ``annotation`` (a row of ``phenotype.hpoa``), ``newer release`` (a link that only the
        ``hpo3`` release makes, without frequency or reference) or ``reviewed`` (a row of the
        differential's reviewed phenotype file, :mod:`.knowledge`).
    """

    term: str
    frequency: float | None = None
    cohort: tuple[int, int] | None = None
    negated: bool = False
    references: tuple[str, ...] = ()
    origin: AnnotationOrigin = "annotation"


@dataclass(frozen=True, slots=True)
class Disease:
    """A disease (or an acquired cause) with everything the differential knows about it.

    Parameters
    ----------
    id : str
        ``OMIM:nnnnnn``, ``ORPHA:nnn``, ``DECIPHER:n`` or ``CX:cause-...`` for an acquired cause.
    name : str
        The disease's name.
    annotations : tuple of Annotation
        Its phenotypes.
    onsets : tuple of str
        HPO onset terms annotated to it.
    inheritance : tuple of str
        HPO mode-of-inheritance terms annotated to it.
    genes : tuple of str
        HGNC symbols of the genes linked to it.
    release : str
        The release of the annotation it comes from (e.g. ``2025-01-16``).
    kind : {"mendelian", "acquired"}
        ``acquired`` for the causes described in ``acquired_causes.yaml``.
    aliases : tuple of str
        The other ids of the same disease, joined into this row (see :func:`join_diseases`).
    """

    id: str
    name: str
    annotations: tuple[Annotation, ...] = ()
    onsets: tuple[str, ...] = ()
    inheritance: tuple[str, ...] = ()
    genes: tuple[str, ...] = ()
    release: str = ""
    kind: DiseaseKind = "mendelian"
    aliases: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id of the disease: its own first, then its aliases."""
        return (self.id, *self.aliases)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """What reconciling the annotation release with the ontology release changed.

    Every count is of annotation rows (a disease-term pair) unless it says diseases.
    """

    annotation_release: str
    ontology_release: str
    replaced_terms: Mapping[str, str] = field(default_factory=dict)
    replaced_rows: int = 0
    dropped_terms: tuple[str, ...] = ()
    dropped_rows: int = 0
    diseases_from_annotation: int = 0
    diseases_only_in_ontology_release: int = 0
    diseases_only_in_annotation_release: int = 0
    diseases_without_phenotype: int = 0
    rows_from_ontology_release: int = 0
    joined_entries: int = 0
    reviewed_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the counts as JSON-ready data."""
        return {
            "annotation_release": self.annotation_release,
            "ontology_release": self.ontology_release,
            "replaced_terms": len(self.replaced_terms),
            "replaced_rows": self.replaced_rows,
            "dropped_terms": len(self.dropped_terms),
            "dropped_rows": self.dropped_rows,
            "diseases_from_annotation": self.diseases_from_annotation,
            "diseases_only_in_ontology_release": self.diseases_only_in_ontology_release,
            "diseases_only_in_annotation_release": self.diseases_only_in_annotation_release,
            "diseases_without_phenotype": self.diseases_without_phenotype,
            "rows_from_ontology_release": self.rows_from_ontology_release,
            "joined_entries": self.joined_entries,
            "reviewed_rows": self.reviewed_rows,
        }


def parse_frequency(text: str, *, where: str = "frequency") -> tuple[float | None, tuple[int, int] | None]:
    """Read the ``frequency`` column of ``phenotype.hpoa``.

    Parameters
    ----------
    text : str
        Empty, an HPO frequency term (``HP:0040282``), a fraction (``3/7``) or a
        percentage (``25%``).
    where : str
        Where the text comes from, for the error message.

    Returns
    -------
    tuple
        ``(frequency, cohort)``: a point frequency or None, and ``(n, m)`` or None.

    Raises
    ------
    KnowledgeBaseError
        For any other text, or a fraction with n > m or m = 0, or a percentage over 100.
    """
    text = text.strip()
    if not text:
        return None, None
    if text in FREQUENCY_CLASSES:
        return FREQUENCY_CLASSES[text], None
    if match := _FRACTION.match(text):
        n, m = int(match[1]), int(match[2])
        if m > 0 and n <= m:
            return None, (n, m)
    elif match := _PERCENT.match(text):
        value = float(match[1])
        if value <= 100:
            return value / 100.0, None
    raise KnowledgeBaseError(
        [
            Problem(
                where,
                f"{text!r} is not a frequency "
                "(allowed: an HPO frequency term HP:0040280..HP:0040285, n/m, or a percentage)",
            )
        ]
    )


def read_hpoa(lines: Iterable[str], *, source: str = "phenotype.hpoa") -> tuple[str, list[Disease]]:
    """Read the HPO disease annotation file.

    Phenotype rows (aspect ``P``) become :class:`Annotation` rows; onset rows (``C``) and
    inheritance rows (``I``) fill ``onsets`` and ``inheritance``; other aspects are skipped.
    A row stating frequency ``HP:0040285`` (Excluded) is read as a ``NOT`` annotation.

    Parameters
    ----------
    lines : Iterable[str]
        The file's lines.
    source : str
        The file's name, for error messages.

    Returns
    -------
    tuple
        The release (from the ``#version:`` header) and the diseases, in file order.

    Raises
    ------
    KnowledgeBaseError
        When the header, a column count or a frequency is wrong (every problem is listed).
    """
    release = ""
    header_seen = False
    problems: list[Problem] = []
    names: dict[str, str] = {}
    rows: dict[str, dict[str, list[Any]]] = {}
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\n")
        if line.startswith("#"):
            if line.startswith("#version:"):
                release = line.split(":", 1)[1].strip()
            continue
        if not line:
            continue
        cells = line.split("\t")
        if not header_seen:
            if tuple(cells) != _HPOA_COLUMNS:
                problems.append(Problem(f"{source}:{number}", f"expected the header {_HPOA_HEADER!r}"))
                break
            header_seen = True
            continue
        if len(cells) != len(_HPOA_COLUMNS):
            problems.append(Problem(f"{source}:{number}", f"has {len(cells)} columns (expected {len(_HPOA_COLUMNS)})"))
            continue
        disease, name, qualifier, term, reference, _, _, frequency, _, _, aspect, _ = cells
        entry = rows.setdefault(disease, {"P": [], "C": [], "I": []})
        names.setdefault(disease, name)
        if aspect == "P":
            try:
                value, cohort = parse_frequency(frequency, where=f"{source}:{number}: frequency")
            except KnowledgeBaseError as error:
                problems.extend(error.problems)
                continue
            negated = qualifier == "NOT" or value == 0.0
            references = tuple(r.strip() for r in reference.split(";") if r.strip())
            entry["P"].append(Annotation(term, None if negated else value, cohort, negated, references))
        elif aspect in ("C", "I") and qualifier != "NOT":
            entry[aspect].append(term)
    if not release:
        problems.append(Problem(source, "has no '#version:' header line"))
    if problems:
        raise KnowledgeBaseError(problems[:20])
    diseases = [
        Disease(
            id=disease,
            name=names[disease],
            annotations=tuple(entry["P"]),
            onsets=tuple(dict.fromkeys(entry["C"])),
            inheritance=tuple(dict.fromkeys(entry["I"])),
            release=release,
        )
        for disease, entry in rows.items()
    ]
    return release, diseases


def read_gene_links(lines: Iterable[str], *, source: str = "genes_to_phenotype.txt") -> dict[str, tuple[str, ...]]:
    """Read ``genes_to_phenotype.txt`` into ``{disease id: gene symbols}``.

    Raises
    ------
    KnowledgeBaseError
        When the header is not the expected one.
    """
    iterator = iter(lines)
    header = next(iterator, "").rstrip("\n").split("\t")
    expected = _GENES_HEADER.split("\t")
    if header != expected:
        raise KnowledgeBaseError([Problem(f"{source}:1", f"expected the header {_GENES_HEADER!r}")])
    links: dict[str, dict[str, None]] = {}
    for line in iterator:
        cells = line.rstrip("\n").split("\t")
        if len(cells) == len(expected):
            links.setdefault(cells[5], {})[cells[1]] = None
    return {disease: tuple(sorted(genes)) for disease, genes in links.items()}


def _hpo3_terms(disease: Any, roots: Mapping[str, str]) -> dict[str, list[str]]:
    """An ``hpo3`` disease's terms, sorted by root: phenotype, onset, inheritance."""
    by_root: dict[str, list[str]] = {PHENOTYPIC_ABNORMALITY: [], ONSET_ROOT: [], INHERITANCE_ROOT: []}
    for term in sorted(f"HP:{number:07d}" for number in disease.hpo):
        root = roots.get(term)
        if root in by_root:
            by_root[root].append(term)
    return by_root


def _hpo3_diseases(ontology: Any) -> Iterable[tuple[str, Any]]:
    """``(id, disease)`` for every OMIM and Orphanet disease ``hpo3`` knows, in id order."""
    for prefix, diseases in (("OMIM", ontology.omim_diseases), ("ORPHA", ontology.orpha_diseases)):
        for disease in sorted(diseases, key=lambda d: d.id):
            yield f"{prefix}:{disease.id}", disease


def diseases_from_hpo3(ontology: Any, *, graph: TermGraph, exclude: Iterable[str]) -> list[Disease]:
    """Take from ``hpo3`` the OMIM and Orphanet diseases that are not in ``exclude``.

    ``hpo3`` knows which terms annotate a disease but not how often, nor at what onset:
    the annotations come without frequency, and onset and inheritance terms are sorted out
    by their place in the ontology.

    Parameters
    ----------
    ontology : pyhpo.Ontology
        The built ``hpo3`` ontology.
    graph : TermGraph
        The same release as a graph (to sort terms by their root).
    exclude : Iterable[str]
        Disease ids already known from the annotation file.
    """
    known = set(exclude)
    roots = _roots_of(graph)
    found: list[Disease] = []
    for disease_id, disease in _hpo3_diseases(ontology):
        if disease_id in known:
            continue
        by_root = _hpo3_terms(disease, roots)
        found.append(
            Disease(
                id=disease_id,
                name=disease.name,
                annotations=tuple(Annotation(term, origin="newer release") for term in by_root[PHENOTYPIC_ABNORMALITY]),
                onsets=tuple(by_root[ONSET_ROOT]),
                inheritance=tuple(by_root[INHERITANCE_ROOT]),
                release=graph.release,
            )
        )
    return found


def add_newer_links(diseases: Sequence[Disease], ontology: Any, *, graph: TermGraph) -> tuple[list[Disease], int]:
    """Add the phenotypes that the ``hpo3`` release links to a disease and the annotation lacks.

    Curators add phenotypes to a disease between releases (often a published cohort's
    features); the newer release knows them, without frequencies. Each such term becomes an
    annotation without frequency (read as the corpus mean frequency). A term the annotation
    states the disease does not have (``NOT``) is not added; onsets are taken from the newer
    release only when the annotation gives none. The annotation's own rows are kept.

    Returns
    -------
    tuple
        The diseases (in the same order) and how many annotation rows were added.
    """
    roots = _roots_of(graph)
    newer = {disease_id: disease for disease_id, disease in _hpo3_diseases(ontology)}
    result: list[Disease] = []
    added = 0
    for disease in diseases:
        linked = newer.get(disease.id)
        if linked is None:
            result.append(disease)
            continue
        by_root = _hpo3_terms(linked, roots)
        have = {a.term for a in disease.annotations}
        extra = tuple(
            Annotation(term, origin="newer release") for term in by_root[PHENOTYPIC_ABNORMALITY] if term not in have
        )
        onsets = disease.onsets or tuple(by_root[ONSET_ROOT])
        if extra or onsets != disease.onsets:
            disease = replace(disease, annotations=disease.annotations + extra, onsets=onsets)
            added += len(extra)
        result.append(disease)
    return result, added


def _roots_of(graph: TermGraph) -> dict[str, str]:
    """Map each term to the first of the three roots it descends from (or itself is)."""
    roots = {PHENOTYPIC_ABNORMALITY, ONSET_ROOT, INHERITANCE_ROOT}
    found: dict[int, str] = {}
    for i in graph.topological_order():
        term = graph.ids[i]
        if term in roots:
            found[i] = term
            continue
        for parent in graph.parents[i]:
            if parent in found:
                found[i] = found[parent]
                break
    return {graph.ids[i]: root for i, root in found.items()}


def reconcile(
    diseases: Iterable[Disease], *, graph: TermGraph, annotation_release: str
) -> tuple[list[Disease], Reconciliation]:
    """Bring annotations of an older release onto the terms of ``graph``.

    A term the ontology release made obsolete is mapped to its ``replaced_by`` term; a
    term the ontology release does not know at all (or whose replacement it does not know)
    is dropped. Every row is kept, with its references: rows that name the same term (several
    publications, or a term and the obsolete id it replaces) are pooled when the index is
    built (:func:`pool_rows`). Onset and inheritance terms are mapped the same way.

    Returns
    -------
    tuple
        The reconciled diseases and the counts (:class:`Reconciliation`).
    """
    position = graph.position()
    replaced: dict[str, str] = {}
    dropped: dict[str, None] = {}
    replaced_rows = dropped_rows = 0

    def current(term: str) -> str | None:
        nonlocal replaced_rows, dropped_rows
        if term in position:
            return term
        new = graph.replaced_by.get(term)
        if new is not None:
            replaced[term] = new
            replaced_rows += 1
            return new
        dropped[term] = None
        dropped_rows += 1
        return None

    result: list[Disease] = []
    for disease in diseases:
        annotations: list[Annotation] = []
        for annotation in disease.annotations:
            term = current(annotation.term)
            if term is not None:
                annotations.append(annotation if term == annotation.term else replace(annotation, term=term))
        onsets = tuple(dict.fromkeys(t for t in map(current, disease.onsets) if t))
        inheritance = tuple(dict.fromkeys(t for t in map(current, disease.inheritance) if t))
        result.append(replace(disease, annotations=tuple(annotations), onsets=onsets, inheritance=inheritance))
    report = Reconciliation(
        annotation_release=annotation_release,
        ontology_release=graph.release,
        replaced_terms=dict(sorted(replaced.items())),
        replaced_rows=replaced_rows,
        dropped_terms=tuple(sorted(dropped)),
        dropped_rows=dropped_rows,
    )
    return result, report


@dataclass(frozen=True, slots=True)
class PooledTerm:
    """What all of a disease's rows for one term say together (see :func:`pool_rows`).

    Attributes
    ----------
    term : str
        The HPO id.
    frequency : float
        The estimated frequency (0 for a ``NOT`` annotation).
    negated : bool
        True when every row for the term says the disease does not have it.
    source : str
        The reviewed file's source when the term comes from it alone, else empty.
    """

    term: str
    frequency: float
    negated: bool
    source: str = ""


def pool_rows(annotations: Iterable[Annotation], *, mean: float, strength: float) -> list[PooledTerm]:
    """Pool a disease's rows term by term into one frequency each.

    Rows for the same term come from several publications of one annotation, or from a term
    and the obsolete id it replaces (:func:`reconcile`). Each row that states how often is
    an estimate of the same frequency:

    - patient counts (*n* of *m*) are added up over the rows, then read as the mean of a Beta
      posterior, ``(n + strength * mean) / (m + strength)``;
    - the estimates (that pooled count, each frequency class or percentage) are averaged;
    - a row without a frequency says that the feature occurs, not how often, and adds no
      estimate; a term no row gives a frequency for gets the corpus mean ``mean``;
    - a ``NOT`` row counts only when no row states the feature: a source that saw the
      feature outweighs one that did not.

    Parameters
    ----------
    annotations : Iterable[Annotation]
        The disease's rows, in file order.
    mean : float
        The corpus mean of the stated frequencies (0 to 1).
    strength : float
        The pseudo-count of the Beta prior
        (:attr:`~.parameters.ModelParameters.cohort_prior_strength`).

    Returns
    -------
    list of PooledTerm
        One per term, in the order the terms first appear.
    """
    by_term: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        by_term.setdefault(annotation.term, []).append(annotation)
    pooled: list[PooledTerm] = []
    for term, rows in by_term.items():
        positive = [a for a in rows if not a.negated]
        if not positive:
            pooled.append(PooledTerm(term, 0.0, True))
            continue
        estimates = [a.frequency for a in positive if a.cohort is None and a.frequency is not None]
        n = sum(a.cohort[0] for a in positive if a.cohort is not None)
        m = sum(a.cohort[1] for a in positive if a.cohort is not None)
        if any(a.cohort is not None for a in positive):
            estimates.append((n + strength * mean) / (m + strength))
        frequency = sum(estimates) / len(estimates) if estimates else mean
        reviewed = {r for a in positive if a.origin == "reviewed" for r in a.references}
        only_reviewed = all(a.origin == "reviewed" for a in positive)
        pooled.append(PooledTerm(term, frequency, False, ", ".join(sorted(reviewed)) if only_reviewed else ""))
    return pooled


def read_join(lines: Iterable[str], *, source: str = "mondo_join.tsv") -> list[tuple[str, tuple[str, ...]]]:
    """Read the join file (``tools/build_disease_join.py`` writes it).

    Returns
    -------
    list of (str, tuple of str)
        ``(MONDO id, its OMIM and Orphanet ids)`` per row, OMIM ids first.

    Raises
    ------
    KnowledgeBaseError
        When the header is missing, a row is not ``MONDO:n<TAB>ids``, or an id is in two rows.
    """
    problems: list[Problem] = []
    groups: list[tuple[str, tuple[str, ...]]] = []
    seen: dict[str, str] = {}
    header = False
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        if not header:
            header = line == "mondo_id\tids"
            if not header:
                problems.append(Problem(f"{source}:{number}", "expected the header 'mondo_id<TAB>ids'"))
                break
            continue
        mondo, _, rest = line.partition("\t")
        ids = tuple(rest.split())
        if not _MONDO.fullmatch(mondo) or len(ids) < 2 or not all(_JOINED.fullmatch(i) for i in ids):
            problems.append(
                Problem(f"{source}:{number}", f"{line[:60]!r} is not 'MONDO:n<TAB>two or more OMIM/ORPHA ids'")
            )
            continue
        for i in ids:
            if i in seen:
                problems.append(Problem(f"{source}:{number}", f"{i} is already joined to {seen[i]}"))
            seen[i] = mondo
        groups.append((mondo, ids))
    if not header and not problems:
        problems.append(Problem(source, "has no header line 'mondo_id<TAB>ids'"))
    if problems:
        raise KnowledgeBaseError(problems[:20])
    return groups


_MONDO = re.compile(r"MONDO:\d{7}")
_JOINED = re.compile(r"(?:OMIM:\d{6}|ORPHA:\d+)")


def join_diseases(
    diseases: Sequence[Disease], groups: Iterable[tuple[str, Sequence[str]]]
) -> tuple[list[Disease], int]:
    """Join the entries that name the same disease into one row.

    For each group (a MONDO disease and its OMIM and Orphanet ids, :func:`read_join`), the
    entries present in ``diseases`` become one :class:`Disease`: the first of them (OMIM
    before Orphanet) gives the id and name, the others become its ``aliases``. Its
    phenotype takes each term from the first entry that annotates it (source precedence:
    OMIM, whose annotations the HPO curators make from the clinical synopsis and published
    patient counts, then Orphanet, whose frequency classes fill in the terms OMIM lacks):
    two sources' statements about one term are not pooled, as an OMIM row without a
    frequency and an Orphanet class say different things (that the feature belongs to the
    disease; how often experts see it). Its onsets, inheritance and genes are the union of
    the entries'. The group's ids that no entry has (an OMIM entry newer than the annotation
    file, an Orphanet entry without annotations) name the same disease, and are added to the
    row's ``aliases`` too, so that a record naming any of them finds the row. A group with no
    entry present changes nothing.

    Returns
    -------
    tuple
        The diseases (each joined row where its first entry stood, the other entries
        removed) and how many entries were joined into another row.
    """
    position = {d.id: i for i, d in enumerate(diseases)}
    merged: dict[int, Disease] = {}
    absorbed: set[int] = set()
    for _, ids in groups:
        members = [position[i] for i in ids if i in position]
        if not members:
            continue
        unannotated = tuple(i for i in ids if i not in position)
        if len(members) == 1:
            if unannotated:
                only = merged.get(members[0], diseases[members[0]])
                merged[members[0]] = replace(only, aliases=tuple(dict.fromkeys((*only.aliases, *unannotated))))
            continue
        parts = [diseases[i] for i in members]
        first = parts[0]
        rows: list[Annotation] = []
        annotated: set[str] = set()
        for part in parts:
            rows += [a for a in part.annotations if a.term not in annotated]
            annotated.update(a.term for a in part.annotations)
        merged[members[0]] = replace(
            first,
            annotations=tuple(rows),
            onsets=tuple(dict.fromkeys(t for d in parts for t in d.onsets)),
            inheritance=tuple(dict.fromkeys(t for d in parts for t in d.inheritance)),
            genes=tuple(sorted({g for d in parts for g in d.genes})),
            aliases=tuple(dict.fromkeys([*(i for d in parts for i in d.ids if i != first.id), *unannotated])),
        )
        absorbed.update(members[1:])
    joined = [merged.get(i, d) for i, d in enumerate(diseases) if i not in absorbed]
    return joined, len(absorbed)


@dataclass(frozen=True, slots=True)
class BundledFile:
    """A data file shipped in the package, with the sha256 of its bytes as shipped."""

    name: str
    sha256: str
    package: str = "contraxis.data.hpo"

    def lines(self) -> Iterable[str]:
        """Yield the file's lines (uncompressed when the file is gzipped)."""
        with resources.files(self.package).joinpath(self.name).open("rb") as raw:
            if self.name.endswith(".gz"):
                with gzip.open(raw, "rt", encoding="utf-8") as text:
                    yield from text
            else:
                yield from (line.decode("utf-8") for line in raw)


HPOA_FILE = "phenotype.hpoa.gz"
GENES_FILE = "genes_to_phenotype.txt.gz"
JOIN_FILE = "mondo_join.tsv"
JOIN_PACKAGE = "contraxis.differential.data"


def _bundled(package: str, name: str) -> BundledFile:
    data = resources.files(package).joinpath(name).read_bytes()
    return BundledFile(name, hashlib.sha256(data).hexdigest(), package)


def bundled_files() -> tuple[BundledFile, ...]:
    """Return the data files the differential's diseases are read from, with their hashes:
    ``phenotype.hpoa``, ``genes_to_phenotype.txt`` and the MONDO join."""
    return (_bundled("contraxis.data.hpo", HPOA_FILE), _bundled("contraxis.data.hpo", GENES_FILE),
            _bundled(JOIN_PACKAGE, JOIN_FILE))


def bundled_join() -> list[tuple[str, tuple[str, ...]]]:
    """The MONDO join shipped in ``contraxis/differential/data`` (:func:`read_join`)."""
    join = _bundled(JOIN_PACKAGE, JOIN_FILE)
    return read_join(join.lines(), source=JOIN_FILE)


def read_bundled_diseases(ontology: Any, *, graph: TermGraph) -> tuple[list[Disease], Reconciliation]:
    """Read the shipped annotation files and reconcile them with the ``hpo3`` release, one
    entry per disease id (not yet joined: :func:`load_bundled_diseases` joins them).

    Diseases come from ``phenotype.hpoa`` (with frequencies, onsets and each row's
    references); the OMIM and Orphanet diseases that only the ``hpo3`` release knows are added
    from ``hpo3`` (without frequencies), and so are the phenotypes that ``hpo3`` links to a
    disease the annotation file already has (:func:`add_newer_links`). Genes come from
    ``genes_to_phenotype.txt``. An entry left without any phenotype is dropped.

    Parameters
    ----------
    ontology : pyhpo.Ontology
        The built ``hpo3`` ontology.
    graph : TermGraph
        ``TermGraph.from_hpo3(ontology)``.
    """
    hpoa, genes, _ = bundled_files()
    release, diseases = read_hpoa(hpoa.lines(), source=HPOA_FILE)
    links = read_gene_links(genes.lines(), source=GENES_FILE)
    reconciled, report = reconcile(diseases, graph=graph, annotation_release=release)
    in_annotation = {d.id for d in reconciled}
    in_ontology = {f"OMIM:{d.id}" for d in ontology.omim_diseases} | {f"ORPHA:{d.id}" for d in ontology.orpha_diseases}
    extra = diseases_from_hpo3(ontology, graph=graph, exclude=in_annotation)
    updated, newer_rows = add_newer_links(reconciled, ontology, graph=graph)
    everything = [replace(d, genes=links.get(d.id, ())) for d in updated] + extra
    kept = [d for d in everything if any(not a.negated for a in d.annotations)]
    report = replace(
        report,
        diseases_from_annotation=len(reconciled),
        diseases_only_in_ontology_release=len(extra),
        diseases_only_in_annotation_release=len(
            {d for d in in_annotation if not d.startswith("DECIPHER:")} - in_ontology
        ),
        diseases_without_phenotype=len(everything) - len(kept),
        rows_from_ontology_release=newer_rows,
    )
    return kept, report


def load_bundled_diseases(ontology: Any, *, graph: TermGraph) -> tuple[list[Disease], Reconciliation]:
    """The shipped diseases (:func:`read_bundled_diseases`), the entries that MONDO maps to
    the same disease joined into one row (:func:`join_diseases` over :func:`bundled_join`).

    Parameters
    ----------
    ontology : pyhpo.Ontology
        The built ``hpo3`` ontology.
    graph : TermGraph
        ``TermGraph.from_hpo3(ontology)``.
    """
    diseases, report = read_bundled_diseases(ontology, graph=graph)
    joined, count = join_diseases(diseases, bundled_join())
    return joined, replace(report, joined_entries=count)
