"""Leave-publication-out scoring: the differential without the annotations of one publication.

Many HPO annotations were curated from the same publications as the phenopackets used to
benchmark the differential: ``phenotype.hpoa`` gives each row's reference (``PMID:...``),
and a phenopacket names its publication (``metaData.externalReferences``). To measure the
differential as it would do on records from elsewhere, a :class:`PublicationMask` takes,
for a case's publications, every disease entry those publications describe and re-indexes
it without them, against the whole corpus's background frequencies (masking at scoring
time, :func:`masked_scores`; rebuilding the whole index per publication would give the same
figures to within the background frequencies of a few diseases, at a thousand times the cost).

What is left out for a publication ``P``:

- every annotation row whose references include ``P``;
- the rows that only the newer ``hpo3`` release links (they carry no reference, and most
  were curated from recent cohorts, which are the phenopacket publications) of every entry
  that a row citing ``P`` describes, and of every entry that a phenopacket of ``P`` names as
  its diagnosis (``named``): these links cannot be traced to their publication, so all of
  them are left out;

then the entries are joined and completed with the reviewed phenotypes as the index does.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .annotations import Disease, join_diseases
from .index import DifferentialIndex, build_index
from .knowledge import add_reviewed_phenotypes
from .model import Evidence, Scores, normalise, score
from .ontology import TermGraph

__all__ = ["Patch", "PublicationMask", "masked_scores"]


@dataclass(frozen=True, eq=False)
class Patch:
    """The rows of an index re-indexed without some publications.

    Attributes
    ----------
    publications : tuple of str
        The publications left out.
    rows : numpy.ndarray
        Positions in the full index of the rows replaced.
    index : DifferentialIndex
        The replacement rows, indexed against the full index's corpus statistics (its row
        ``i`` replaces full row ``rows[i]``).
    dropped : int
        How many annotation rows were left out.
    """

    publications: tuple[str, ...]
    rows: np.ndarray
    index: DifferentialIndex
    dropped: int


class PublicationMask:
    """Build the :class:`Patch` that leaves a case's publications out (one per publication set).

    Parameters
    ----------
    index : DifferentialIndex
        The full index.
    graph : TermGraph
        The ontology the index was built from.
    entries : Sequence[Disease]
        The disease entries before they were joined, with each row's references
        (:func:`~.annotations.read_bundled_diseases`).
    groups : Iterable[tuple[str, Sequence[str]]]
        The join (:func:`~.annotations.bundled_join`).
    named : Mapping[str, Iterable[str]], optional
        For each publication, the disease ids its phenopackets name as their diagnosis.
    """

    def __init__(
        self,
        index: DifferentialIndex,
        *,
        graph: TermGraph,
        entries: Sequence[Disease],
        groups: Iterable[tuple[str, Sequence[str]]],
        named: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.index = index
        self.graph = graph
        self.entries = {d.id: d for d in entries}
        self.groups = [(mondo, tuple(ids)) for mondo, ids in groups]
        self._group_of = {i: k for k, (_, ids) in enumerate(self.groups) for i in ids}
        cited: dict[str, set[str]] = defaultdict(set)
        for entry in entries:
            for annotation in entry.annotations:
                for reference in annotation.references:
                    cited[reference].add(entry.id)
        self._cited = dict(cited)
        self._named = {p: set(ids) for p, ids in (named or {}).items()}
        self._patches: dict[tuple[str, ...], Patch | None] = {}

    def described(self, publications: Iterable[str]) -> set[str]:
        """The entry ids a set of publications describes (cited or named)."""
        found: set[str] = set()
        for p in publications:
            found |= self._cited.get(p, set()) | self._named.get(p, set())
        return {i for i in found if i in self.entries}

    def cites(self, publications: Iterable[str], diagnoses: Iterable[str]) -> bool:
        """Whether an annotation row of one of the ``diagnoses`` (or of an entry joined with
        one of them) cites one of the ``publications``: whether the annotation was curated,
        at least in part, from the case's own publication."""
        ids = set(diagnoses)
        for i in list(ids):
            k = self._group_of.get(i)
            if k is not None:
                ids.update(self.groups[k][1])
        return any(self._cited.get(p, set()) & ids for p in publications)

    def patch(self, publications: Sequence[str]) -> Patch | None:
        """The patch that leaves ``publications`` out, or None when they describe no entry."""
        key = tuple(sorted(set(publications)))
        if key not in self._patches:
            self._patches[key] = self._build(key)
        return self._patches[key]

    def _build(self, publications: tuple[str, ...]) -> Patch | None:
        described = self.described(publications)
        if not described:
            return None
        left_out = set(publications)
        members: set[str] = set(described)
        for entry_id in described:
            k = self._group_of.get(entry_id)
            if k is not None:
                members.update(i for i in self.groups[k][1] if i in self.entries)
        dropped = 0
        masked: list[Disease] = []
        for entry_id in sorted(members):
            entry = self.entries[entry_id]
            if entry_id in described:
                kept = tuple(
                    a
                    for a in entry.annotations
                    if a.origin != "newer release" and not left_out.intersection(a.references)
                )
                dropped += len(entry.annotations) - len(kept)
                entry = replace(entry, annotations=kept)
            masked.append(entry)
        groups = [self.groups[k] for k in sorted({self._group_of[i] for i in members if i in self._group_of})]
        joined, _ = join_diseases(masked, groups)
        knowledge = self.index.knowledge
        if knowledge is not None:
            joined, _ = add_reviewed_phenotypes(joined, knowledge.phenotypes)
        position = self.index.disease_position
        joined = [d for d in joined if d.id in position]
        if not joined:
            return None
        small = build_index(
            self.graph, joined, parameters=self.index.parameters, reference=self.index, meta={"releases": {}}
        )
        rows = np.array([position[d.id] for d in joined], dtype=np.int64)
        return Patch(publications, rows, small, dropped)


def masked_scores(scores: Scores, evidence: Evidence, patch: Patch | None, index: DifferentialIndex) -> Scores:
    """The case's scores with the patch's rows scored on the patch instead.

    Parameters
    ----------
    scores : Scores
        The case scored on the full index (``score(evidence, index=index)``).
    evidence : Evidence
        The evidence scored, with its ``facts_log`` over the full index.
    patch : Patch or None
        The rows to replace (None: the scores unchanged).
    index : DifferentialIndex
        The full index.

    Returns
    -------
    Scores
        ``total``, ``log_odds`` and ``posterior`` with the patched rows replaced (the
        per-finding matrices are the full index's).
    """
    if patch is None:
        return scores
    facts = evidence.facts_log
    local = dataclasses.replace(evidence, facts_log=None if facts is None else np.asarray(facts)[patch.rows])
    small = score(local, index=patch.index)
    total = scores.total.copy()
    log_odds = scores.log_odds.copy()
    total[patch.rows] = small.total
    log_odds[patch.rows] = small.log_odds + index.log_prior[patch.rows]
    return dataclasses.replace(scores, total=total, log_odds=log_odds, posterior=normalise(log_odds))
