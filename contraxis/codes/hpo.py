"""HPO: the ontology bundled in ``hpo3`` (module ``pyhpo``), handed around as a value."""

from __future__ import annotations

from typing import Any

from .patterns import HPO_ID

__all__ = ["HpoOntology"]


class HpoOntology:
    """The HPO ontology of ``hpo3``, handed around as an explicit value.

    ``hpo3`` keeps one ontology per process inside its Rust library (``pyhpo.Ontology``);
    this wrapper builds it once if needed (without the library's "built before" message)
    and gives it to the code that needs it.

    Parameters
    ----------
    ontology : pyhpo.Ontology
        The built ontology.
    """

    __slots__ = ("ontology", "release")

    def __init__(self, ontology: Any) -> None:
        self.ontology = ontology
        self.release: str = ontology.version()

    @classmethod
    def load(cls) -> HpoOntology:
        """Build the process-wide ``hpo3`` ontology if it is not built yet, and wrap it.

        Returns
        -------
        HpoOntology
            The wrapped ontology.
        """
        from pyhpo import Ontology

        try:
            Ontology.version()
        except NameError:  # hpo3 raises NameError until the ontology is built
            Ontology()
        return cls(Ontology)

    def term(self, hpo_id: str) -> Any | None:
        """Return the ``pyhpo.HPOTerm`` for ``HP:nnnnnnn``, or None if the release lacks it."""
        if not isinstance(hpo_id, str) or HPO_ID.fullmatch(hpo_id) is None:
            return None
        try:
            return self.ontology.hpo(int(hpo_id[3:]))
        except (KeyError, ValueError):
            return None

    def is_current(self, hpo_id: str) -> bool:
        """Tell whether the release holds ``hpo_id`` and it is not obsolete."""
        term = self.term(hpo_id)
        return term is not None and not term.is_obsolete
