"""What a compiled condition reads of a case: a frozen view of its facts and of what the
steps before the rule's own have concluded.

The condition language (:mod:`contraxis.knowledge.conditions`) is compiled against these
protocols only; :class:`contraxis.reasoning.facts.View` implements them. The knowledge
package therefore needs nothing of the reasoning package, which reads the knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

__all__ = ["CaseView", "DrugView", "LabView", "Used", "Value"]

#: The facts a condition used when it holds: short sentences ("present: HP:0000473 Torticollis").
Used = tuple[str, ...]

#: The value of a variable of the facts (:data:`~contraxis.knowledge.conditions.VARIABLE_TYPES`):
#: a word of the vocabulary or free text, a number, a yes-or-no, or None when not known.
Value = str | float | bool | None


class LabView(Protocol):
    """The latest result of one analyte, in the knowledge base's unit, as an interval."""

    @property
    def shown(self) -> str:
        """The result as a laboratory reports it ("7.1 mg/dL, 2 days ago")."""
        ...

    def below(self, limit: float) -> bool:
        """Whether the result is below ``limit`` for certain."""
        ...

    def above(self, limit: float) -> bool:
        """Whether the result is above ``limit`` for certain."""
        ...

    def at_least(self, limit: float) -> bool:
        """Whether the result is at least ``limit`` for certain."""
        ...


class DrugView(Protocol):
    """One ingredient of a drug the case gives, with the days of its medication."""

    @property
    def display(self) -> str:
        """The drug as given with its ingredient ('Reglan (metoclopramide)')."""
        ...

    @property
    def days_since_start(self) -> int | None: ...

    @property
    def days_since_dose_increase(self) -> int | None: ...


class CaseView(Protocol):
    """The facts of one case and what the steps so far concluded, never changed once built.

    Codes are HPO ids or local ``CX:`` codes; regions, history codes, genes and treatments
    are words of the case format.
    """

    @property
    def present(self) -> frozenset[str]:
        """Finding codes given as present (MRI findings included)."""
        ...

    @property
    def absent(self) -> frozenset[str]:
        """Finding codes looked for and found absent."""
        ...

    @property
    def regions(self) -> frozenset[str]: ...

    @property
    def history(self) -> frozenset[str]: ...

    @property
    def labs(self) -> Mapping[str, LabView]:
        """Test id of ``labs.yaml`` -> its latest result."""
        ...

    @property
    def alerts(self) -> frozenset[str]:
        """The alerts raised so far."""
        ...

    @property
    def gene_positive(self) -> frozenset[str]: ...

    @property
    def gene_tested(self) -> frozenset[str]: ...

    @property
    def tried(self) -> Sequence[tuple[str, str]]:
        """(treatment, response) of each treatment tried."""
        ...

    @property
    def taking(self) -> Sequence[tuple[str, str]]:
        """(ingredient, treatment it counts as) of each drug taken now that is a treatment."""
        ...

    @property
    def variables(self) -> Mapping[str, Value]:
        """Every variable's value (``var`` of each), for the conditions that read many."""
        ...

    def var(self, name: str) -> Value:
        """The value of a variable (a case field or a step's conclusion); None when not known."""
        ...

    def known(self, name: str) -> bool:
        """Whether a variable, or a case field, is known for this case."""
        ...

    def label(self, code: str) -> str:
        """The name of a finding or history code ('' when unknown)."""
        ...

    def drugs_in(self, cls: str) -> Sequence[DrugView]:
        """The drugs of the case in a drug class of ``drugs.yaml``."""
        ...

    def started_before_onset(self, drug: DrugView) -> bool:
        """Whether the drug was started before the movement began (True when unknown)."""
        ...

    def definition(self, name: str) -> Used | None:
        """The facts a definition of ``definitions.yaml`` used when it holds, else None."""
        ...

    def gene_class(self, gene: str) -> str | None:
        """The class of a gene of ``genes.yaml`` (None when not there)."""
        ...
