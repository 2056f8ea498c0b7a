"""The differential's index: every disease's phenotype, precomputed once for fast scoring.

:func:`build_index` turns an ontology (:class:`~contraxis.differential.ontology.TermGraph`)
and a list of diseases (:class:`~contraxis.differential.annotations.Disease`) into a
:class:`DifferentialIndex` of NumPy arrays. It is a pure function, so the tests build an
index from a hand-drawn mini ontology; :func:`contraxis.differential.load_index` builds the
real one from the bundled HPO files and the knowledge base, and caches it on disk.

The arrays (``T`` terms, ``D`` diseases; a "column" is the slice of a CSC layout for one
term, a "row" the slice of a CSR layout for one disease):

==================  ====================================================================
``anc_*``/``desc_*``  each term's ancestors / descendants, itself included
``category``        the organ system (child of Phenotypic abnormality) a term falls under
``implied_*``       column *t*: ``F(t | d)``, how often disease *d* shows *t* or a term
                    below it (its largest annotated frequency under *t*)
``background``      ``F(t)`` averaged over the Mendelian diseases, plus one pseudo-disease
                    with the mean frequency so that no term has a background of zero
``share``           fraction of the Mendelian diseases showing *t* (``F(t | d) > 0``)
``credit_*``        column *c*: ``log10`` likelihood ratio credited to a finding *below* *c*:
                    ``f(c | d) / background(c)`` when *d* is annotated to *c* itself, else
                    ``related_credit * F(c | d) / background(c)``
``negated_*``       column *t*: diseases annotated ``NOT`` *t*
``unexplained``     ``log10`` likelihood ratio of a finding a disease cannot explain
``unmentioned_*``   column *t*: the diseases whose topmost annotations include *t*, and
                    ``F(t | d)``; ``unmentioned_table[k]`` sums per disease the ``log10``
                    LR of every topmost annotation left unmentioned by a record naming
                    *k* findings (see :func:`unmentioned_log`)
``ann_*``           row *d*: the direct annotations and their estimated frequencies, each
                    one's ``F(t | d)`` (``ann_implied``), whether it is topmost, and the
                    reviewed source of a term the HPO annotation lacks (``ann_source``)
``onset``           ``(D, 9)``: each disease's distribution over the onset bands
                    (``onset_known``: whether the disease has onset annotations)
``log_prior``       ``log10`` pretest weight (0 for a Mendelian disease)
==================  ====================================================================
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from contraxis.errors import KnowledgeBaseError, Problem

from .annotations import Disease, pool_rows
from .onset import BANDS, bands_of_term
from .ontology import PHENOTYPIC_ABNORMALITY, TermGraph
from .parameters import ModelParameters

__all__ = ["DifferentialIndex", "build_index", "unmentioned_log"]

KIND_MENDELIAN = 0
KIND_ACQUIRED = 1

ARRAYS = (
    "anc_ptr", "anc_idx", "desc_ptr", "desc_idx", "category", "background", "share", "unexplained",
    "implied_ptr", "implied_rows", "implied_freq",
    "credit_ptr", "credit_rows", "credit_log",
    "negated_ptr", "negated_rows",
    "unmentioned_ptr", "unmentioned_rows", "unmentioned_freq", "unmentioned_table",
    "ann_ptr", "ann_term", "ann_freq", "ann_negated", "ann_source", "ann_topmost", "ann_implied",
    "gene_ptr", "gene_idx", "kind", "release", "log_prior", "onset", "onset_background", "onset_known",
)
"""The arrays every index holds (and its cache file stores)."""


@dataclass(frozen=True, eq=False)
class DifferentialIndex:
    """Everything the model needs, as arrays; made by :func:`build_index`.

    Attributes
    ----------
    meta : Mapping[str, Any]
        JSON-ready facts recorded at build time: ``releases``, ``reconciliation``,
        ``parameters``, ``mean_frequency``, ``expected_features``, ``reference_diseases``,
        ``disease_releases``.
    term_ids, term_names : tuple of str
        The ontology's current terms.
    replaced_by : Mapping[str, str]
        Obsolete term ids and their current replacements.
    disease_ids, disease_names : tuple of str
        Every disease (and acquired cause) ranked.
    genes : tuple of str
        Gene symbols, indexed by ``gene_idx``.
    arrays : Mapping[str, numpy.ndarray]
        The arrays of :data:`ARRAYS` (also readable as attributes: ``index.background``).
    knowledge : Any
        The reviewed knowledge the ranking uses beside the arrays (acquired causes,
        laboratory mapping, genetic dystonias): a
        :class:`~contraxis.differential.knowledge.DifferentialKnowledge`, or None.
    disease_aliases : tuple of tuple of str
        Per disease, its other ids (the entries joined into its row); empty tuples when
        none was joined. ``disease_position`` finds a row by any of its ids.
    """

    meta: Mapping[str, Any]
    term_ids: tuple[str, ...]
    term_names: tuple[str, ...]
    replaced_by: Mapping[str, str]
    disease_ids: tuple[str, ...]
    disease_names: tuple[str, ...]
    genes: tuple[str, ...]
    arrays: Mapping[str, np.ndarray]
    knowledge: Any = None
    disease_aliases: tuple[tuple[str, ...], ...] = ()
    term_position: Mapping[str, int] = field(init=False, repr=False)
    disease_position: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        missing = [name for name in ARRAYS if name not in self.arrays]
        if missing:
            raise KnowledgeBaseError([Problem("differential index", f"missing arrays: {', '.join(missing)}")])
        object.__setattr__(self, "term_position", {t: i for i, t in enumerate(self.term_ids)})
        if not self.disease_aliases:
            object.__setattr__(self, "disease_aliases", tuple(() for _ in self.disease_ids))
        position = {alias: i for i, aliases in enumerate(self.disease_aliases) for alias in aliases}
        position.update((d, i) for i, d in enumerate(self.disease_ids))
        object.__setattr__(self, "disease_position", position)
        for name in ARRAYS:  # arrays read as plain attributes: ``index.background``
            object.__setattr__(self, name, self.arrays[name])

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    @property
    def n_terms(self) -> int:
        """Number of ontology terms."""
        return len(self.term_ids)

    @property
    def n_diseases(self) -> int:
        """Number of diseases ranked (acquired causes included)."""
        return len(self.disease_ids)

    @property
    def releases(self) -> dict[str, str]:
        """The data releases the index was built from (``annotation``, ``ontology``...)."""
        return dict(self.meta.get("releases", {}))

    @functools.cached_property
    def parameters(self) -> ModelParameters:
        """The model constants the index was built with."""
        return ModelParameters(**self.meta["parameters"])

    def reporting_rate(self, findings: int) -> float:
        """The probability that a record naming ``findings`` findings mentions a feature."""
        return self.parameters.reporting_rate(findings, float(self.meta["expected_features"]))

    def unmentioned_totals(self, findings: int) -> np.ndarray:
        """Per disease, the ``log10`` LR of all its topmost annotations left unmentioned by
        a record naming ``findings`` findings."""
        table = self.unmentioned_table
        return table[min(findings, len(table) - 1)]

    def ancestors(self, term: int) -> np.ndarray:
        """Positions of a term's ancestors, itself included."""
        return self.anc_idx[self.anc_ptr[term] : self.anc_ptr[term + 1]]

    def descendants(self, term: int) -> np.ndarray:
        """Positions of a term's descendants, itself included."""
        return self.desc_idx[self.desc_ptr[term] : self.desc_ptr[term + 1]]

    def implied(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        """The diseases showing ``term`` (or a term below it), and how often."""
        start, end = self.implied_ptr[term], self.implied_ptr[term + 1]
        return self.implied_rows[start:end], self.implied_freq[start:end]

    def annotations_of(self, disease: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A disease's direct annotations: term positions, frequencies, negated flags."""
        start, end = self.ann_ptr[disease], self.ann_ptr[disease + 1]
        return self.ann_term[start:end], self.ann_freq[start:end], self.ann_negated[start:end]

    def ids_of(self, disease: int) -> tuple[str, ...]:
        """Every id of a disease's row: its own, then the entries joined into it."""
        return (self.disease_ids[disease], *self.disease_aliases[disease])

    def annotation_source(self, disease: int, term: int) -> str:
        """The reviewed source of a disease's direct annotation of ``term`` when the term comes
        from the differential's reviewed phenotype file alone; else empty."""
        start, end = int(self.ann_ptr[disease]), int(self.ann_ptr[disease + 1])
        at = start + int(np.searchsorted(self.ann_term[start:end], term))
        if at < end and self.ann_term[at] == term and self.ann_source[at] >= 0:
            return str(self.meta["annotation_sources"][int(self.ann_source[at])])
        return ""

    def genes_of(self, disease: int) -> tuple[str, ...]:
        """Gene symbols linked to a disease."""
        start, end = self.gene_ptr[disease], self.gene_ptr[disease + 1]
        return tuple(self.genes[i] for i in self.gene_idx[start:end])

    def disease_release(self, disease: int) -> str:
        """The release a disease's annotations come from."""
        return str(self.meta["disease_releases"][int(self.release[disease])])


def unmentioned_log(freq: Any, background: Any, rate: float) -> Any:
    """``log10`` LR of annotated features the record does not mention.

    ``(1 - rate * F) / (1 - rate * background)``: a feature the patient has reaches the
    record with probability ``rate``, so its absence from the record is likelier for a
    disease that rarely shows it (see ``reporting`` in
    :class:`~contraxis.differential.parameters.ModelParameters`).
    """
    return np.log10((1.0 - rate * freq) / (1.0 - rate * background))


def _csr(groups: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(groups) + 1, dtype=np.int64)
    np.cumsum([len(g) for g in groups], out=ptr[1:])
    idx = np.fromiter((i for g in groups for i in g), dtype=np.int32, count=int(ptr[-1]))
    return ptr, idx


def _pointer(cols: np.ndarray, n_cols: int) -> np.ndarray:
    ptr = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=n_cols), out=ptr[1:])
    return ptr


def _gather(ptr: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the CSR slices of ``rows``; return them and which of ``rows`` each came from."""
    lengths = ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return idx[np.repeat(ptr[rows], lengths) + offsets], owner


def _lineage(graph: TermGraph) -> tuple[list[list[int]], list[list[int]]]:
    """Each term's ancestors and descendants, itself included, sorted."""
    sets: list[set[int]] = [set() for _ in graph.ids]
    for i in graph.topological_order():
        own = {i}
        for parent in graph.parents[i]:
            own |= sets[parent]
        sets[i] = own
    ancestors = [sorted(s) for s in sets]
    descendants: list[list[int]] = [[] for _ in graph.ids]
    for t, anc in enumerate(ancestors):
        for a in anc:
            descendants[a].append(t)
    return ancestors, descendants


def _onset(
    diseases: Sequence[Disease], reference: np.ndarray, parameters: ModelParameters, *, background: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_bands = len(BANDS)
    spread = parameters.onset_spread
    raw = np.zeros((len(diseases), n_bands))
    has = np.zeros(len(diseases), dtype=bool)
    for d, disease in enumerate(diseases):
        bands = sorted({b for term in disease.onsets for b in bands_of_term(term)})
        for b in bands:
            share = 1.0 / len(bands)
            raw[d, b] += share * (1 - 2 * spread)
            for neighbour in (b - 1, b + 1):
                # at either end of the bands the missing neighbour's share stays put
                raw[d, neighbour if 0 <= neighbour < n_bands else b] += share * spread
        has[d] = bool(bands)
    if background is None:
        chosen = has & reference
        background = raw[chosen].mean(axis=0) if chosen.any() else np.full(n_bands, 1.0 / n_bands)
    mixed = (1 - parameters.onset_atypical) * raw + parameters.onset_atypical * background
    onset = np.where(has[:, None], mixed, background)
    return onset.astype(np.float32), background, has


def build_index(
    graph: TermGraph,
    diseases: Sequence[Disease],
    *,
    parameters: ModelParameters = ModelParameters(),
    priors: Mapping[str, float] | None = None,
    meta: Mapping[str, Any] | None = None,
    knowledge: Any = None,
    reference: DifferentialIndex | None = None,
) -> DifferentialIndex:
    """Precompute everything the model needs from an ontology and annotated diseases.

    Parameters
    ----------
    graph : TermGraph
        The ontology; it must contain ``HP:0000118`` (Phenotypic abnormality).
    diseases : Sequence[Disease]
        The diseases to rank, their terms current in ``graph`` (see
        :func:`~contraxis.differential.annotations.reconcile`). Annotations to terms the
        graph lacks, or outside Phenotypic abnormality, are skipped.
    parameters : ModelParameters
        The model constants.
    priors : Mapping[str, float], optional
        Pretest weight of a disease relative to one Mendelian disease (1 when not given).
    meta : Mapping[str, Any], optional
        Kept in ``index.meta`` (releases, reconciliation counts...).
    knowledge : DifferentialKnowledge, optional
        Kept as ``index.knowledge``.
    reference : DifferentialIndex, optional
        An index built from the same ``graph`` whose corpus statistics (background
        frequencies, the mean stated frequency, the expected number of features, the onset
        background) and term lineage are used instead of being computed from ``diseases``:
        a few diseases re-indexed against the whole corpus, as the leave-publication-out
        benchmark does (:func:`contraxis.differential.benchmark.run_benchmark`).

    Raises
    ------
    KnowledgeBaseError
        When the graph has no Phenotypic abnormality term, a disease id is repeated, or
        no disease is Mendelian.
    """
    position = graph.position()
    if PHENOTYPIC_ABNORMALITY not in position:
        raise KnowledgeBaseError(
            [Problem("ontology", f"has no {PHENOTYPIC_ABNORMALITY} (Phenotypic abnormality) term")]
        )
    ids = [d.id for d in diseases]
    every_id = [i for d in diseases for i in d.ids]
    if len(set(every_id)) != len(every_id):
        seen: set[str] = set()
        repeated = sorted({i for i in every_id if i in seen or seen.add(i)})[:5]  # type: ignore[func-returns-value]
        raise KnowledgeBaseError([Problem("diseases", f"disease ids repeated: {', '.join(repeated)}")])
    n_terms, n_diseases = len(graph.ids), len(diseases)
    root = position[PHENOTYPIC_ABNORMALITY]

    if reference is None:
        ancestors, descendants = _lineage(graph)
        anc_ptr, anc_idx = _csr(ancestors)
        desc_ptr, desc_idx = _csr(descendants)
        organ_systems = {i for i, parents in enumerate(graph.parents) if root in parents}
        category = np.array(
            [min((a for a in anc if a in organ_systems), default=-1) for anc in ancestors], dtype=np.int32
        )
    else:
        if reference.term_ids != tuple(graph.ids):
            raise ValueError("the reference index was built from another ontology")
        anc_ptr, anc_idx = reference.arrays["anc_ptr"], reference.arrays["anc_idx"]
        desc_ptr, desc_idx = reference.arrays["desc_ptr"], reference.arrays["desc_idx"]
        category = reference.arrays["category"]
    has_root = np.zeros(n_terms, dtype=bool)
    has_root[np.repeat(np.arange(n_terms), np.diff(anc_ptr))[anc_idx == root]] = True
    is_phenotype = has_root & (np.arange(n_terms) != root)

    kind = np.array([KIND_ACQUIRED if d.kind == "acquired" else KIND_MENDELIAN for d in diseases], dtype=np.int8)
    mendelian = kind == KIND_MENDELIAN
    n_reference = int(mendelian.sum())
    if reference is not None:
        mean = float(reference.meta["mean_frequency"])
    else:
        if n_reference == 0:
            raise KnowledgeBaseError(
                [Problem("diseases", "no Mendelian disease to estimate background frequencies from")]
            )
        stated = [
            a.cohort[0] / a.cohort[1] if a.cohort else a.frequency
            for d in diseases
            if d.kind == "mendelian"
            for a in d.annotations
            if not a.negated and (a.cohort or a.frequency is not None)
        ]
        # The mean stated frequency stands in where an annotation gives none, and centres the
        # prior that smooths n-of-m frequencies (empirical Bayes).
        mean = float(np.mean(stated)) if stated else 0.5

    rows: list[list[tuple[int, bool, float, str]]] = []
    for disease in diseases:
        kept: dict[int, tuple[int, bool, float, str]] = {}
        for pooled in pool_rows(disease.annotations, mean=mean, strength=parameters.cohort_prior_strength):
            t = position.get(pooled.term)
            if t is not None and is_phenotype[t]:
                kept[t] = (t, pooled.negated, pooled.frequency, pooled.source)
        rows.append(sorted(kept.values()))
    source_names = sorted({r[3] for row in rows for r in row if r[3]})
    ann_ptr = np.zeros(n_diseases + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=ann_ptr[1:])
    ann_term = np.array([r[0] for row in rows for r in row], dtype=np.int32)
    ann_negated = np.array([r[1] for row in rows for r in row], dtype=bool)
    ann_freq = np.array([r[2] for row in rows for r in row], dtype=np.float32)
    ann_source = np.array([source_names.index(r[3]) if r[3] else -1 for row in rows for r in row], dtype=np.int16)
    ann_disease = np.repeat(np.arange(n_diseases, dtype=np.int32), np.diff(ann_ptr))
    positive = ~ann_negated

    # F(t | d): each positive annotation propagated to its ancestors, the largest kept.
    terms_up, owner = _gather(anc_ptr, anc_idx, ann_term[positive])
    rows_up = ann_disease[positive][owner]
    freq_up = ann_freq[positive][owner]
    keep = is_phenotype[terms_up]
    key = terms_up[keep].astype(np.int64) * n_diseases + rows_up[keep]
    freq_up = freq_up[keep]
    order = np.lexsort((-freq_up, key))
    key, freq_up = key[order], freq_up[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, implied_freq = key[first], freq_up[first].astype(np.float32)
    implied_cols = (key // n_diseases).astype(np.int32)
    implied_rows = (key % n_diseases).astype(np.int32)
    implied_ptr = _pointer(implied_cols, n_terms)

    low, high = math.log10(parameters.unexplained_rare), math.log10(parameters.unexplained_floor)
    if reference is None:
        in_reference = mendelian[implied_rows]
        total = np.bincount(implied_cols, weights=implied_freq * in_reference, minlength=n_terms)
        background = np.minimum((total + mean) / (n_reference + 1), 1.0 - 1e-6)
        share = np.bincount(implied_cols, weights=in_reference, minlength=n_terms) / (n_reference + 1)

        # log10 LR of a finding a disease cannot explain: from unexplained_rare for the rarest
        # findings to unexplained_floor for common ones, linear in log10(background).
        rare = math.log10(mean / (n_reference + 1))
        common = math.log10(parameters.common_background)
        slope = (high - low) / (common - rare) if common > rare else 0.0
        unexplained = np.clip(low + (np.log10(background) - rare) * slope, low, high).astype(np.float32)
    else:
        background, share, unexplained = reference.background, reference.share, reference.unexplained

    # Credit through an ancestor c: full for a disease annotated at c, related_credit otherwise.
    credit = parameters.related_credit * implied_freq.astype(np.float64)
    direct_key = ann_term[positive].astype(np.int64) * n_diseases + ann_disease[positive]
    direct_at = np.searchsorted(key, direct_key)
    credit[direct_at] = np.maximum(credit[direct_at], ann_freq[positive])
    credit_log = np.log10(credit / background[implied_cols])
    strong = credit_log > low  # at or below the lowest floor it can never win the maximum
    credit_rows = implied_rows[strong]
    credit_ptr = _pointer(implied_cols[strong], n_terms)
    credit_log = credit_log[strong].astype(np.float32)

    # Topmost annotations (none of the disease's other annotations above them), and what
    # each costs when the record leaves it unmentioned.
    topmost = np.zeros(len(ann_term), dtype=bool)
    for d in range(n_diseases):
        start, end = int(ann_ptr[d]), int(ann_ptr[d + 1])
        own = {int(t) for t, neg in zip(ann_term[start:end], ann_negated[start:end], strict=True) if not neg}
        for j in range(start, end):
            if not ann_negated[j]:
                t = int(ann_term[j])
                topmost[j] = not any(a in own for a in anc_idx[anc_ptr[t] : anc_ptr[t + 1]].tolist() if a != t)
    # What each costs when the record leaves it unmentioned depends on how much the record
    # says (parameters.reporting_rate): one row per number of findings, up to the ceiling.
    ann_implied = np.zeros(len(ann_term), dtype=np.float32)
    ann_implied[positive] = implied_freq[direct_at]
    top_freq = ann_implied[topmost].astype(np.float64)
    top_rows = ann_disease[topmost]
    top_background = background[ann_term[topmost]]
    if reference is None:
        expected_features = float(np.bincount(top_rows, weights=top_freq, minlength=n_diseases)[mendelian].mean())
    else:
        expected_features = float(reference.meta["expected_features"])
    unmentioned_table = np.stack(
        [
            np.bincount(
                top_rows,
                weights=unmentioned_log(top_freq, top_background, parameters.reporting_rate(k, expected_features)),
                minlength=n_diseases,
            )
            for k in range(parameters.reporting_steps(expected_features) + 1)
        ]
    )
    order = np.lexsort((top_rows, ann_term[topmost]))
    unmentioned_ptr = _pointer(ann_term[topmost], n_terms)
    unmentioned_rows = top_rows[order]
    unmentioned_freq = top_freq[order].astype(np.float32)

    order = np.lexsort((ann_disease[ann_negated], ann_term[ann_negated]))
    negated_ptr = _pointer(ann_term[ann_negated], n_terms)
    negated_rows = ann_disease[ann_negated][order]

    gene_symbols = sorted({g for d in diseases for g in d.genes})
    gene_position = {g: i for i, g in enumerate(gene_symbols)}
    gene_ptr, gene_idx = _csr([[gene_position[g] for g in d.genes] for d in diseases])

    onset, onset_background, onset_known = _onset(
        diseases, mendelian, parameters, background=None if reference is None else reference.onset_background
    )
    weights = priors or {}
    log_prior = np.array([math.log10(weights.get(d.id, 1.0)) for d in diseases])
    release_names = sorted({d.release for d in diseases})
    release = np.array([release_names.index(d.release) for d in diseases], dtype=np.int8)

    arrays = {
        "anc_ptr": anc_ptr, "anc_idx": anc_idx, "desc_ptr": desc_ptr, "desc_idx": desc_idx,
        "category": category, "background": background, "share": share, "unexplained": unexplained,
        "implied_ptr": implied_ptr, "implied_rows": implied_rows, "implied_freq": implied_freq,
        "credit_ptr": credit_ptr, "credit_rows": credit_rows, "credit_log": credit_log,
        "negated_ptr": negated_ptr, "negated_rows": negated_rows,
        "unmentioned_ptr": unmentioned_ptr, "unmentioned_rows": unmentioned_rows,
        "unmentioned_freq": unmentioned_freq, "unmentioned_table": unmentioned_table,
        "ann_ptr": ann_ptr, "ann_term": ann_term, "ann_freq": ann_freq, "ann_negated": ann_negated,
        "ann_source": ann_source, "ann_topmost": topmost, "ann_implied": ann_implied,
        "gene_ptr": gene_ptr, "gene_idx": gene_idx, "kind": kind, "release": release,
        "log_prior": log_prior, "onset": onset, "onset_background": onset_background, "onset_known": onset_known,
    }
    info = dict(meta or {})
    info.update({
        "parameters": parameters.to_dict(),
        "mean_frequency": mean,
        "expected_features": expected_features,
        "reference_diseases": n_reference if reference is None else reference.meta["reference_diseases"],
        "disease_releases": release_names,
        "annotation_sources": source_names,
    })
    return DifferentialIndex(
        meta=info,
        term_ids=tuple(graph.ids),
        term_names=tuple(graph.names),
        replaced_by=dict(graph.replaced_by),
        disease_ids=tuple(ids),
        disease_names=tuple(d.name for d in diseases),
        disease_aliases=tuple(d.aliases for d in diseases),
        genes=tuple(gene_symbols),
        arrays=arrays,
        knowledge=knowledge,
    )
