"""The Human Phenotype Ontology as the differential diagnosis needs it.

A :class:`TermGraph` holds the ids, names and *is-a* parents of the terms, plus the map from
obsolete ids to the terms that replace them. It is plain data: build it from the ``hpo3``
ontology with :meth:`TermGraph.from_hpo3`, or from a hand-drawn mini ontology with
:meth:`TermGraph.from_mapping` (as the tests do), and the index builder never needs to know
which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from contraxis.errors import KnowledgeBaseError, Problem

__all__ = [
    "ONSET_ROOT",
    "PHENOTYPIC_ABNORMALITY",
    "TermGraph",
]

PHENOTYPIC_ABNORMALITY = "HP:0000118"
"""Root of the phenotype terms; its children are the organ systems of the explanations."""

ONSET_ROOT = "HP:0003674"
"""Root of the onset terms (``Onset``)."""


@dataclass(frozen=True, slots=True)
class TermGraph:
    """The terms of one ontology release and their *is-a* parents.

    Parameters
    ----------
    ids : tuple of str
        Current (non-obsolete) term ids, e.g. ``HP:0001332``.
    names : tuple of str
        The label of each term, in the order of ``ids``.
    parents : tuple of tuple of int
        For each term, the positions in ``ids`` of its direct parents.
    replaced_by : Mapping[str, str]
        Obsolete or alternative ids mapped to the current id that replaces them.
    release : str
        The release the terms come from, e.g. ``2025-11-24``.
    """

    ids: tuple[str, ...]
    names: tuple[str, ...]
    parents: tuple[tuple[int, ...], ...]
    replaced_by: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    release: str = ""

    @classmethod
    def from_mapping(
        cls,
        terms: Mapping[str, tuple[str, Sequence[str]]],
        *,
        release: str,
        replaced_by: Mapping[str, str] | None = None,
    ) -> TermGraph:
        """Build a graph from ``{id: (name, [parent ids])}``.

        Parameters
        ----------
        terms : Mapping[str, tuple[str, Sequence[str]]]
            Every term with its name and the ids of its parents.
        release : str
            A name for the release (tests use e.g. ``mini-1``).
        replaced_by : Mapping[str, str], optional
            Obsolete ids and the current ids that replace them.

        Raises
        ------
        KnowledgeBaseError
            When a parent or a replacement is not one of the terms, or the graph has a cycle.
        """
        ids = tuple(terms)
        position = {term: i for i, term in enumerate(ids)}
        problems: list[Problem] = []
        parents: list[tuple[int, ...]] = []
        for term, (_, term_parents) in terms.items():
            known = []
            for parent in term_parents:
                if parent in position:
                    known.append(position[parent])
                else:
                    problems.append(Problem(f"ontology: {term}", f"parent {parent!r} is not a term of the ontology"))
            parents.append(tuple(known))
        replacements = dict(replaced_by or {})
        for old, new in replacements.items():
            if new not in position:
                problems.append(Problem(f"ontology: {old}", f"replacement {new!r} is not a term of the ontology"))
        if problems:
            raise KnowledgeBaseError(problems)
        graph = cls(
            ids=ids,
            names=tuple(name for name, _ in terms.values()),
            parents=tuple(parents),
            replaced_by=MappingProxyType(replacements),
            release=release,
        )
        graph.topological_order()  # raises on a cycle
        return graph

    @classmethod
    def from_hpo3(cls, ontology: Any) -> TermGraph:
        """Take the current terms of a built ``pyhpo.Ontology`` (hpo3).

        Obsolete terms are left out; their ids map to their ``replaced_by`` term when it is
        current, and are otherwise unknown.

        Parameters
        ----------
        ontology : pyhpo.Ontology
            The built ontology (see :meth:`contraxis.codes.HpoOntology.load`).
        """
        current = [term for term in ontology if not term.is_obsolete]
        current.sort(key=lambda term: term.id)
        position = {term.id: i for i, term in enumerate(current)}
        parents = tuple(
            tuple(sorted(position[p.id] for p in term.parents if p.id in position)) for term in current
        )
        replaced: dict[str, str] = {}
        for term in ontology:
            if term.is_obsolete and term.replaced_by in position:
                replaced[term.id] = term.replaced_by
        return cls(
            ids=tuple(term.id for term in current),
            names=tuple(term.name for term in current),
            parents=parents,
            replaced_by=MappingProxyType(replaced),
            release=str(ontology.version()),
        )

    def position(self) -> dict[str, int]:
        """Return ``{id: position}`` for every current term."""
        return {term: i for i, term in enumerate(self.ids)}

    def topological_order(self) -> list[int]:
        """Return the term positions ordered parents first.

        Raises
        ------
        KnowledgeBaseError
            When the *is-a* graph has a cycle.
        """
        children: list[list[int]] = [[] for _ in self.ids]
        waiting = [len(p) for p in self.parents]
        for child, term_parents in enumerate(self.parents):
            for parent in term_parents:
                children[parent].append(child)
        order = [i for i, n in enumerate(waiting) if n == 0]
        for i in order:  # the list grows while it is walked
            for child in children[i]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    order.append(child)
        if len(order) != len(self.ids):
            stuck = sorted(self.ids[i] for i, n in enumerate(waiting) if n > 0)[:5]
            raise KnowledgeBaseError([Problem("ontology", f"the is-a graph has a cycle through {', '.join(stuck)}")])
        return order

